using Amphora.Model;

namespace Amphora.Tsdb;

/// <summary>
/// Forgetting what is in blocks: after a cut the head drops the cut range's data, then removes the series left without
/// samples (as Prometheus's head does after compacting), so memory, postings, the active-series count and the next WAL
/// checkpoint follow the series that are still written, not every series seen since the last restart.
/// </summary>
public sealed partial class Head
{
    /// <summary>
    /// Drops data before <paramref name="time"/> (it is in a block now) and sets <see cref="MinTime"/> to the oldest sample
    /// left, so the next cut starts where data is, however far away. Samples appended meanwhile lower MinTime again through
    /// <see cref="Observe"/>. Series left without data stay until <see cref="CollectGarbage"/>.
    /// </summary>
    public void TruncateBefore(long time)
    {
        Volatile.Write(ref _minT, long.MaxValue);
        long min = long.MaxValue;
        foreach (var s in DistinctSeries())
        {
            lock (s.Lock)
            {
                s.TruncateBefore(time);
                if (s.HasData) min = Math.Min(min, s.MinT);
            }
        }
        Observe(min, long.MinValue);
    }

    /// <summary>
    /// Removes every series that holds no samples (none in order, none out of order) and that no appender has pinned, from
    /// the stripes, the references, the postings and the series count; returns the removed series' labels. Safe while
    /// appenders and queries run: an appender either pinned a series before (and the series stays) or finds it removed and
    /// creates it again under a new reference; a query holding a removed series sees it without samples.
    /// </summary>
    public IReadOnlyList<Labels> CollectGarbage()
    {
        var candidates = new List<MemSeries>();
        foreach (var s in DistinctSeries())
        {
            lock (s.Lock)
                if (s.Collectable) candidates.Add(s);
        }
        if (candidates.Count == 0) return [];

        var removed = new List<MemSeries>(candidates.Count);
        foreach (var s in candidates)
        {
            var stripe = Stripe(s.Labels);
            lock (stripe)
            {
                if (!stripe.TryGetValue(s.Labels, out var current) || current != s) continue;
                lock (s.Lock)
                    if (!s.TryMarkRemoved()) continue; // an appender pinned it, or a sample arrived, since the first look
                stripe.Remove(s.Labels);
            }
            removed.Add(s);
        }
        foreach (var s in removed)
        {
            _byRef.TryRemove(KeyValuePair.Create(s.Ref, s));
            if (s.Aliases is { } aliases)
                foreach (var alias in aliases) _byRef.TryRemove(KeyValuePair.Create(alias, s));
        }
        Interlocked.Add(ref _seriesCount, -removed.Count);
        RemovePostings(removed);

        var labels = new Labels[removed.Count];
        for (int i = 0; i < removed.Count; i++) labels[i] = removed[i].Labels;
        return labels;
    }

    /// <summary>Takes removed series out of the postings; a label value (and a label name) without series goes with them.</summary>
    private void RemovePostings(List<MemSeries> removed)
    {
        if (removed.Count == 0) return;
        var gone = new HashSet<MemSeries>(removed, ReferenceEqualityComparer.Instance);
        var touched = new HashSet<(string Name, string Value)>();
        foreach (var s in removed)
            foreach (var l in s.Labels) touched.Add((l.Name, l.Value));
        _postingsLock.EnterWriteLock();
        try
        {
            foreach (var (name, value) in touched)
            {
                if (!_postings.TryGetValue(name, out var values) || !values.TryGetValue(value, out var list)) continue;
                list.RemoveSeries(gone);
                if (list.Count > 0) continue;
                values.Remove(value);
                if (values.Count == 0) _postings.Remove(name);
            }
        }
        finally
        {
            _postingsLock.ExitWriteLock();
        }
    }
}
