using Amphora.Model;
using Amphora.Storage;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Benchmarks;

/// <summary>Series held as sorted arrays, selected by matchers; the storage the PromQL benchmarks evaluate over.</summary>
public sealed class InMemorySeries : IQueryable
{
    private readonly List<(Labels Labels, long[] T, double[] V)> _series = new();

    public void Add(Labels labels, long[] t, double[] v) => _series.Add((labels, t, v));

    public void Sort() => _series.Sort((a, b) => a.Labels.CompareTo(b.Labels));

    public int Count => _series.Count;

    public IQuerier Querier(long minT, long maxT) => new Q(this, minT, maxT);

    private sealed class Q(InMemorySeries store, long minT, long maxT) : IQuerier
    {
        public ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var list = new List<ISeries>();
            foreach (var (labels, t, v) in store._series)
            {
                bool match = true;
                foreach (var m in matchers)
                    if (!m.Matches(labels.Get(m.Name))) { match = false; break; }
                if (!match) continue;
                int from = Array.BinarySearch(t, minT);
                if (from < 0) from = ~from;
                int to = Array.BinarySearch(t, maxT);
                to = to < 0 ? ~to : to + 1;
                if (to > from) list.Add(new ArraySeries(labels, t[from..to], v[from..to]));
            }
            return ValueTask.FromResult<ISeriesSet>(new ListSeriesSet(list));
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            throw new NotSupportedException("not used by the benchmarks");

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            throw new NotSupportedException("not used by the benchmarks");

        public void Dispose() { }
    }
}
