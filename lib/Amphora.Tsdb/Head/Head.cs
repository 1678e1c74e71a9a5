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
public sealed partial class Head : IQueryable
{
    private const int StripeCount = 32;
    private readonly Dictionary<Labels, MemSeries>[] _stripes = new Dictionary<Labels, MemSeries>[StripeCount];
    private readonly ConcurrentDictionary<ulong, MemSeries> _byRef = new();
    private readonly Dictionary<string, LabelPostings> _postings = new(StringComparer.Ordinal);
    private readonly ReaderWriterLockSlim _postingsLock = new();
    private readonly long _blockRange;

    public Head(long blockRange)
    {
        _blockRange = blockRange;
        for (int i = 0; i < StripeCount; i++) _stripes[i] = new Dictionary<Labels, MemSeries>();
    }

    private int _seriesCount;

    /// <summary>The series the head holds (each once, however many references the WAL logged for it).</summary>
    public int SeriesCount => Volatile.Read(ref _seriesCount);

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

    public IEnumerable<Labels> AllLabels() => DistinctSeries().Select(s => s.Labels);

    public IQuerier Querier(long minT, long maxT) => new HeadQuerier(this, minT, maxT);
}
