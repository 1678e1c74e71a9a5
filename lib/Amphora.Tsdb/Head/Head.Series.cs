using System.Collections.Concurrent;
using Amphora.Model;

namespace Amphora.Tsdb;

/// <summary>
/// Finding and creating series. A series is in its stripe exactly while it is not <see cref="MemSeries.Removed"/>: the GC
/// changes both under the stripe's lock and the series' lock. Appenders pin what they find or create (see
/// <see cref="FindPinned"/>), so the GC never removes a series a sample is on its way to.
/// </summary>
public sealed partial class Head
{
    // References of series being created: their WAL record may already be in a segment a checkpoint reads before the series
    // is in its stripe (see NeedsSeriesRecord).
    private readonly ConcurrentDictionary<ulong, byte> _creating = new();

    private Dictionary<Labels, MemSeries> Stripe(Labels labels) => _stripes[(int)(labels.StableHash % StripeCount)];

    public MemSeries? Find(Labels labels)
    {
        var stripe = Stripe(labels);
        lock (stripe) return stripe.TryGetValue(labels, out var s) ? s : null;
    }

    public MemSeries? Find(ulong seriesRef) => _byRef.TryGetValue(seriesRef, out var s) ? s : null;

    /// <summary>
    /// The series with these labels, pinned for an appender (release with <see cref="MemSeries.Unpin"/> under its lock once
    /// the appender's samples are applied or dropped); null when the head holds none. A series the GC removed between the
    /// lookup and the pin is looked up again, so the result is always one the head still holds.
    /// </summary>
    public MemSeries? FindPinned(Labels labels)
    {
        while (Find(labels) is { } series)
        {
            lock (series.Lock)
                if (series.TryPin()) return series;
        }
        return null;
    }

    /// <summary>
    /// The series with these labels, pinned (as <see cref="FindPinned"/>), created with <paramref name="newRef"/> when absent.
    /// <paramref name="log"/> writes a new series' WAL record before any other appender can find the series (a Samples
    /// record naming the reference must follow its Series record, or a replay drops those samples); it runs outside every
    /// head lock. When two appenders create the same series at once, one of them publishes and the other's record is left
    /// without a series: a replay makes its reference an alias, a checkpoint drops it. References are never reused.
    /// </summary>
    public MemSeries GetOrCreate(Labels labels, Func<ulong> newRef, Action<MemSeries> log, out bool created)
    {
        created = false;
        if (FindPinned(labels) is { } found) return found;
        var series = new MemSeries(newRef(), Intern(labels), _blockRange);
        series.TryPin();
        _creating[series.Ref] = 0;
        try
        {
            log(series);
            var stripe = Stripe(labels);
            lock (stripe)
            {
                if (stripe.TryGetValue(labels, out var existing))
                {
                    // In its stripe, so not removed: the GC removes under this lock.
                    lock (existing.Lock) existing.TryPin();
                    return existing;
                }
                // Registered (references, postings) before the stripe lock is released: an appender that finds the series in
                // its stripe and commits a sample must find it through the postings when it reads right after.
                stripe[series.Labels] = series;
                Register(series);
            }
            created = true;
            return series;
        }
        finally
        {
            _creating.TryRemove(series.Ref, out _);
        }
    }

    /// <summary>Recreates a series from the WAL with its logged reference (replay, before any appender runs).</summary>
    public MemSeries Restore(ulong seriesRef, Labels labels)
    {
        var stripe = Stripe(labels);
        lock (stripe)
        {
            if (stripe.TryGetValue(labels, out var existing))
            {
                // The same labels logged under another reference (creators that raced, or a series the GC removed and a
                // later request created again): both references lead to one series.
                if (existing.Ref != seriesRef && _byRef.TryAdd(seriesRef, existing)) (existing.Aliases ??= new List<ulong>()).Add(seriesRef);
                return existing;
            }
            var series = new MemSeries(seriesRef, Intern(labels), _blockRange);
            stripe[series.Labels] = series;
            Register(series);
            return series;
        }
    }

    /// <summary>
    /// Whether a checkpoint keeps a WAL Series record: the head holds the series under this reference (or an alias of it), or
    /// the series is being created right now (its record is logged before it is published).
    /// </summary>
    public bool NeedsSeriesRecord(ulong seriesRef, Labels labels)
    {
        // In this order: a creation leaves _creating only after its series is in the stripe.
        if (_creating.ContainsKey(seriesRef)) return true;
        if (Find(labels) is not { } live) return false;
        return live.Ref == seriesRef || Find(seriesRef) == live;
    }

    private void Register(MemSeries series)
    {
        _byRef[series.Ref] = series;
        Interlocked.Increment(ref _seriesCount);
        _postingsLock.EnterWriteLock();
        try
        {
            foreach (var l in series.Labels)
            {
                if (!_postings.TryGetValue(l.Name, out var values)) _postings[l.Name] = values = new LabelPostings(l.Name);
                if (!values.TryGetValue(l.Value, out var list)) values[l.Value] = list = new Postings(l.Value);
                list.AddSeries(series);
            }
        }
        finally
        {
            _postingsLock.ExitWriteLock();
        }
    }

    /// <summary>
    /// The series of one label pair; it also holds the one copy of the value that the head's series share. Changed only under
    /// the postings write lock, through <see cref="AddSeries"/> and <see cref="RemoveSeries"/>, which drop the copy sorted by
    /// labels that sorted selects keep (<see cref="SortedByLabels"/>): a select of a metric whose series have not changed since
    /// the last one reads them in label order without sorting them again, and a removed series is never kept alive by it.
    /// </summary>
    private sealed class Postings(string value) : List<MemSeries>
    {
        public readonly string Value = value;
        /// <summary>Counts the changes; a sorted copy is kept only if no change came between reading the list and keeping it.</summary>
        public int Version { get; private set; }
        /// <summary>The series sorted by labels as of <see cref="Version"/>, or null; never changed once set (readers share it).</summary>
        public MemSeries[]? SortedByLabels;

        public void AddSeries(MemSeries series)
        {
            Add(series);
            Changed();
        }

        public void RemoveSeries(HashSet<MemSeries> gone)
        {
            RemoveAll(gone.Contains);
            Changed();
        }

        private void Changed()
        {
            Version++;
            SortedByLabels = null;
        }
    }

    /// <summary>The postings of one label name by value; it also holds the one copy of the name that the head's series share.</summary>
    private sealed class LabelPostings(string name) : Dictionary<string, Postings>(StringComparer.Ordinal)
    {
        public readonly string Name = name;
    }

    /// <summary>
    /// The labels with the names and values the head already holds replaced by the head's copies, so that a name or value
    /// shared by many series (the metric name, job, a rolled-out instance) is one string in memory, not one per series: the
    /// decoded strings of a request would otherwise stay with every series created from it. The postings are the table:
    /// a name or value is there exactly while some series has it.
    /// </summary>
    private Labels Intern(Labels labels)
    {
        Label[]? copy = null;
        var span = labels.AsSpan();
        _postingsLock.EnterReadLock();
        try
        {
            for (int i = 0; i < span.Length; i++)
            {
                if (!_postings.TryGetValue(span[i].Name, out var values)) continue;
                string name = values.Name, value = values.TryGetValue(span[i].Value, out var p) ? p.Value : span[i].Value;
                if (ReferenceEquals(name, span[i].Name) && ReferenceEquals(value, span[i].Value)) continue;
                copy ??= span.ToArray();
                copy[i] = new Label(name, value);
            }
        }
        finally
        {
            _postingsLock.ExitReadLock();
        }
        return copy is null ? labels : Labels.FromSorted(copy);
    }

    /// <summary>The values of a label name in the head's postings index (what selects and the label APIs start from), sorted.</summary>
    public IReadOnlyList<string> IndexedLabelValues(string name)
    {
        _postingsLock.EnterReadLock();
        try
        {
            if (!_postings.TryGetValue(name, out var values)) return [];
            var result = values.Keys.ToList();
            result.Sort(StringComparer.Ordinal);
            return result;
        }
        finally
        {
            _postingsLock.ExitReadLock();
        }
    }

    /// <summary>Series matching every matcher: candidates from the smallest postings list of an equality matcher, then filtered.
    /// The matching loop observes <paramref name="ct"/> (a regex over many series is slow).</summary>
    public List<MemSeries> Select(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) => Select(matchers, false, ct);

    /// <summary>As <see cref="Select(IReadOnlyList{LabelMatcher}, CancellationToken)"/>; with <paramref name="sorted"/> the
    /// series are in label order. The candidates of a postings list are sorted once and kept sorted until the list changes
    /// (see <see cref="Postings"/>), outside the postings lock.</summary>
    public List<MemSeries> Select(IReadOnlyList<LabelMatcher> matchers, bool sorted, CancellationToken ct = default)
    {
        MemSeries[] candidates;
        Postings? from = null;
        int version = 0;
        bool inOrder = false;
        _postingsLock.EnterReadLock();
        try
        {
            List<MemSeries>? best = null;
            foreach (var m in matchers)
            {
                if (m.Type != MatchType.Equal || m.Value.Length == 0) continue;
                List<MemSeries> list = _postings.TryGetValue(m.Name, out var values) && values.TryGetValue(m.Value, out var l) ? l : [];
                if (best is null || list.Count < best.Count) best = list;
            }
            if (sorted && best is Postings { SortedByLabels: { } cached })
            {
                candidates = cached;
                inOrder = true;
            }
            else
            {
                candidates = best is not null ? best.ToArray() : _byRef.Values.Distinct().ToArray();
                if (best is Postings p) (from, version) = (p, p.Version);
            }
        }
        finally
        {
            _postingsLock.ExitReadLock();
        }
        if (sorted && !inOrder && from is not null)
        {
            // Sorted outside the lock (appenders creating series need it), then kept unless the list changed meanwhile.
            Array.Sort(candidates, static (a, b) => a.Labels.CompareTo(b.Labels));
            inOrder = true;
            _postingsLock.EnterReadLock();
            try
            {
                if (from.Version == version) from.SortedByLabels = candidates;
            }
            finally
            {
                _postingsLock.ExitReadLock();
            }
        }
        // Sized for every candidate: one allocation, not a list grown by doubling (over 10,000 series each step is an array on
        // the large-object heap, and those start full collections of the head's whole heap).
        var result = new List<MemSeries>(candidates.Length);
        int n = 0;
        foreach (var s in candidates)
        {
            if ((++n & 1023) == 0) ct.ThrowIfCancellationRequested();
            bool all = true;
            foreach (var m in matchers)
                if (!m.Matches(s.Labels.Get(m.Name))) { all = false; break; }
            if (all) result.Add(s);
        }
        if (sorted && !inOrder) result.Sort(static (a, b) => a.Labels.CompareTo(b.Labels));
        return result;
    }
}
