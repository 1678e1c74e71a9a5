using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;

namespace Amphora.Tsdb;

/// <summary>
/// One series in the head: closed XOR chunks, the open head chunk, and out-of-order samples kept sorted apart. All access
/// under <see cref="Lock"/>. In-order chunks are cut at 120 samples and never cross a block-range boundary. Native histograms
/// are in-order only and in histogram chunks of their own (MemSeries.Histograms.cs); a series may switch between the kinds.
/// </summary>
public sealed partial class MemSeries(ulong seriesRef, Labels labels, long blockRange)
{
    public readonly ulong Ref = seriesRef;
    public readonly Labels Labels = labels;
    /// <summary>The series itself (one object fewer per series than a separate lock object).</summary>
    public object Lock => this;
    private readonly List<ChunkData> _closed = new();
    private XorChunk? _head;
    private long _headBoundary, _headCutAt;
    private List<(long T, double V)>? _outOfOrder;

    // Appenders that found or created the series and have not committed or rolled back yet: the GC leaves a pinned series
    // alone, so a sample an appender checked against it is applied to a series the head still holds.
    private int _pins;

    /// <summary>Set when the head's GC removed the series (under <see cref="Lock"/> and its stripe's lock, together with
    /// leaving the stripe): an appender that finds it so looks the labels up again.</summary>
    public bool Removed { get; private set; }

    /// <summary>References the WAL also logged for this series (two creators raced, before a restart): replay aliases.</summary>
    internal List<ulong>? Aliases;

    /// <summary>Pins the series for an appender unless the GC removed it. Caller holds the lock.</summary>
    public bool TryPin()
    {
        if (Removed) return false;
        _pins++;
        return true;
    }

    /// <summary>Releases a pin of <see cref="TryPin"/>. Caller holds the lock.</summary>
    public void Unpin() => _pins--;

    /// <summary>Marks the series removed when it holds no samples and no appender holds it. Caller holds the lock.</summary>
    internal bool TryMarkRemoved()
    {
        if (HasData || _pins > 0 || Removed) return false;
        Removed = true;
        return true;
    }

    /// <summary>Whether the GC may remove the series now (no samples, no appender). Caller holds the lock.</summary>
    internal bool Collectable => !HasData && _pins == 0 && !Removed;

    public long MaxT { get; private set; } = long.MinValue;
    public long MinT { get; private set; } = long.MaxValue;
    private double _lastV;

    /// <summary>Whether the series holds samples (it may have none after its data moved to a block).</summary>
    public bool HasData => _closed.Count > 0 || _head is { Count: > 0 } || _histogramHead is { Count: > 0 } || _floatHistogramHead is { Count: > 0 } || _outOfOrder is { Count: > 0 };

    /// <summary>Whether a sample may be appended; <paramref name="noOp"/> when it repeats a stored sample exactly.</summary>
    public AppendStatus Check(long t, double v, long windowMs, out bool noOp)
    {
        noOp = false;
        if (MaxT == long.MinValue || t > MaxT) return AppendStatus.Ok;
        if (t == MaxT)
        {
            noOp = _lastHistogram is null && _lastFloatHistogram is null && SameBits(v, _lastV);
            return noOp ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
        }
        if (windowMs <= 0 || t < MaxT - windowMs) return AppendStatus.OutOfOrder;
        if (TryFind(t, out double existing))
        {
            noOp = SameBits(v, existing);
            return noOp ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
        }
        return AppendStatus.Ok;
    }

    /// <summary>
    /// Stores a sample that passed <see cref="Check"/> (or comes from the WAL): in order, or among the out-of-order ones.
    /// <paramref name="st"/> is its start timestamp (0 = none), kept for in-order samples.
    /// </summary>
    public void Apply(long t, double v, long st = 0)
    {
        if ((MaxT == long.MinValue || t > MaxT) && _lastFloatHistogram is not null && StaleNaN.Is(v))
        {
            ApplyFloatHistogram(t, new FloatHistogram { Sum = StaleNaN.Value }, st);
            return;
        }
        if ((MaxT == long.MinValue || t > MaxT) && _lastHistogram is not null && StaleNaN.Is(v))
        {
            // A staleness marker of a histogram series stays in its histogram chunk, as in Prometheus.
            ApplyHistogram(t, Histogram.Stale(), st);
            return;
        }
        if (MaxT == long.MinValue || t > MaxT)
        {
            if (_head is null || t >= _headCutAt || _head.Count >= 2 * XorChunk.MaxSamples) CutHeadChunk(t);
            _head!.Append(t, v);
            RecordStartTimestamp(_head.Count - 1, st);
            if (_head.Count == XorChunk.MaxSamples / 4) _headCutAt = PlannedEnd(_head.MinT, t, _headBoundary);
            MaxT = t;
            _lastV = v;
            _lastHistogram = null;
            _lastFloatHistogram = null;
            if (t < MinT) MinT = t;
            return;
        }
        if (t == MaxT || TryFind(t, out _)) return; // already stored (replay of a repeated sample)
        _outOfOrder ??= new List<(long, double)>();
        int i = _outOfOrder.BinarySearch((t, 0), Comparer<(long T, double V)>.Create((a, b) => a.T.CompareTo(b.T)));
        if (i >= 0) return;
        _outOfOrder.Insert(~i, (t, v));
        if (t < MinT) MinT = t;
    }

    private void CutHeadChunk(long t)
    {
        CloseHeadChunks();
        _head = new XorChunk();
        StartChunkRange(t);
    }

    /// <summary>Closes the open chunk, of whichever kind.</summary>
    private void CloseHeadChunks()
    {
        if (_head is { Count: > 0 }) _closed.Add(WithStartTimestamps(new ChunkData(_head.Snapshot(), _head.MinT, _head.MaxT, _head.Count)));
        if (_histogramHead is { Count: > 0 }) _closed.Add(WithStartTimestamps(_histogramHead.ToChunkData()));
        if (_floatHistogramHead is { Count: > 0 }) _closed.Add(WithStartTimestamps(_floatHistogramHead.ToChunkData()));
        _openST = null;
        _floatHistogramHead = null;
        _head = null;
        _histogramHead = null;
    }

    private void StartChunkRange(long t)
    {
        _headBoundary = (Math.DivRem(t, blockRange, out long rem) + (rem < 0 ? 0 : 1)) * blockRange;
        _headCutAt = _headBoundary;
    }

    /// <summary>
    /// When a chunk holding a quarter of its 120 samples should end so that the rest of the block range splits into chunks of
    /// about 120 samples at the rate seen so far (Prometheus plans its chunks the same way, and a block's size depends on it):
    /// a range that is not a multiple of 120 samples gets fewer, evenly filled chunks instead of a short last one. A series
    /// that speeds up is still cut at 240 samples.
    /// </summary>
    private static long PlannedEnd(long start, long current, long boundary)
    {
        long chunks = (boundary - start) / ((current - start + 1) * 4);
        return chunks <= 1 ? boundary : start + (boundary - start) / chunks;
    }

    private bool TryFind(long t, out double v)
    {
        if (_outOfOrder is not null)
        {
            foreach (var (ot, ov) in _outOfOrder)
                if (ot == t) { v = ov; return true; }
        }
        foreach (var chunk in Chunks())
        {
            if (t < chunk.MinT || t > chunk.MaxT || chunk.Encoding != XorChunk.Encoding) continue;
            var it = new XorIterator(chunk.Bytes);
            if (it.Seek(t) == Amphora.Storage.ValueType.Float && it.AtT() == t)
            {
                v = it.At().V;
                return true;
            }
        }
        v = 0;
        return false;
    }

    /// <summary>The in-order chunks (closed ones and a copy of the open one), oldest first. Caller holds the lock.</summary>
    public IEnumerable<ChunkData> Chunks()
    {
        foreach (var c in _closed) yield return c;
        if (_head is { Count: > 0 }) yield return WithStartTimestamps(new ChunkData(_head.Snapshot(), _head.MinT, _head.MaxT, _head.Count));
        if (_histogramHead is { Count: > 0 }) yield return WithStartTimestamps(_histogramHead.ToChunkData());
        if (_floatHistogramHead is { Count: > 0 }) yield return WithStartTimestamps(_floatHistogramHead.ToChunkData());
    }

    /// <summary>The samples in [minT, maxT) as chunks for a block: the in-order chunks as they are (they never cross a block
    /// boundary), the XOR ones re-encoded together with the out-of-order samples when there are any (histogram chunks stay as
    /// they are: histograms are never out of order). Caller holds the lock.</summary>
    public List<ChunkData> CollectRange(long minT, long maxT)
    {
        var chunks = Chunks().Where(c => c.MinT >= minT && c.MaxT < maxT).ToList();
        var ooo = _outOfOrder?.Where(s => s.T >= minT && s.T < maxT).ToList();
        if (ooo is not { Count: > 0 }) return chunks;
        var samples = new List<(long T, double V)>(chunks.Sum(c => c.Count) + ooo.Count);
        var histograms = chunks.Where(c => c.Encoding != XorChunk.Encoding).ToList();
        foreach (var c in chunks)
        {
            if (c.Encoding != XorChunk.Encoding) continue;
            var it = new XorIterator(c.Bytes);
            while (it.Next() != Amphora.Storage.ValueType.None) samples.Add(it.At());
        }
        samples.AddRange(ooo);
        samples.Sort(static (a, b) => a.T.CompareTo(b.T));
        var result = Blocks.BlockWriter.Encode(samples);
        if (histograms.Count == 0) return result;
        result.AddRange(histograms);
        result.Sort(static (a, b) => a.MinT.CompareTo(b.MinT));
        return result;
    }

    /// <summary>Drops chunks and out-of-order samples before <paramref name="time"/>. Caller holds the lock.</summary>
    public void TruncateBefore(long time)
    {
        _closed.RemoveAll(c => c.MaxT < time);
        if (_head is { } h && h.Count > 0 && h.MaxT < time) _head = null;
        if (_histogramHead is { Count: > 0 } hh && hh.MaxT < time) _histogramHead = null;
        if (_floatHistogramHead is { Count: > 0 } fh && fh.MaxT < time) _floatHistogramHead = null;
        if (_head is null && _histogramHead is null && _floatHistogramHead is null) _openST = null;
        _outOfOrder?.RemoveAll(s => s.T < time);
        if (_outOfOrder is { Count: 0 }) _outOfOrder = null;
        long min = long.MaxValue;
        if (_closed.Count > 0) min = _closed[0].MinT;
        if (_head is { Count: > 0 }) min = Math.Min(min, _head.MinT);
        if (_histogramHead is { Count: > 0 }) min = Math.Min(min, _histogramHead.MinT);
        if (_floatHistogramHead is { Count: > 0 }) min = Math.Min(min, _floatHistogramHead.MinT);
        if (_outOfOrder is { Count: > 0 }) min = Math.Min(min, _outOfOrder[0].T);
        MinT = min;
    }

    /// <summary>A consistent copy for a querier: chunks overlapping [minT, maxT] and the out-of-order samples. Caller holds the lock.</summary>
    public (List<ChunkData> Chunks, (long T, double V)[] OutOfOrder) Snapshot(long minT, long maxT)
    {
        var chunks = new List<ChunkData>();
        foreach (var c in _closed)
            if (c.MaxT >= minT && c.MinT <= maxT) chunks.Add(c);
        if (_head is { Count: > 0 } && _head.MaxT >= minT && _head.MinT <= maxT)
            chunks.Add(WithStartTimestamps(new ChunkData(_head.Snapshot(), _head.MinT, _head.MaxT, _head.Count)));
        if (_histogramHead is { Count: > 0 } hh && hh.MaxT >= minT && hh.MinT <= maxT) chunks.Add(WithStartTimestamps(hh.ToChunkData()));
        if (_floatHistogramHead is { Count: > 0 } fh && fh.MaxT >= minT && fh.MinT <= maxT) chunks.Add(WithStartTimestamps(fh.ToChunkData()));
        var ooo = _outOfOrder?.Where(s => s.T >= minT && s.T <= maxT).ToArray() ?? [];
        return (chunks, ooo);
    }

    private static bool SameBits(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);
}
