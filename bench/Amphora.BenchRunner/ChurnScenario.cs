using System.Globalization;
using Amphora.LoadGen;

namespace Amphora.BenchRunner;

/// <summary>Settings of the churn run (<c>--churn</c>); the defaults are what docs/benchmarks.md records.</summary>
public sealed record ChurnSettings
{
    public int Series { get; init; } = 100_000;
    /// <summary>Fraction of the active series replaced (whole instances, new label values) per block range.</summary>
    public double ChurnPerRange { get; init; } = 0.2;
    public TimeSpan BlockRange { get; init; } = TimeSpan.FromMinutes(1);
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);
    public int Cuts { get; init; } = 30;
    /// <summary>The systems run, in order; with one of them (for profiling) the table and the docs section are not written.</summary>
    public IReadOnlyList<string> Systems { get; init; } = ["prometheus", "amphora"];
    /// <summary>The first sample's time, aligned to the block range and fixed once, so both systems get the same samples and
    /// the same block boundaries.</summary>
    public long StartMs { get; init; }

    public int ScrapesPerRange => (int)(BlockRange / Interval);

    /// <summary>Takes the <c>--churn*</c> options out of <paramref name="args"/>; null when <c>--churn</c> is not among them.</summary>
    public static ChurnSettings? Parse(string[] args, out string[] rest)
    {
        var s = new ChurnSettings();
        bool on = false;
        var others = new List<string>();
        foreach (var arg in args)
        {
            string name = arg.Contains('=') ? arg[..arg.IndexOf('=')] : arg, value = arg[(name.Length + (arg.Contains('=') ? 1 : 0))..];
            switch (name)
            {
                case "--churn": on = true; break;
                case "--churn-series": s = s with { Series = int.Parse(value, CultureInfo.InvariantCulture) }; break;
                case "--churn-cuts": s = s with { Cuts = int.Parse(value, CultureInfo.InvariantCulture) }; break;
                case "--churn-fraction": s = s with { ChurnPerRange = double.Parse(value, CultureInfo.InvariantCulture) }; break;
                case "--churn-systems":
                    var systems = value.Split(',');
                    if (systems.Length == 0 || systems.Any(x => x is not ("prometheus" or "amphora")))
                        throw new ArgumentException($"--churn-systems takes prometheus, amphora or both, not '{value}'");
                    s = s with { Systems = systems };
                    break;
                default: others.Add(arg); break;
            }
        }
        rest = others.ToArray();
        if (!on) return null;
        long range = (long)s.BlockRange.TotalMilliseconds;
        // Starts far enough back that the last sample (about cuts + 2 ranges later) is still in the past when it is sent.
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - (s.Cuts + 10) * range;
        return s with { StartMs = start - start % range };
    }
}

/// <summary>What the churn run measured on one system.</summary>
public sealed class ChurnFigures
{
    public string Name = "", Version = "";
    public double RssAfterFirstCut, RssAtEnd, RssMax;
    public double ActiveAfterFirstCut, ActiveAtEnd, ActiveMax;
    public double SeriesCreated, SeriesRemoved;
    public long WalAfterFirstCut, WalAtEnd;
    public long Samples;
    public int Cuts;
    /// <summary>The machine's one-minute load average at each measurement after a cut (other work on a shared machine).</summary>
    public List<double> Load = new();
    public TimeSpan Elapsed;
}

/// <summary>
/// The head under churn: <see cref="ChurnSettings.Series"/> active series sent scrape by scrape with synthetic timestamps
/// (15 s apart, a one-minute block range), replacing whole instances so that <see cref="ChurnSettings.ChurnPerRange"/> of the
/// series are new in every block range. After each scrape the runner waits until the system has cut every block its head is
/// ready for (a block [t, t+range) once the head holds data more than 1.5 ranges past t, the rule of both systems), as real
/// time would let it: a range lasts minutes there and a cut takes seconds. RSS, active series and WAL size are read after
/// the first cut and after the last.
/// </summary>
public static class ChurnScenario
{
    private static readonly TimeSpan CutDeadline = TimeSpan.FromMinutes(3);

    /// <summary>The server options that give each system the short block range (and Amphora a one-second cut check).</summary>
    public static IReadOnlyList<string> ArgsFor(string system, ChurnSettings settings)
    {
        string range = BlockRangeArg(settings);
        return system == "amphora"
            ? ["--tsdb.cut-interval=1s", $"--compactor.block-ranges={range}"]
            : [$"--storage.tsdb.min-block-duration={range}", $"--storage.tsdb.max-block-duration={range}"];
    }

    /// <summary>The block range as both systems' flags take it (Amphora's <c>--tsdb.block-range</c> is set by the runner).</summary>
    public static string BlockRangeArg(ChurnSettings settings) => $"{(int)settings.BlockRange.TotalSeconds}s";

    public static async Task<ChurnFigures> RunAsync(SystemUnderTest system, ChurnSettings settings)
    {
        var figures = new ChurnFigures { Name = system.Name, Version = system.Version };
        await system.StartAsync();
        using var metrics = new HttpClient { BaseAddress = system.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var catalog = new SeriesCatalog(settings.Series, seed: 1);
        long range = (long)settings.BlockRange.TotalMilliseconds, interval = (long)settings.Interval.TotalMilliseconds;
        double churnPerScrape = settings.ChurnPerRange / settings.ScrapesPerRange;
        var started = DateTime.UtcNow;
        for (long t = settings.StartMs; figures.Cuts < settings.Cuts; t += interval)
        {
            figures.Samples += await SendScrapeAsync(system, catalog, t, churnPerScrape);
            int due = CutsDue(t - settings.StartMs, range);
            if (due <= figures.Cuts) continue;
            await WaitForBlocksAsync(system, due);
            figures.Cuts = due;
            var (rss, active) = await SettledAsync(system, metrics);
            figures.RssMax = Math.Max(figures.RssMax, rss);
            figures.ActiveMax = Math.Max(figures.ActiveMax, active);
            figures.Load.Add(ProcStats.LoadAverage());
            Console.Error.WriteLine($"  {system.Name}: cut {due}, RSS {rss / (1 << 20):F0} MiB, {active:N0} active series, WAL {system.WalBytes():N0} bytes, load {figures.Load[^1]:F1}");
            if (due == 1)
            {
                (figures.RssAfterFirstCut, figures.ActiveAfterFirstCut, figures.WalAfterFirstCut) = (rss, active, system.WalBytes());
            }
            if (due >= settings.Cuts)
            {
                (figures.RssAtEnd, figures.ActiveAtEnd, figures.WalAtEnd) = (rss, active, system.WalBytes());
            }
        }
        figures.Elapsed = DateTime.UtcNow - started;
        var text = await metrics.GetStringAsync("/metrics");
        string prefix = system.Name == "amphora" ? "amphora_tsdb_head_series" : "prometheus_tsdb_head_series";
        figures.SeriesCreated = MetricSum(text, prefix + "_created_total");
        figures.SeriesRemoved = MetricSum(text, prefix + "_removed_total");
        await system.StopAsync();
        return figures;
    }

    /// <summary>Blocks either system has cut once it holds data up to <paramref name="sinceStart"/> past the first (range-aligned)
    /// sample: block k (from 0) is ready when the head spans more than 1.5 ranges past its start, k ranges after the first.</summary>
    public static int CutsDue(long sinceStart, long range) =>
        sinceStart * 2 <= 3 * range ? 0 : (int)((sinceStart * 2 - 3 * range - 1) / (2 * range)) + 1;

    private static async Task<long> SendScrapeAsync(SystemUnderTest system, SeriesCatalog catalog, long t, double churn)
    {
        var options = new LoadOptions
        {
            Url = system.WriteUrl, Workspace = system.OrgId, Series = catalog.Count, StartMs = t, EndMs = t, Churn = churn, Mode = "replay",
        };
        using var runner = new LoadRunner(options);
        var result = await runner.RunAsync(catalog, CancellationToken.None);
        if (result.FailedRequests > 0)
            throw new InvalidOperationException($"{system.Name} rejected {result.FailedRequests} requests at {t}: " +
                string.Join(", ", result.StatusCounts.Select(kv => $"{kv.Key}×{kv.Value}")) + "\n" + system.Output);
        return result.SamplesAccepted;
    }

    private static async Task WaitForBlocksAsync(SystemUnderTest system, int blocks)
    {
        var deadline = DateTime.UtcNow + CutDeadline;
        while (CompletedBlocks(system) < blocks)
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"{system.Name} cut {CompletedBlocks(system)} blocks, not {blocks}, within {CutDeadline}\n{system.Output}");
            await Task.Delay(100);
        }
    }

    /// <summary>Finished blocks: Amphora's in its bucket (uploaded after the cut, the head GC and the WAL checkpoint), Prometheus's
    /// in its data directory (without the temporary directories of a compaction in progress).</summary>
    private static int CompletedBlocks(SystemUnderTest system) =>
        system.BlockDirectories().Count(d => !Path.GetFileName(d).Contains(".tmp", StringComparison.Ordinal));

    /// <summary>Median RSS and active series over five readings half a second apart, two seconds after the cut was seen (the
    /// head truncation and GC follow the block in Prometheus).</summary>
    private static async Task<(double Rss, double Active)> SettledAsync(SystemUnderTest system, HttpClient metrics)
    {
        await Task.Delay(TimeSpan.FromSeconds(2));
        var rss = new List<double>();
        var active = new List<double>();
        string metric = system.Name == "amphora" ? "amphora_ingester_active_series" : "prometheus_tsdb_head_series";
        for (int i = 0; i < 5; i++)
        {
            if (i > 0) await Task.Delay(500);
            rss.Add(ProcStats.RssBytes(system.Pid));
            active.Add(MetricSum(await metrics.GetStringAsync("/metrics"), metric));
        }
        return (Scenarios.Percentile(rss, 0.5), Scenarios.Percentile(active, 0.5));
    }

    /// <summary>The sum of every sample of one metric in a text exposition (over all its label sets); NaN when absent.</summary>
    public static double MetricSum(string exposition, string name)
    {
        double sum = double.NaN;
        foreach (var line in exposition.Split('\n'))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length == name.Length || line[name.Length] is not (' ' or '{')) continue;
            string rest = line[name.Length] == '{' ? line[(line.LastIndexOf('}') + 1)..] : line[name.Length..];
            string value = rest.Trim().Split(' ')[0];
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) sum = (double.IsNaN(sum) ? 0 : sum) + v;
        }
        return sum;
    }
}
