using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Text;

namespace Amphora.Metrics;

public sealed partial class MetricsExporter
{
    private enum Kind { Counter, Gauge, Histogram }

    /// <summary>One instrument: its series keyed by the rendered label text.</summary>
    private sealed class Family
    {
        private readonly ConcurrentDictionary<string, Cell> _cells = new(StringComparer.Ordinal);
        private readonly Instrument _instrument;
        /// <summary>Observations of one label set in a scrape keep the smallest (<see cref="AcrossWorkspacesMin"/>) or the
        /// largest (<see cref="AcrossWorkspacesMax"/>) instead of adding up.</summary>
        private readonly bool _keepsMinimum, _keepsMaximum;
        /// <summary>A histogram's upper bounds: the instrument's advice, else <see cref="HistogramBuckets"/>.</summary>
        private readonly double[] _buckets;
        public string Name { get; }
        public Kind Kind { get; }

        public Family(Instrument instrument)
        {
            _instrument = instrument;
            _keepsMinimum = instrument.Tags?.Any(t => t.Key == AcrossWorkspacesTag && Equals(t.Value, AcrossWorkspacesMin)) == true;
            _keepsMaximum = instrument.Tags?.Any(t => t.Key == AcrossWorkspacesTag && Equals(t.Value, AcrossWorkspacesMax)) == true;
            string name = SanitizeName(instrument.Name);
            Kind = instrument switch
            {
                Counter<long> or Counter<int> or Counter<double> or ObservableCounter<long> or ObservableCounter<double> => Kind.Counter,
                Histogram<double> or Histogram<long> or Histogram<int> => Kind.Histogram,
                _ => Kind.Gauge,
            };
            _buckets = instrument switch
            {
                Histogram<double> { Advice.HistogramBucketBoundaries: { } b } => [.. b],
                Histogram<long> { Advice.HistogramBucketBoundaries: { } b } => b.Select(x => (double)x).ToArray(),
                Histogram<int> { Advice.HistogramBucketBoundaries: { } b } => b.Select(x => (double)x).ToArray(),
                _ => HistogramBuckets,
            };
            if (Kind == Kind.Counter && !name.EndsWith("_total", StringComparison.Ordinal)) name += "_total";
            Name = name;
        }

        private bool IsObservable => _instrument.IsObservable;


        /// <param name="generation">The scrape whose observable callbacks are running (observable instruments only).</param>
        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags, long generation)
        {
            string key = RenderLabels(tags);
            var cell = _cells.GetOrAdd(key, static _ => new Cell());
            lock (cell)
            {
                switch (Kind)
                {
                    case Kind.Histogram:
                        cell.Buckets ??= new long[_buckets.Length];
                        for (int i = 0; i < _buckets.Length; i++)
                            if (value <= _buckets[i]) cell.Buckets[i]++;
                        cell.Count++;
                        cell.Value += value;
                        break;
                    case Kind.Counter when !IsObservable:
                        cell.Value += value;
                        break;
                    case Kind.Gauge when _instrument is UpDownCounter<long> or UpDownCounter<int> or UpDownCounter<double>:
                        cell.Value += value;
                        break;
                    case Kind.Counter or Kind.Gauge when IsObservable:
                        // The first observation of a label set in this scrape replaces the last scrape's; later ones add
                        // (or keep the smallest, for timestamps, or the largest, for a limit's use).
                        cell.Value = cell.Generation != generation ? value
                            : _keepsMinimum ? Math.Min(cell.Value, value)
                            : _keepsMaximum ? Math.Max(cell.Value, value) : cell.Value + value;
                        cell.Generation = generation;
                        break;
                    default:
                        cell.Value = value;
                        break;
                }
            }
        }

        /// <summary>Writes the families of one name; observable series not observed in <paramref name="generation"/> are gone.</summary>
        public void WriteTo(StringBuilder sb, List<Family> sameName, long generation)
        {
            string type = Kind switch { Kind.Counter => "counter", Kind.Histogram => "histogram", _ => "gauge" };
            string help = _instrument.Description ?? Name;
            sb.Append("# HELP ").Append(Name).Append(' ').Append(help.Replace("\\", "\\\\").Replace("\n", "\\n")).Append('\n');
            sb.Append("# TYPE ").Append(Name).Append(' ').Append(type).Append('\n');
            foreach (var family in sameName)
            {
                foreach (var (labels, cell) in family._cells.OrderBy(kv => kv.Key, StringComparer.Ordinal))
                {
                    lock (cell)
                    {
                        if (family.IsObservable && cell.Generation != generation) continue;
                        if (Kind != Kind.Histogram)
                        {
                            sb.Append(Name);
                            if (labels.Length > 0) sb.Append('{').Append(labels).Append('}');
                            sb.Append(' ').Append(FormatValue(cell.Value)).Append('\n');
                            continue;
                        }
                        string sep = labels.Length > 0 ? "," : "";
                        for (int i = 0; i < family._buckets.Length; i++)
                        {
                            sb.Append(Name).Append("_bucket{").Append(labels).Append(sep).Append("le=\"")
                              .Append(FormatValue(family._buckets[i])).Append("\"} ").Append(cell.Buckets![i]).Append('\n');
                        }
                        sb.Append(Name).Append("_bucket{").Append(labels).Append(sep).Append("le=\"+Inf\"} ").Append(cell.Count).Append('\n');
                        sb.Append(Name).Append("_sum");
                        if (labels.Length > 0) sb.Append('{').Append(labels).Append('}');
                        sb.Append(' ').Append(FormatValue(cell.Value)).Append('\n');
                        sb.Append(Name).Append("_count");
                        if (labels.Length > 0) sb.Append('{').Append(labels).Append('}');
                        sb.Append(' ').Append(cell.Count).Append('\n');
                    }
                }
            }
        }

        private static string RenderLabels(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            if (tags.Length == 0) return "";
            var pairs = new KeyValuePair<string, object?>[tags.Length];
            tags.CopyTo(pairs);
            Array.Sort(pairs, static (a, b) => string.CompareOrdinal(a.Key, b.Key));
            var sb = new StringBuilder();
            foreach (var (k, v) in pairs)
            {
                if (sb.Length > 0) sb.Append(',');
                sb.Append(SanitizeName(k)).Append("=\"");
                foreach (char c in v?.ToString() ?? "")
                {
                    if (c == '\\') sb.Append("\\\\");
                    else if (c == '"') sb.Append("\\\"");
                    else if (c == '\n') sb.Append("\\n");
                    else sb.Append(c);
                }
                sb.Append('"');
            }
            return sb.ToString();
        }
    }

    private sealed class Cell
    {
        public double Value;
        public long Count;
        public long[]? Buckets;
        /// <summary>The scrape that last observed this cell (observable instruments).</summary>
        public long Generation;
    }
}
