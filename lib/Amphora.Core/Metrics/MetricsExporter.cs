using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Amphora.Metrics;

/// <summary>
/// Collects every <see cref="System.Diagnostics.Metrics"/> instrument of meters named "Amphora*" and writes them in the
/// Prometheus text exposition format (version 0.0.4). Counters become <c>_total</c> counters, up-down counters and
/// observable gauges become gauges, histograms become classic histograms with the buckets of the instrument's
/// advice (<c>InstrumentAdvice.HistogramBucketBoundaries</c>), else those in <see cref="HistogramBuckets"/> (seconds). Components own their instruments as fields, created in their constructors.
/// Observable instruments report only what their callbacks observed in the current scrape; several observations of one
/// label set in a scrape add up. Without <c>workspaceLabel</c>, the <c>workspace</c> label is dropped from every
/// measurement, so series that differ only in it add up and no workspace id appears in the exposition (public
/// <c>/metrics</c> must not list tenants; <c>--metrics.per-workspace</c> turns the label on). Thread-safe.
/// </summary>
public sealed partial class MetricsExporter : IDisposable
{
    public static readonly double[] HistogramBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();
    private readonly bool _workspaceLabel;
    private readonly Lock _scrapeLock = new();
    private long _scrape;

    /// <summary>The label every per-workspace instrument carries.</summary>
    public const string WorkspaceLabel = "workspace";

    /// <summary>
    /// Instrument tag saying how an observable gauge's workspaces combine when the workspace label is dropped: absent, they
    /// add up (active series); <see cref="AcrossWorkspacesMin"/> keeps the smallest (a last-success timestamp: the
    /// oldest workspace is the one an alert wants); <see cref="AcrossWorkspacesMax"/> keeps the largest (a limit's use: the
    /// fullest workspace is).
    /// </summary>
    public const string AcrossWorkspacesTag = "amphora.across-workspaces";
    public const string AcrossWorkspacesMin = "min";
    public const string AcrossWorkspacesMax = "max";

    /// <param name="workspaceLabel">Whether series keep their <c>workspace</c> label (true) or add up across workspaces.</param>
    public MetricsExporter(bool workspaceLabel = true)
    {
        _workspaceLabel = workspaceLabel;
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (!instrument.Meter.Name.StartsWith("Amphora", StringComparison.Ordinal)) return;
            _families.TryAdd(instrument, new Family(instrument));
            listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<int>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    private void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (!_families.TryGetValue(instrument, out var family)) return;
        if (!_workspaceLabel) tags = WithoutWorkspace(tags);
        family.Record(value, tags, Volatile.Read(ref _scrape));
    }

    private static ReadOnlySpan<KeyValuePair<string, object?>> WithoutWorkspace(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        int at = -1;
        for (int i = 0; i < tags.Length && at < 0; i++)
            if (tags[i].Key == WorkspaceLabel) at = i;
        if (at < 0) return tags;
        var kept = new KeyValuePair<string, object?>[tags.Length - 1];
        tags[..at].CopyTo(kept);
        tags[(at + 1)..].CopyTo(kept.AsSpan(at));
        return kept;
    }

    /// <summary>Writes all metrics in the text exposition format.</summary>
    public string Scrape()
    {
        // One scrape at a time: the observations of a scrape are summed per label set under its generation number.
        lock (_scrapeLock)
        {
            long generation = Interlocked.Increment(ref _scrape);
            _listener.RecordObservableInstruments();
            return Write(generation);
        }
    }

    private string Write(long generation)
    {
        var sb = new StringBuilder(4096);
        var byName = new SortedDictionary<string, List<Family>>(StringComparer.Ordinal);
        foreach (var f in _families.Values)
        {
            if (!byName.TryGetValue(f.Name, out var list)) byName[f.Name] = list = new List<Family>();
            list.Add(f);
        }
        foreach (var (_, families) in byName)
            families[0].WriteTo(sb, families, generation);
        return sb.ToString();
    }

    public void Dispose() => _listener.Dispose();

    internal static string FormatValue(double v)
    {
        if (double.IsPositiveInfinity(v)) return "+Inf";
        if (double.IsNegativeInfinity(v)) return "-Inf";
        if (double.IsNaN(v)) return "NaN";
        return v.ToString("R", CultureInfo.InvariantCulture);
    }

    internal static string SanitizeName(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name)
            sb.Append(char.IsAsciiLetterOrDigit(c) || c == '_' || c == ':' ? c : '_');
        return sb.ToString();
    }
}
