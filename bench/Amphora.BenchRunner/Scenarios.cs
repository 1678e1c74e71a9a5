using System.Diagnostics;
using System.Text.Json;
using Amphora.LoadGen;

namespace Amphora.BenchRunner;

/// <summary>Settings of one benchmark run; the defaults are what docs/benchmarks.md records.</summary>
public sealed record BenchSettings
{
    public int[] SeriesSteps { get; init; } = [100_000, 500_000, 1_000_000];
    public int ScrapesPerStep { get; init; } = 4;
    public int DiskSeries { get; init; } = 20_000;
    public TimeSpan DiskHistory { get; init; } = TimeSpan.FromHours(4);
    public int QueryRepetitions { get; init; } = 20;
    public int Connections { get; init; } = 4;
    public string ServerCores { get; init; } = "1";
    public int Seed { get; init; } = 1;
    /// <summary>Where the disk run's history ends, fixed once per run so both systems get the same samples and the same block
    /// boundaries (the second system runs minutes after the first).</summary>
    public long DiskEndMs { get; init; } = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
}

/// <summary>Everything measured for one system.</summary>
public sealed class SystemFigures
{
    public string Name = "";
    public string Version = "";
    public double IngestSamplesPerSecond;
    public double CpuSecondsPerMillionSamples;
    public SortedDictionary<int, double> RssBytesPerSeries = new();
    public double BlockBytesPerSample, ChunkBytesPerSample, IndexBytesPerSample;
    public long BlockSamples;
    public long WalBytes;
    public double RecentP50Ms, RecentP99Ms, OlderP50Ms, OlderP99Ms, RefreshP50Ms;
    public Dictionary<string, double> QueryMedianMs = new();
    public double RestartSeconds;
    public int RestartSeries;
}

/// <summary>The measurements, each run the same way against each system.</summary>
public static class Scenarios
{
    private const long ScrapeMs = 15_000;

    public static readonly (string Name, string Query, bool Range)[] DashboardQueries =
    [
        ("rate", "rate(node_network_receive_bytes_total[5m])", false),
        ("sum by", "sum by (mode) (rate(node_cpu_seconds_total[5m]))", true),
        ("histogram_quantile", "histogram_quantile(0.99, sum by (le, handler) (rate(http_request_duration_seconds_bucket[5m])))", true),
        ("topk", "topk(5, rate(node_disk_io_time_seconds_total[5m]))", false),
        ("join", "node_filesystem_avail_bytes * on (instance) group_left () (node_load1 > 0)", false),
        ("avg range", "avg by (job) (node_memory_MemAvailable_bytes)", true),
    ];

    /// <summary>Ingests growing numbers of active series; records ingest rate, CPU per sample and RSS per series; then times a restart.</summary>
    public static async Task IngestAndMemoryAsync(SystemUnderTest system, BenchSettings settings, SystemFigures figures)
    {
        await system.StartAsync();
        long baseline = ProcStats.RssBytes(system.Pid);
        double cpuStart = ProcStats.CpuSeconds(system.Pid);
        long totalSamples = 0;
        int steps = settings.SeriesSteps.Length;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        long t0 = now - steps * settings.ScrapesPerStep * ScrapeMs;
        for (int i = 0; i < steps; i++)
        {
            int series = settings.SeriesSteps[i];
            long start = t0 + i * settings.ScrapesPerStep * ScrapeMs;
            var result = await SendAsync(system, series, start, start + (settings.ScrapesPerStep - 1) * ScrapeMs, settings);
            totalSamples += result.SamplesAccepted;
            figures.IngestSamplesPerSecond = Math.Max(figures.IngestSamplesPerSecond, result.SamplesPerSecond);
            await Task.Delay(TimeSpan.FromSeconds(5)); // let background work (GC, head maintenance) settle before reading RSS
            figures.RssBytesPerSeries[series] = (double)(ProcStats.RssBytes(system.Pid) - baseline) / series;
            Console.Error.WriteLine($"  {system.Name}: {series} series, {result.SamplesPerSecond:F0} samples/s, RSS {ProcStats.RssBytes(system.Pid) >> 20} MiB");
        }
        figures.CpuSecondsPerMillionSamples = (ProcStats.CpuSeconds(system.Pid) - cpuStart) / (totalSamples / 1e6);
        await system.StopAsync();
        figures.RestartSeconds = (await system.StartAsync()).TotalSeconds;
        figures.RestartSeries = settings.SeriesSteps[^1];
        await system.StopAsync();
    }

    /// <summary>Ingests hours of history so blocks get cut, measures bytes per sample in blocks, then query latency.</summary>
    public static async Task DiskAndQueriesAsync(SystemUnderTest system, BenchSettings settings, SystemFigures figures)
    {
        await system.StartAsync();
        long now = settings.DiskEndMs;
        long start = now - (long)settings.DiskHistory.TotalMilliseconds;
        await SendAsync(system, settings.DiskSeries, start, now, settings);
        // Both cut the head's oldest 2 h into a block within a minute or two once it spans more than 3 h.
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (!system.BlockDirectories().Any() && DateTime.UtcNow < deadline) await Task.Delay(1000);
        if (!system.BlockDirectories().Any()) Console.Error.WriteLine($"  {system.Name}: no block on disk (bytes per sample not measured)");

        var recent = new List<double>();
        var older = new List<double>();
        using var http = new HttpClient { BaseAddress = system.BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
        var refresh = new List<double>();
        foreach (var (name, query, range) in DashboardQueries)
        {
            var times = new List<double>();
            for (int r = 0; r < settings.QueryRepetitions; r++)
            {
                // Each repetition's range is 15.001 s away from the last: the steps differ by a millisecond phase, so no
                // repetition reuses a result Amphora's query frontend cached for an earlier one (Prometheus has no cache).
                long shift = r * 15_001L;
                double ms = await TimeQueryAsync(http, system, query, range, now - 60_000 - shift, TimeSpan.FromHours(1));
                recent.Add(ms);
                times.Add(ms);
                older.Add(await TimeQueryAsync(http, system, query, range, start + TimeSpan.FromHours(1.5).Ticks / 10_000 + shift, TimeSpan.FromHours(1)));
                if (range)
                {
                    // A dashboard refresh: the same range query again 15 s later (window and steps moved by 15 s).
                    refresh.Add(await TimeQueryAsync(http, system, query, range, now - 60_000 - shift + 15_000, TimeSpan.FromHours(1)));
                }
            }
            figures.QueryMedianMs[name] = Percentile(times, 0.5);
        }
        figures.RecentP50Ms = Percentile(recent, 0.5);
        figures.RecentP99Ms = Percentile(recent, 0.99);
        figures.OlderP50Ms = Percentile(older, 0.5);
        figures.OlderP99Ms = Percentile(older, 0.99);
        figures.RefreshP50Ms = Percentile(refresh, 0.5);

        await system.StopAsync();
        long chunkBytes = 0, indexBytes = 0, samples = 0;
        foreach (var block in system.BlockDirectories())
        {
            chunkBytes += ProcStats.DirectoryBytes(block, p => p.StartsWith("chunks", StringComparison.Ordinal));
            indexBytes += ProcStats.DirectoryBytes(block, p => p == "index");
            using var meta = JsonDocument.Parse(File.ReadAllText(Path.Combine(block, "meta.json")));
            samples += meta.RootElement.GetProperty("stats").GetProperty("numSamples").GetInt64();
        }
        figures.BlockSamples = samples;
        figures.BlockBytesPerSample = samples > 0 ? (double)(chunkBytes + indexBytes) / samples : double.NaN;
        figures.ChunkBytesPerSample = samples > 0 ? (double)chunkBytes / samples : double.NaN;
        figures.IndexBytesPerSample = samples > 0 ? (double)indexBytes / samples : double.NaN;
        figures.WalBytes = system.WalBytes();
    }

    private static async Task<LoadResult> SendAsync(SystemUnderTest system, int series, long startMs, long endMs, BenchSettings settings)
    {
        var options = new LoadOptions
        {
            Url = system.WriteUrl, Workspace = system.OrgId, Series = series, Connections = settings.Connections,
            StartMs = startMs, EndMs = endMs, Seed = settings.Seed, Mode = "replay",
        };
        using var runner = new LoadRunner(options);
        var result = await runner.RunAsync(CancellationToken.None);
        if (result.FailedRequests > 0)
            throw new InvalidOperationException($"{system.Name} rejected {result.FailedRequests} requests: " +
                string.Join(", ", result.StatusCounts.Select(kv => $"{kv.Key}×{kv.Value}")) + "\n" + system.Output);
        return result;
    }

    private static async Task<double> TimeQueryAsync(HttpClient http, SystemUnderTest system, string query, bool range, long atMs, TimeSpan window)
    {
        var form = new Dictionary<string, string> { ["query"] = query };
        string path;
        if (range)
        {
            path = system.ApiPrefix + "/query_range";
            form["start"] = ((atMs - (long)window.TotalMilliseconds) / 1000.0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            form["end"] = (atMs / 1000.0).ToString(System.Globalization.CultureInfo.InvariantCulture);
            form["step"] = "15";
        }
        else
        {
            path = system.ApiPrefix + "/query";
            form["time"] = (atMs / 1000.0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (system.OrgId is not null) request.Headers.Add("X-Scope-OrgID", system.OrgId);
        var stopwatch = Stopwatch.StartNew();
        using var response = await http.SendAsync(request);
        string body = await response.Content.ReadAsStringAsync();
        stopwatch.Stop();
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{system.Name}: {query} failed: {(int)response.StatusCode} {body}");
        return stopwatch.Elapsed.TotalMilliseconds;
    }

    public static double Percentile(List<double> values, double q)
    {
        if (values.Count == 0) return double.NaN;
        var sorted = values.Order().ToList();
        int index = (int)Math.Ceiling(q * sorted.Count) - 1;
        return sorted[Math.Clamp(index, 0, sorted.Count - 1)];
    }
}
