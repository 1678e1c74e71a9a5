using Amphora.Model;
using Amphora.Storage;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.PromQL.Tests.Scripts;

/// <summary>The samples a test script loaded, served through the storage contracts the engine reads.</summary>
public sealed class ScriptStorage : IQueryable
{
    private readonly Dictionary<Labels, SortedList<long, double>> _series = new();

    /// <summary>Series that had native-histogram samples in the script (not loaded; evals reaching them are tier 2).</summary>
    public HashSet<Labels> HistogramSeries { get; } = new();

    public void Clear()
    {
        _series.Clear();
        HistogramSeries.Clear();
    }

    public void Add(Labels labels, long t, double v)
    {
        if (!_series.TryGetValue(labels, out var samples)) _series[labels] = samples = new SortedList<long, double>();
        samples[t] = v;
    }

    public bool ReachesHistograms(IReadOnlyList<LabelMatcher> matchers) =>
        HistogramSeries.Any(l => matchers.All(m => m.Matches(l.Get(m.Name))));

    public IQuerier Querier(long minT, long maxT) => new ScriptQuerier(this, minT, maxT);

    private sealed class ScriptQuerier(ScriptStorage storage, long minT, long maxT) : IQuerier
    {
        private IEnumerable<KeyValuePair<Labels, SortedList<long, double>>> Matching(IReadOnlyList<LabelMatcher> matchers) =>
            storage._series.Where(kv => matchers.All(m => m.Matches(kv.Key.Get(m.Name))));

        public ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var list = new List<ISeries>();
            foreach (var (labels, samples) in Matching(matchers))
            {
                var inRange = samples.Where(s => s.Key >= minT && s.Key <= maxT).ToList();
                if (inRange.Count == 0) continue;
                list.Add(new ArraySeries(labels, inRange.Select(s => s.Key).ToArray(), inRange.Select(s => s.Value).ToArray()));
            }
            list.Sort((a, b) => a.Labels.CompareTo(b.Labels));
            return ValueTask.FromResult<ISeriesSet>(new ListSeriesSet(list));
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            ValueTask.FromResult<IReadOnlyList<string>>(Matching(matchers).Select(kv => kv.Key.Get(name)).Where(v => v.Length > 0).Distinct().Order(StringComparer.Ordinal).ToList());

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            ValueTask.FromResult<IReadOnlyList<string>>(Matching(matchers).SelectMany(kv => kv.Key.Select(l => l.Name)).Distinct().Order(StringComparer.Ordinal).ToList());

        public void Dispose() { }
    }
}
