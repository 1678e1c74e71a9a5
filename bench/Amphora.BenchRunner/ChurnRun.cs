namespace Amphora.BenchRunner;

/// <summary><c>amphora-bench --churn</c>: the churn scenario against Prometheus, then Amphora, one table, the docs section.</summary>
public static class ChurnRun
{
    /// <summary>Runs both systems (made by <paramref name="create"/> from a system name); returns 0 when Amphora meets the
    /// targets, 1 when not (the table says which).</summary>
    public static async Task<int> RunAsync(ChurnSettings settings, Func<string, SystemUnderTest> create, string? output, string cores)
    {
        var results = new Dictionary<string, ChurnFigures>();
        foreach (string system in settings.Systems)
        {
            Console.Error.WriteLine($"{system}: churn, {settings.Series:N0} series, {settings.Cuts} cuts");
            using var sut = create(system);
            results[system] = await ChurnScenario.RunAsync(sut, settings);
        }
        if (results.Count < 2) return 0; // a run of one system (profiling): its lines above are the result
        var (amphora, prometheus) = (results["amphora"], results["prometheus"]);
        string table = ChurnReport.Markdown(amphora, prometheus);
        Console.Out.WriteLine(table);
        if (output is not null)
        {
            string? existing = File.Exists(output) ? await File.ReadAllTextAsync(output) : null;
            string section = ChurnReport.Section(table, $"{Docs.Machine()}; servers pinned to core(s) {cores}", settings, amphora, prometheus);
            await File.WriteAllTextAsync(output, ChurnReport.Merge(existing, section));
            Console.Error.WriteLine($"written to {output}");
        }
        return ChurnReport.TargetsMet(amphora, prometheus) ? 0 : 1;
    }
}
