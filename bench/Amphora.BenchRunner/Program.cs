using System.Globalization;
using Amphora.BenchRunner;
using Amphora.Tsdb.Blocks;

// amphora-bench: runs Amphora all-in-one and Debian's Prometheus one after the other under the same conditions (same cores,
// same data, same protocol), prints one table with both and the ratios, and writes it to docs/benchmarks.md.
var settings = new BenchSettings();
string? amphoraDll = null, output = null;
bool compactionOnly = false;
var churn = ChurnSettings.Parse(args, out var otherArgs);
foreach (var arg in otherArgs)
{
    var (name, value) = arg.Contains('=') ? (arg[..arg.IndexOf('=')], arg[(arg.IndexOf('=') + 1)..]) : (arg, "");
    settings = name switch
    {
        "--series" => settings with { SeriesSteps = value.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray() },
        "--scrapes-per-step" => settings with { ScrapesPerStep = int.Parse(value, CultureInfo.InvariantCulture) },
        "--disk-series" => settings with { DiskSeries = int.Parse(value, CultureInfo.InvariantCulture) },
        "--disk-hours" => settings with { DiskHistory = TimeSpan.FromHours(double.Parse(value, CultureInfo.InvariantCulture)) },
        "--disk-end" => settings with { DiskEndMs = DateTimeOffset.Parse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal).ToUnixTimeMilliseconds() },
        "--query-repetitions" => settings with { QueryRepetitions = int.Parse(value, CultureInfo.InvariantCulture) },
        "--connections" => settings with { Connections = int.Parse(value, CultureInfo.InvariantCulture) },
        "--server-cores" => settings with { ServerCores = value },
        "--amphora-dll" => Set(ref amphoraDll, value, settings),
        "--output" => Set(ref output, value, settings),
        "--compaction-only" => SetFlag(ref compactionOnly, settings),
        _ => throw new ArgumentException($"unknown option {arg}; see bench/README.md"),
    };
}
if (amphoraDll is null || !File.Exists(amphoraDll))
{
    Console.Error.WriteLine("amphora-bench: --amphora-dll=PATH to the built amphora.dll is required (bench/run.sh passes it)");
    return 2;
}

string work = Path.Combine(Path.GetTempPath(), "amphora-bench-" + Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(work);
try
{
    if (churn is not null)
        return await ChurnRun.RunAsync(churn, system => Create(system, "churn", ChurnScenario.ArgsFor(system, churn)), output, settings.ServerCores);
    CompactionScenario.Figures? compaction = null;
    if (compactionOnly)
    {
        // Only Amphora's disk run and the replication + compaction figure (docs/benchmarks.md quotes it); nothing is written.
        using var sut = Create("amphora", "disk");
        await Scenarios.DiskAndQueriesAsync(sut, settings with { QueryRepetitions = 1 }, new SystemFigures { Name = "amphora" });
        compaction = await CompactionAsync(sut);
        Console.Out.WriteLine(CompactionLine(compaction));
        return compaction.Failure is null ? 0 : 1;
    }
    var results = new Dictionary<string, SystemFigures>();
    foreach (string system in new[] { "prometheus", "amphora" })
    {
        var figures = new SystemFigures { Name = system };
        Console.Error.WriteLine($"{system}: ingest and memory");
        using (var sut = Create(system, "mem"))
        {
            figures.Version = sut.Version;
            await Scenarios.IngestAndMemoryAsync(sut, settings, figures);
        }
        Console.Error.WriteLine($"{system}: blocks on disk and dashboard queries");
        using (var sut = Create(system, "disk"))
        {
            await Scenarios.DiskAndQueriesAsync(sut, settings, figures);
            if (system == "amphora")
            {
                Console.Error.WriteLine("amphora: the disk run's blocks as three replicas, compacted");
                compaction = await CompactionAsync(sut);
            }
        }
        results[system] = figures;
    }

    string table = Report.Markdown(results["amphora"], results["prometheus"], settings);
    if (compaction is not null) table += "\n" + CompactionLine(compaction) + "\n";
    Console.Out.WriteLine(table);
    string machine = Docs.Machine();
    string settingsText = $"series steps {string.Join(", ", settings.SeriesSteps)} × {settings.ScrapesPerStep} scrapes; disk run " +
                          $"{settings.DiskSeries} series × {settings.DiskHistory.TotalHours} h at 15 s; {settings.Connections} connections, " +
                          $"batches of 2000; servers pinned to core(s) {settings.ServerCores}; {settings.QueryRepetitions} repetitions per query";
    if (output is not null)
    {
        string? existing = File.Exists(output) ? await File.ReadAllTextAsync(output) : null;
        string section = Docs.Render(table, machine, settingsText, results["amphora"].Version, results["prometheus"].Version);
        await File.WriteAllTextAsync(output, Docs.Merge(existing, section));
        Console.Error.WriteLine($"written to {output}");
    }
    return compaction?.Failure is null ? 0 : 1;
}
finally
{
    try { Directory.Delete(work, recursive: true); } catch (IOException) { }
}

// A failed replication and compaction run is reported in its line of the table, not as an exception that loses the table.
async Task<CompactionScenario.Figures> CompactionAsync(SystemUnderTest sut)
{
    try
    {
        var figures = await CompactionScenario.RunAsync(Path.Combine(sut.DataDir, "bucket"), Path.Combine(work, "compaction"));
        if (figures.Failure is not null) Console.Error.WriteLine($"amphora: replication and compaction FAILED: {figures.Failure}");
        return figures;
    }
    catch (Exception e) when (e is IOException or InvalidOperationException or BlockFormatException or UnauthorizedAccessException)
    {
        Console.Error.WriteLine($"amphora: replication and compaction FAILED: {e}");
        return CompactionScenario.Figures.Failed($"{e.GetType().Name}: {e.Message}");
    }
}

SystemUnderTest Create(string system, string phase, IReadOnlyList<string>? extraArgs = null)
{
    string dir = Path.Combine(work, $"{system}-{phase}", "data");
    Directory.CreateDirectory(dir);
    int port = FreePort();
    return system == "amphora"
        ? new AmphoraSystem(amphoraDll!, dir, port, settings.ServerCores, churn is null ? "2h" : ChurnScenario.BlockRangeArg(churn), extraArgs)
        : new PrometheusSystem(dir, port, settings.ServerCores, extraArgs);
}

static int FreePort()
{
    using var l = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
    l.Start();
    return ((System.Net.IPEndPoint)l.LocalEndpoint).Port;
}

static BenchSettings Set(ref string? target, string value, BenchSettings s)
{
    target = value;
    return s;
}

static string CompactionLine(CompactionScenario.Figures c)
{
    if (c.Failure is not null && c.Samples == 0) return $"Replication factor 3 and compaction: FAILED ({c.Failure}).";
    string figures = string.Create(CultureInfo.InvariantCulture,
        $"Replication factor 3 and compaction (Amphora's disk-run blocks uploaded as three ingesters' replicas, then compacted until a " +
        $"pass changed nothing, {c.Passes} passes): one copy {c.SingleCopy:F3} bytes per sample ({c.Samples:N0} samples), three copies " +
        $"{c.ThreeCopies:F3}, after compaction {c.Compacted:F3} ({c.CompactedSamples:N0} samples in the live blocks; " +
        $"{c.Compacted / c.SingleCopy:F3}× one copy; target within 1.10×)");
    return figures + (c.Failure is null ? "." : $". FAILED: {c.Failure}.");
}

static BenchSettings SetFlag(ref bool flag, BenchSettings settings)
{
    flag = true;
    return settings;
}
