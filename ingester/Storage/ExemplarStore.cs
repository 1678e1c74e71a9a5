using Amphora.Model;

namespace Amphora.Ingester.Storage;

/// <summary>What became of an exemplar offered to <see cref="ExemplarStore.Add"/>.</summary>
public enum ExemplarAddResult : byte
{
    Added,
    /// <summary>The series' newest exemplar is this one (a resend): kept once, not an error.</summary>
    Duplicate,
    /// <summary>Not newer than the series' newest exemplar (Prometheus refuses those too).</summary>
    OutOfOrder,
    /// <summary>Its labels exceed <see cref="ExemplarLimits.MaxLabelSetRunes"/>.</summary>
    LabelsTooLong,
}

/// <summary>
/// One workspace's exemplars in memory, as Prometheus's circular exemplar storage keeps them: a ring of at most
/// <c>capacity</c> exemplars over all series, the oldest overwritten first, with each series' exemplars linked oldest to
/// newest so a query walks only the series it matches. The ring grows up to its capacity as exemplars arrive, so an idle
/// workspace costs nothing. Thread-safe; only memory is touched under the lock.
/// </summary>
public sealed class ExemplarStore(int capacity)
{
    private struct Entry
    {
        public Exemplar Exemplar;
        public Labels? Series; // null: a free slot
        public int Next;       // the same series' next newer exemplar, or -1
    }

    private sealed class SeriesIndex(int oldest, int newest)
    {
        public int Oldest = oldest, Newest = newest;
    }

    private readonly object _lock = new();
    private readonly List<Entry> _ring = new();
    private readonly Dictionary<Labels, SeriesIndex> _index = new();
    private int _next;

    public int Capacity { get; } = capacity > 0 ? capacity : throw new ArgumentOutOfRangeException(nameof(capacity));

    /// <summary>Exemplars held.</summary>
    public int Count
    {
        get { lock (_lock) return _ring.Count; }
    }

    /// <summary>Series with at least one exemplar.</summary>
    public int SeriesCount
    {
        get { lock (_lock) return _index.Count; }
    }

    /// <summary>What <see cref="Add"/> would answer now, without adding (a commit logs only exemplars that would be added).</summary>
    public ExemplarAddResult Check(Labels series, Exemplar exemplar)
    {
        if (ExemplarLimits.Check(exemplar.Labels) is not null) return ExemplarAddResult.LabelsTooLong;
        lock (_lock) return CheckLocked(series, exemplar);
    }

    private ExemplarAddResult CheckLocked(Labels series, Exemplar exemplar)
    {
        if (!_index.TryGetValue(series, out var existing)) return ExemplarAddResult.Added;
        var newest = _ring[existing.Newest].Exemplar;
        if (newest.T == exemplar.T && BitConverter.DoubleToInt64Bits(newest.Value) == BitConverter.DoubleToInt64Bits(exemplar.Value) &&
            newest.Labels == exemplar.Labels)
            return ExemplarAddResult.Duplicate;
        return exemplar.T <= newest.T ? ExemplarAddResult.OutOfOrder : ExemplarAddResult.Added;
    }

    public ExemplarAddResult Add(Labels series, Exemplar exemplar)
    {
        if (ExemplarLimits.Check(exemplar.Labels) is not null) return ExemplarAddResult.LabelsTooLong;
        lock (_lock)
        {
            if (CheckLocked(series, exemplar) is var refused and not ExemplarAddResult.Added) return refused;
            int slot = _next;
            if (slot < _ring.Count) Evict(slot);
            var entry = new Entry { Exemplar = exemplar, Series = series, Next = -1 };
            if (slot < _ring.Count) _ring[slot] = entry;
            else _ring.Add(entry);
            if (_index.TryGetValue(series, out var index))
            {
                var last = _ring[index.Newest];
                last.Next = slot;
                _ring[index.Newest] = last;
                index.Newest = slot;
            }
            else _index[series] = new SeriesIndex(slot, slot);
            _next = (slot + 1) % Capacity;
            return ExemplarAddResult.Added;
        }
    }

    /// <summary>Frees a slot about to be overwritten: it holds its series' oldest exemplar, so that series now starts at the next.</summary>
    private void Evict(int slot)
    {
        var old = _ring[slot];
        if (old.Series is null) return;
        var index = _index[old.Series];
        if (old.Next < 0) _index.Remove(old.Series);
        else index.Oldest = old.Next;
    }

    /// <summary>The exemplars in [start, end] of every series matching one of the matcher sets; series in label order.</summary>
    public List<ExemplarSeries> Select(long start, long end, IReadOnlyList<IReadOnlyList<LabelMatcher>> matcherSets)
    {
        var result = new List<ExemplarSeries>();
        lock (_lock)
        {
            foreach (var (series, index) in _index)
            {
                if (!matcherSets.Any(set => set.All(m => m.Matches(series.Get(m.Name))))) continue;
                List<Exemplar>? found = null;
                for (int i = index.Oldest; i >= 0; i = _ring[i].Next)
                {
                    var e = _ring[i].Exemplar;
                    if (e.T < start) continue;
                    if (e.T > end) break;
                    (found ??= new List<Exemplar>()).Add(e);
                }
                if (found is not null) result.Add(new ExemplarSeries(series, found));
            }
        }
        result.Sort(static (a, b) => a.SeriesLabels.CompareTo(b.SeriesLabels));
        return result;
    }
}
