using System.Globalization;
using System.Text;

namespace Amphora.BenchRunner;

/// <summary>The side-by-side table: each figure for both systems and the ratio Amphora / Prometheus, against the targets.</summary>
public static class Report
{
    private sealed record Row(string Figure, Func<SystemFigures, double> Value, string Format, double? Target, bool HigherIsBetter = false);

    public static string Markdown(SystemFigures amphora, SystemFigures prometheus, BenchSettings settings)
    {
        var rows = new List<Row>
        {
            new("Ingest rate (samples/s, higher is better)", f => f.IngestSamplesPerSecond, "N0", null, HigherIsBetter: true),
            new("Ingest CPU-seconds per million samples", f => f.CpuSecondsPerMillionSamples, "F3", 1.0),
        };
        foreach (int series in settings.SeriesSteps)
            rows.Add(new($"RSS bytes per active series at {series:N0} series", f => f.RssBytesPerSeries.GetValueOrDefault(series, double.NaN), "F0", 1.0));
        rows.Add(new("Block bytes per sample (chunks + index)", f => f.BlockBytesPerSample, "F3", 1.0));
        rows.Add(new("  of which chunks", f => f.ChunkBytesPerSample, "F3", null));
        rows.Add(new("  of which index", f => f.IndexBytesPerSample, "F3", null));
        rows.Add(new("  samples in those blocks", f => f.BlockSamples, "N0", null));
        rows.Add(new("WAL bytes after the disk run", f => f.WalBytes, "N0", null));
        rows.Add(new("Dashboard query p50, recent data (ms)", f => f.RecentP50Ms, "F1", 1.0));
        rows.Add(new("Dashboard query p99, recent data (ms)", f => f.RecentP99Ms, "F1", null));
        rows.Add(new("Dashboard query p50, older data (in blocks) (ms)", f => f.OlderP50Ms, "F1", 1.0));
        rows.Add(new("Dashboard query p99, older data (ms)", f => f.OlderP99Ms, "F1", null));
        rows.Add(new("Dashboard refresh p50, the range queries again 15 s later (ms)", f => f.RefreshP50Ms, "F1", 0.2));
        foreach (var name in amphora.QueryMedianMs.Keys)
            rows.Add(new($"  median of \"{name}\" (ms)", f => f.QueryMedianMs.GetValueOrDefault(name, double.NaN), "F1", null));
        rows.Add(new($"Restart time with {settings.SeriesSteps[^1]:N0} series (s)", f => f.RestartSeconds, "F2", null));

        var sb = new StringBuilder();
        sb.AppendLine("| Figure | Amphora | Prometheus | Amphora / Prometheus | Target |");
        sb.AppendLine("|---|---:|---:|---:|---|");
        foreach (var row in rows)
        {
            double a = row.Value(amphora), p = row.Value(prometheus);
            double ratio = a / p;
            string target = row.Target is not { } t ? ""
                : double.IsNaN(ratio) ? $"≤ {t:0.0}× not measured"
                : ratio <= t ? $"≤ {t:0.0}× met" : $"≤ {t:0.0}× **not met**";
            sb.AppendLine(CultureInfo.InvariantCulture,
                $"| {row.Figure} | {Format(a, row.Format)} | {Format(p, row.Format)} | {Format(ratio, "F2")}× | {target} |");
        }
        return sb.ToString();
    }

    private static string Format(double v, string format) =>
        double.IsNaN(v) || double.IsInfinity(v) ? "n/a" : v.ToString(format, CultureInfo.InvariantCulture);
}
