using Amphora.Model;

namespace Amphora.Querier;

/// <summary>A label name or pair and a count, as the cardinality answers list them.</summary>
public readonly record struct CardinalityStat(string Name, long Count);

/// <summary>
/// What a set of series costs, counted per label: for every label name, each value and the number of series carrying
/// it. The figures of Prometheus's <c>/api/v1/status/tsdb</c> and Mimir's cardinality API are all read off this.
/// </summary>
public sealed class Cardinality
{
    private readonly Dictionary<string, Dictionary<string, long>> _byName = new(StringComparer.Ordinal);

    /// <summary>The number of distinct series counted.</summary>
    public long SeriesCount { get; private set; }

    /// <summary>Counts distinct series; the caller hands each series once.</summary>
    public static Cardinality Of(IEnumerable<Labels> series)
    {
        var c = new Cardinality();
        foreach (var labels in series)
        {
            c.SeriesCount++;
            foreach (var l in labels.AsSpan())
            {
                if (!c._byName.TryGetValue(l.Name, out var values)) c._byName[l.Name] = values = new(StringComparer.Ordinal);
                values[l.Value] = values.GetValueOrDefault(l.Value) + 1;
            }
        }
        return c;
    }

    /// <summary>Distinct label name/value pairs over all series.</summary>
    public long LabelPairCount => _byName.Values.Sum(v => (long)v.Count);

    /// <summary>Distinct label names.</summary>
    public int LabelNameCount => _byName.Count;

    /// <summary>Series per metric name (<c>__name__</c> value).</summary>
    public IReadOnlyList<CardinalityStat> SeriesByMetricName(int limit) =>
        Top(ValuesOf(Label.MetricName).Select(kv => new CardinalityStat(kv.Key, kv.Value)), limit);

    /// <summary>Distinct values per label name.</summary>
    public IReadOnlyList<CardinalityStat> ValueCountByLabelName(int limit) =>
        Top(_byName.Select(kv => new CardinalityStat(kv.Key, kv.Value.Count)), limit);

    /// <summary>Bytes of label values per label name: the UTF-8 length of each distinct value, summed (as Prometheus counts it).</summary>
    public IReadOnlyList<CardinalityStat> ValueBytesByLabelName(int limit) =>
        Top(_byName.Select(kv => new CardinalityStat(kv.Key, kv.Value.Keys.Sum(v => (long)System.Text.Encoding.UTF8.GetByteCount(v)))), limit);

    /// <summary>Series per <c>name=value</c> pair.</summary>
    public IReadOnlyList<CardinalityStat> SeriesByLabelPair(int limit) =>
        Top(_byName.SelectMany(n => n.Value.Select(v => new CardinalityStat(n.Key + "=" + v.Key, v.Value))), limit);

    /// <summary>Series carrying the label at all (whatever its value).</summary>
    public long SeriesWithLabel(string name) => ValuesOf(name).Sum(kv => kv.Value);

    /// <summary>Distinct values of one label.</summary>
    public int ValueCount(string name) => _byName.TryGetValue(name, out var v) ? v.Count : 0;

    /// <summary>Series per value of one label.</summary>
    public IReadOnlyList<CardinalityStat> SeriesByValue(string name, int limit) =>
        Top(ValuesOf(name).Select(kv => new CardinalityStat(kv.Key, kv.Value)), limit);

    private IEnumerable<KeyValuePair<string, long>> ValuesOf(string name) =>
        _byName.TryGetValue(name, out var v) ? v : [];

    /// <summary>The largest counts first; equal counts by name, so an answer is the same every time.</summary>
    private static List<CardinalityStat> Top(IEnumerable<CardinalityStat> stats, int limit) =>
        stats.OrderByDescending(s => s.Count).ThenBy(s => s.Name, StringComparer.Ordinal).Take(limit).ToList();
}
