using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;

namespace Amphora.Tsdb;

/// <summary>
/// Float native histograms of a series, in float histogram chunks (encoding 3), in order only as integer histograms. The open
/// chunk takes a sample of its exact layout; a counter going down (count, zero count or a bucket of the same index) or the
/// reset hint starts a chunk whose header says so; any other layout change, a switch between gauge and counter, or a sample
/// after a staleness marker starts a chunk with an unknown header (readers detect resets themselves then).
/// </summary>
public sealed partial class MemSeries
{
    private FloatHistogramChunk? _floatHistogramHead;
    private FloatHistogram? _lastFloatHistogram;

    public AppendStatus CheckFloatHistogram(long t, FloatHistogram h, out bool noOp)
    {
        noOp = false;
        if (MaxT == long.MinValue || t > MaxT) return AppendStatus.Ok;
        if (t == MaxT)
        {
            noOp = _lastFloatHistogram is { } last && (StaleNaN.Is(last.Sum) ? StaleNaN.Is(h.Sum) : last.IdenticalTo(h));
            return noOp ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
        }
        return AppendStatus.OutOfOrder;
    }

    public void ApplyFloatHistogram(long t, FloatHistogram h, long st = 0)
    {
        if (MaxT != long.MinValue && t <= MaxT) return;
        bool stale = StaleNaN.Is(h.Sum);
        var layout = new HistogramLayout(h.Schema, h.ZeroThreshold, h.PositiveSpans, h.NegativeSpans, h.CustomValues);
        var chunk = _floatHistogramHead;
        var header = CounterResetHint.Unknown;
        if (chunk is null || t >= _headCutAt || chunk.Count >= 2 * FloatHistogramChunk.MaxSamples) chunk = null;
        else if (!stale)
        {
            bool gauge = h.CounterResetHint == CounterResetHint.Gauge;
            if (chunk.LastIsStale || gauge != (chunk.Header == CounterResetHint.Gauge) || !chunk.Layout.SameAs(layout)) chunk = null;
            else if (h.CounterResetHint == CounterResetHint.CounterReset || (!gauge && Decreased(chunk, h)))
            {
                chunk = null;
                header = CounterResetHint.CounterReset;
            }
        }
        if (chunk is null)
        {
            CloseHeadChunks();
            StartChunkRange(t);
            if (h.CounterResetHint == CounterResetHint.Gauge) header = CounterResetHint.Gauge;
            chunk = new FloatHistogramChunk(header);
        }
        _floatHistogramHead = chunk;
        chunk.Append(t, layout, h.Count, h.ZeroCount, h.Sum, h.PositiveBuckets, h.NegativeBuckets);
        RecordStartTimestamp(chunk.Count - 1, st);
        if (chunk.Count == FloatHistogramChunk.MaxSamples / 4) _headCutAt = PlannedEnd(chunk.MinT, t, _headBoundary);
        MaxT = t;
        _lastFloatHistogram = h;
        _lastHistogram = null;
        if (t < MinT) MinT = t;
    }

    /// <summary>Whether a count went down against the chunk's last sample (same layout: buckets compare by position).</summary>
    private static bool Decreased(FloatHistogramChunk chunk, FloatHistogram h)
    {
        if (h.Count < chunk.LastCount || h.ZeroCount < chunk.LastZeroCount) return true;
        var p = chunk.LastPositive();
        for (int i = 0; i < p.Length; i++) if (h.PositiveBuckets[i] < p[i]) return true;
        var n = chunk.LastNegative();
        for (int i = 0; i < n.Length; i++) if (h.NegativeBuckets[i] < n[i]) return true;
        return false;
    }
}
