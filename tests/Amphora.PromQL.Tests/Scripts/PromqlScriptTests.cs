using Amphora.Testing;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.PromQL.Tests.Scripts;

/// <summary>
/// Runs every PromQL conformance script read in place from AMPHORA_PROMQL_TESTDATA or ../shared/promql-testdata (skipped
/// with the reason when neither exists, a failure under CI; see <see cref="SharedAssets"/>). Tier 1 (stable PromQL on floats) must
/// pass except the evals listed in known-failures.txt; a listed eval that now passes must be removed from the list, so the
/// list only shrinks. The per-file and total counts are printed.
/// </summary>
public sealed class PromqlScriptTests(ITestOutputHelper output)
{
    [SkippableFact]
    [Trait("SharedAssets", "promql-testdata")]
    public void Tier_one_conformance_scripts_pass_except_the_known_failures()
    {
        string dir = SharedAssets.PromqlTestData();
        var outcomes = new List<EvalOutcome>();
        foreach (var file in Directory.GetFiles(dir, "*.test").Order(StringComparer.Ordinal))
        {
            var results = new ScriptRunner().Run(file);
            outcomes.AddRange(results);
            // PROMQL_TRACE=file.test prints every eval of that file with its outcome.
            if (Environment.GetEnvironmentVariable("PROMQL_TRACE") == Path.GetFileName(file))
                foreach (var r in results) output.WriteLine($"  {r.File}:{r.Line} tier {r.Tier} {(r.Passed ? "ok" : "FAIL " + r.Detail)}");
            output.WriteLine($"{Path.GetFileName(file)}: {results.Count(r => r.Passed)} passed, {results.Count(r => !r.Passed)} failed");
        }
        foreach (int tier in new[] { 1, 2 })
        {
            var inTier = outcomes.Where(o => o.Tier == tier).ToList();
            output.WriteLine($"tier {tier}: {inTier.Count(r => r.Passed)} passed, {inTier.Count(r => !r.Passed)} failed");
        }
        output.WriteLine($"promql: {outcomes.Count(r => r.Passed)} passed, {outcomes.Count(r => !r.Passed)} failed");

        var known = TestData.KnownFailures();
        var newFailures = outcomes.Where(o => o.Tier == 1 && !o.Passed && !known.Contains($"{o.File}:{o.Line}")).ToList();
        var nowPassing = outcomes.Where(o => o.Passed && known.Contains($"{o.File}:{o.Line}")).ToList();
        foreach (var f in newFailures) output.WriteLine($"NEW FAILURE {f.File}:{f.Line}: {f.Detail}");
        foreach (var p in nowPassing) output.WriteLine($"NOW PASSING (remove from known-failures.txt) {p.File}:{p.Line}");
        Assert.True(newFailures.Count == 0 && nowPassing.Count == 0,
            $"{newFailures.Count} tier-1 evals fail that are not in known-failures.txt, {nowPassing.Count} listed ones now pass:\n" +
            string.Join("\n", newFailures.Take(50).Select(f => $"{f.File}:{f.Line}: {f.Detail}")) +
            string.Join("\n", nowPassing.Select(p => $"{p.File}:{p.Line} passes")));
    }
}

internal static class TestData
{
    public static HashSet<string> KnownFailures()
    {
        string path = Path.Combine(AppContext.BaseDirectory, "Scripts", "known-failures.txt");
        return File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToHashSet();
    }
}
