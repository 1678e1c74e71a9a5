using Amphora.Model;
using Amphora.PromQL.Engine;

namespace Amphora.Querier.Frontend;

/// <summary>
/// Range-query results kept in memory by the query frontend, bounded in bytes and evicted least recently used first.
/// An entry is one contiguous stretch (an extent) of one split interval of one query: the workspace, the query text, the
/// step and the step's phase (the start modulo the step) name it, so a dashboard whose window slides by a refresh finds
/// the steps it already asked for. Entries are immutable once stored (readers never change their native histograms) and expire after <c>ttl</c>. Only memory is touched
/// under the lock.
/// </summary>
public sealed class ResultsCache(long maxBytes, TimeSpan ttl, TimeProvider time)
{
    private readonly object _lock = new();
    private readonly Dictionary<CacheKey, LinkedListNode<(CacheKey Key, Extent Extent)>> _entries = new();
    private readonly LinkedList<(CacheKey Key, Extent Extent)> _lru = new();
    private long _bytes;

    public long Bytes
    {
        get { lock (_lock) return _bytes; }
    }

    public int Count
    {
        get { lock (_lock) return _entries.Count; }
    }

    public Extent? Get(CacheKey key)
    {
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out var node)) return null;
            if (time.GetUtcNow() - node.Value.Extent.StoredAt > ttl)
            {
                Remove(node);
                return null;
            }
            _lru.Remove(node);
            _lru.AddFirst(node);
            return node.Value.Extent;
        }
    }

    public void Put(CacheKey key, Extent extent)
    {
        if (extent.Bytes > maxBytes) return;
        lock (_lock)
        {
            if (_entries.TryGetValue(key, out var old)) Remove(old);
            var node = _lru.AddFirst((key, extent));
            _entries[key] = node;
            _bytes += extent.Bytes;
            while (_bytes > maxBytes && _lru.Last is { } last) Remove(last);
        }
    }

    private void Remove(LinkedListNode<(CacheKey Key, Extent Extent)> node)
    {
        _lru.Remove(node);
        _entries.Remove(node.Value.Key);
        _bytes -= node.Value.Extent.Bytes;
    }
}

/// <summary>Names one split interval of one range query (see <see cref="ResultsCache"/>).</summary>
public readonly record struct CacheKey(string Workspace, string Query, long Step, long Phase, long Split);

/// <summary>
/// The result of a range query over the steps <see cref="Start"/>..<see cref="End"/> (inclusive, on the step grid): every
/// series with at least one point there, in label order, points in time order.
/// </summary>
public sealed class Extent
{
    public Extent(long start, long end, List<Series> series, DateTimeOffset storedAt)
    {
        Start = start;
        End = end;
        Series = series;
        StoredAt = storedAt;
        long bytes = 128;
        foreach (var s in series)
        {
            bytes += 64 + s.Points.Count * 24L;
            foreach (var p in s.Points)
                if (p.H is { } h)
                    bytes += 96 + 8L * (h.PositiveBuckets.Length + h.NegativeBuckets.Length + h.CustomValues.Length + h.PositiveSpans.Length + h.NegativeSpans.Length);
            foreach (var label in s.Metric) bytes += 2L * (label.Name.Length + label.Value.Length) + 32;
        }
        Bytes = bytes;
    }

    public long Start { get; }
    public long End { get; }
    public List<Series> Series { get; }
    public DateTimeOffset StoredAt { get; }
    public long Bytes { get; }
}
