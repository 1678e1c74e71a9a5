using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Amphora.Metrics;

/// <summary>
/// Collects every <see cref="System.Diagnostics.Metrics"/> instrument of meters named "Amphora*" and writes them in the
/// Prometheus text exposition format (version 0.0.4). Counters become <c>_total</c> counters, up-down counters and
/// observable gauges become gauges, histograms become classic histograms with the buckets given in
/// <see cref="HistogramBuckets"/> (seconds). Components own their instruments as fields, created in their constructors.
/// Thread-safe.
/// </summary>
public sealed partial class MetricsExporter : IDisposable
{
    public static readonly double[] HistogramBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<Instrument, Family> _families = new();

    public MetricsExporter()
    {
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
        family.Record(value, tags);
    }

    /// <summary>Writes all metrics in the text exposition format.</summary>
    public string Scrape()
    {
        _listener.RecordObservableInstruments();
        var sb = new StringBuilder(4096);
        var byName = new SortedDictionary<string, List<Family>>(StringComparer.Ordinal);
        foreach (var f in _families.Values)
        {
            if (!byName.TryGetValue(f.Name, out var list)) byName[f.Name] = list = new List<Family>();
            list.Add(f);
        }
        foreach (var (_, families) in byName)
            families[0].WriteTo(sb, families);
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
