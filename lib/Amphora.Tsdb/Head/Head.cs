using System.Collections.Concurrent;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Tsdb;

/// <summary>
/// One workspace's in-memory series: found by labels in lock stripes (so appends from many connections rarely contend),
/// by reference for WAL replay, and by label pair through postings for selects and the label APIs.
/// </summary>
public sealed class Head : IQueryable
{
    private const int StripeCount = 32;
    private readonly Dictionary<Labels, MemSeries>[] _stripes = new Dictionary<Labels, MemSeries>[StripeCount];
    private readonly ConcurrentDictionary<ulong, MemSeries> _byRef = new();
    private readonly Dictionary<string, Dictionary<string, List<MemSeries>>> _postings = new(StringComparer.Ordinal);
    private readonly ReaderWriterLockSlim _postingsLock = new();
    private readonly long _blockRange;

    public Head(long blockRange)
    {
        _blockRange = blockRange;
        for (int i = 0; i < StripeCount; i++) _stripes[i] = new Dictionary<Labels, MemSeries>();
    }

    public int SeriesCount => _byRef.Count;

    // Block cuts: samples before MinValidTime are in a block and refused; appenders register so a cut can wait for the ones
    // that may still add samples below a new MinValidTime (two epochs: a cut waits for the epoch before its raise).
    private readonly object _gate = new();
    private readonly int[] _inFlight = new int[2];
    private int _epoch;
    private long _minValidTime = long.MinValue;
    private long _minT = long.MaxValue, _maxT = long.MinValue;

    /// <summary>Samples before this time are in blocks; the head refuses them.</summary>
    public long MinValidTime => Volatile.Read(ref _minValidTime);
    /// <summary>
    /// The oldest time an append may have now: nothing before <see cref="MinValidTime"/> (it is in a block), and, as in
    /// Prometheus's head, nothing more than half a block range behind the head's newest sample (such a sample would open a
    /// range the next cut writes at once; the out-of-order window is at most half a range).
    /// </summary>
    public long AppendableMinTime
    {
        get
        {
            long minValid = MinValidTime, max = MaxTime;
            if (max == long.MinValue || max < long.MinValue + _blockRange / 2) return minValid;
            return Math.Max(minValid, max - _blockRange / 2);
        }
    }

    /// <summary>The oldest sample time the head holds (exact after a truncation) and the newest it has held.</summary>
    public long MinTime => Volatile.Read(ref _minT);
    public long MaxTime => Volatile.Read(ref _maxT);

    /// <summary>Registers an appender that may add samples; pair with <see cref="ExitAppend"/>.</summary>
    public int EnterAppend()
    {
        lock (_gate)
        {
            _inFlight[_epoch & 1]++;
            return _epoch;
        }
    }

    public void ExitAppend(int epoch)
    {
        lock (_gate) _inFlight[epoch & 1]--;
    }

    /// <summary>Raises <see cref="MinValidTime"/> and returns once every appender that might have checked its samples against
    /// the old value has finished; after that no sample below <paramref name="time"/> can arrive.</summary>
    public async Task RaiseMinValidTimeAsync(long time)
    {
        int old;
        lock (_gate)
        {
            if (time <= _minValidTime) return;
            Volatile.Write(ref _minValidTime, time);
            old = _epoch++;
        }
        while (true)
        {
            lock (_gate)
                if (_inFlight[old & 1] == 0) return;
            await Task.Delay(1);
        }
    }

    /// <summary>Sets the time before which data is known to be in blocks (on start, from the blocks on disk).</summary>
    public void RestoreMinValidTime(long time)
    {
        lock (_gate) if (time > _minValidTime) Volatile.Write(ref _minValidTime, time);
    }

    /// <summary>Widens the head's time range to include [minT, maxT].</summary>
    public void Observe(long minT, long maxT)
    {
        long cur;
        while (minT < (cur = Volatile.Read(ref _minT)) && Interlocked.CompareExchange(ref _minT, minT, cur) != cur) { }
        while (maxT > (cur = Volatile.Read(ref _maxT)) && Interlocked.CompareExchange(ref _maxT, maxT, cur) != cur) { }
    }

    private IEnumerable<MemSeries> DistinctSeries()
    {
        foreach (var stripe in _stripes)
        {
            MemSeries[] copy;
            lock (stripe) copy = stripe.Values.ToArray();
            foreach (var s in copy) yield return s;
        }
    }

    /// <summary>Every series' data in [minT, maxT) as chunks, in label order, for a block.</summary>
    public List<(Labels Labels, IReadOnlyList<ChunkData> Chunks)> CollectRange(long minT, long maxT)
    {
        var result = new List<(Labels, IReadOnlyList<ChunkData>)>();
        foreach (var s in DistinctSeries())
        {
            List<ChunkData> chunks;
            lock (s.Lock) chunks = s.CollectRange(minT, maxT);
            if (chunks.Count > 0) result.Add((s.Labels, chunks));
        }
        result.Sort(static (a, b) => a.Item1.CompareTo(b.Item1));
        return result;
    }

    /// <summary>
    /// Drops data before <paramref name="time"/> (it is in a block now) and sets <see cref="MinTime"/> to the oldest sample
    /// left, so the next cut starts where data is, however far away. Series stay, so references in the WAL stay valid.
    /// Samples appended meanwhile lower MinTime again through <see cref="Observe"/>.
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

    /// <summary>Forgets series without data (after a WAL replay, before any appender runs).</summary>
    public int RemoveEmptySeries()
    {
        var empty = DistinctSeries().Where(s => !s.HasData).ToList();
        if (empty.Count == 0) return 0;
        var gone = empty.ToHashSet();
        foreach (var s in empty)
        {
            var stripe = Stripe(s.Labels);
            lock (stripe) stripe.Remove(s.Labels);
        }
        foreach (var (r, s) in _byRef)
            if (gone.Contains(s)) _byRef.TryRemove(r, out _);
        _postingsLock.EnterWriteLock();
        try
        {
            foreach (var values in _postings.Values)
                foreach (var list in values.Values) list.RemoveAll(gone.Contains);
        }
        finally
        {
            _postingsLock.ExitWriteLock();
        }
        return empty.Count;
    }

    private Dictionary<Labels, MemSeries> Stripe(Labels labels) => _stripes[(int)(labels.StableHash % StripeCount)];

    public MemSeries? Find(Labels labels)
    {
        var stripe = Stripe(labels);
        lock (stripe) return stripe.TryGetValue(labels, out var s) ? s : null;
    }

    public MemSeries? Find(ulong seriesRef) => _byRef.TryGetValue(seriesRef, out var s) ? s : null;

    /// <summary>
    /// The series with these labels, created with <paramref name="newRef"/> when absent. <paramref name="beforePublish"/> runs
    /// for a new series before any other appender can find it (the WAL's Series record must precede any Samples record
    /// that refers to it, or a replay would drop those samples).
    /// </summary>
    public MemSeries GetOrCreate(Labels labels, Func<ulong> newRef, Action<MemSeries> beforePublish, out bool created)
    {
        var stripe = Stripe(labels);
        MemSeries series;
        lock (stripe)
        {
            if (stripe.TryGetValue(labels, out var existing))
            {
                created = false;
                return existing;
            }
            series = new MemSeries(newRef(), labels, _blockRange);
            beforePublish(series);
            stripe[labels] = series;
            created = true;
        }
        Register(series);
        return series;
    }

    /// <summary>Recreates a series from the WAL with its logged reference.</summary>
    public MemSeries Restore(ulong seriesRef, Labels labels)
    {
        var stripe = Stripe(labels);
        lock (stripe)
        {
            if (stripe.TryGetValue(labels, out var existing))
            {
                _byRef[seriesRef] = existing; // the same series logged twice (concurrent creators): both refs lead to it
                return existing;
            }
            var series = new MemSeries(seriesRef, labels, _blockRange);
            stripe[labels] = series;
            Register(series);
            return series;
        }
    }

    private void Register(MemSeries series)
    {
        _byRef[series.Ref] = series;
        _postingsLock.EnterWriteLock();
        try
        {
            foreach (var l in series.Labels)
            {
                if (!_postings.TryGetValue(l.Name, out var values)) _postings[l.Name] = values = new Dictionary<string, List<MemSeries>>(StringComparer.Ordinal);
                if (!values.TryGetValue(l.Value, out var list)) values[l.Value] = list = new List<MemSeries>();
                list.Add(series);
            }
        }
        finally
        {
            _postingsLock.ExitWriteLock();
        }
    }

    /// <summary>Series matching every matcher: candidates from the smallest postings list of an equality matcher, then filtered.</summary>
    /// <summary>The series matching every matcher; the matching loop observes <paramref name="ct"/> (a regex over many series is slow).</summary>
    public List<MemSeries> Select(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        IEnumerable<MemSeries> candidates;
        _postingsLock.EnterReadLock();
        try
        {
            List<MemSeries>? best = null;
            foreach (var m in matchers)
            {
                if (m.Type != MatchType.Equal || m.Value.Length == 0) continue;
                var list = _postings.TryGetValue(m.Name, out var values) && values.TryGetValue(m.Value, out var l) ? l : [];
                if (best is null || list.Count < best.Count) best = list;
            }
            candidates = best is not null ? best.ToArray() : _byRef.Values.Distinct().ToArray();
        }
        finally
        {
            _postingsLock.ExitReadLock();
        }
        var result = new List<MemSeries>();
        int n = 0;
        foreach (var s in candidates)
        {
            if ((++n & 1023) == 0) ct.ThrowIfCancellationRequested();
            bool all = true;
            foreach (var m in matchers)
                if (!m.Matches(s.Labels.Get(m.Name))) { all = false; break; }
            if (all) result.Add(s);
        }
        return result;
    }

    public IEnumerable<Labels> AllLabels() => DistinctSeries().Select(s => s.Labels);

    public IQuerier Querier(long minT, long maxT) => new HeadQuerier(this, minT, maxT);

    private sealed class HeadQuerier(Head head, long minT, long maxT) : IQuerier
    {
        public ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            long from = Math.Max(minT, hints?.Start ?? minT), to = Math.Min(maxT, hints?.End ?? maxT);
            var list = new List<ISeries>();
            foreach (var s in head.Select(matchers, ct))
            {
                List<ChunkData> chunks;
                (long, double)[] ooo;
                lock (s.Lock)
                {
                    if (!s.HasData || s.MaxT < from || s.MinT > to) continue;
                    (chunks, ooo) = s.Snapshot(from, to);
                }
                if (chunks.Count == 0 && ooo.Length == 0) continue;
                list.Add(new HeadSeries(s.Labels, chunks, ooo));
            }
            if (sorted) list.Sort(static (a, b) => a.Labels.CompareTo(b.Labels));
            return ValueTask.FromResult<ISeriesSet>(new ListSeriesSet(list));
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var values = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var s in InRange(matchers, ct))
                if (s.Labels.Get(name) is { Length: > 0 } v) values.Add(v);
            return ValueTask.FromResult<IReadOnlyList<string>>(values.ToList());
        }

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var names = new SortedSet<string>(StringComparer.Ordinal);
            foreach (var s in InRange(matchers, ct))
                foreach (var l in s.Labels) names.Add(l.Name);
            return ValueTask.FromResult<IReadOnlyList<string>>(names.ToList());
        }

        /// <summary>The matching series with data in the querier's range; observes <paramref name="ct"/> while matching and here.</summary>
        private IEnumerable<MemSeries> InRange(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct)
        {
            int n = 0;
            foreach (var s in head.Select(matchers, ct))
            {
                if ((++n & 1023) == 0) ct.ThrowIfCancellationRequested();
                bool inRange;
                lock (s.Lock) inRange = s.HasData && s.MaxT >= minT && s.MinT <= maxT;
                if (inRange) yield return s;
            }
        }

        public void Dispose() { }
    }
}

/// <summary>A snapshot of a head series: its in-order chunks one after the other, merged with its out-of-order samples.</summary>
internal sealed class HeadSeries(Labels labels, List<ChunkData> chunks, (long T, double V)[] outOfOrder) : ISeries
{
    public Labels Labels { get; } = labels;

    public ISampleIterator Iterator(ISampleIterator? reuse = null)
    {
        ISampleIterator inOrder = new ChunkSequenceIterator(chunks);
        if (outOfOrder.Length == 0) return inOrder;
        var ooo = new ArraySampleIterator(outOfOrder.Select(s => s.T).ToArray(), outOfOrder.Select(s => s.V).ToArray(), outOfOrder.Length);
        return new MergeSampleIterator([inOrder, ooo]);
    }
}

/// <summary>Iterates consecutive, non-overlapping chunks as one series; Seek skips whole chunks that end before the time.</summary>
internal sealed class ChunkSequenceIterator(List<ChunkData> chunks) : ISampleIterator
{
    private int _index = -1;
    private XorIterator? _current;
    private Exception? _err;

    public Exception? Err => _err;

    public Amphora.Storage.ValueType Next()
    {
        while (_err is null)
        {
            if (_current is null)
            {
                if (++_index >= chunks.Count) return Amphora.Storage.ValueType.None;
                _current = new XorIterator(chunks[_index].Bytes);
            }
            var state = _current.Next();
            if (state != Amphora.Storage.ValueType.None) return state;
            _err = _current.Err;
            _current = null;
        }
        return Amphora.Storage.ValueType.None;
    }

    public Amphora.Storage.ValueType Seek(long t)
    {
        while (_err is null)
        {
            if (_current is null)
            {
                do { _index++; } while (_index < chunks.Count && chunks[_index].MaxT < t);
                if (_index >= chunks.Count) return Amphora.Storage.ValueType.None;
                _current = new XorIterator(chunks[_index].Bytes);
            }
            var state = _current.Seek(t);
            if (state != Amphora.Storage.ValueType.None) return state;
            _err = _current.Err;
            _current = null;
        }
        return Amphora.Storage.ValueType.None;
    }

    public (long T, double V) At() => _current!.At();
    public long AtT() => _current!.AtT();
}
