using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;

namespace Amphora.Tsdb;

/// <summary>
/// Integer native histograms of a series. As in Prometheus 2.42 they are in order only: a histogram older than the series'
/// newest sample is refused as out of order whatever the out-of-order window. The open histogram chunk takes a sample with
/// its layout; new buckets recode the chunk to the wider layout (older samples get those buckets at zero) and a sample
/// missing buckets of the chunk is widened to it; a counter reset (a count, the zero count or a bucket going down, or the
/// sender's reset hint), another schema, zero threshold or custom bounds, a switch between gauge and counter, or a sample
/// after a staleness marker starts a new chunk, whose header says why as Prometheus's does.
/// </summary>
public sealed partial class MemSeries
{
    private HistogramChunk? _histogramHead;
    private Histogram? _lastHistogram;

    /// <summary>Whether a histogram may be appended; <paramref name="noOp"/> when it repeats the newest sample exactly.</summary>
    public AppendStatus CheckHistogram(long t, Histogram h, out bool noOp)
    {
        noOp = false;
        if (MaxT == long.MinValue || t > MaxT) return AppendStatus.Ok;
        if (t == MaxT)
        {
            noOp = _lastHistogram is { } last && SameValue(last, h);
            return noOp ? AppendStatus.Ok : AppendStatus.DuplicateTimestamp;
        }
        return AppendStatus.OutOfOrder;
    }

    /// <summary>Stores a histogram that passed <see cref="CheckHistogram"/> (or comes from the WAL; a repeat is ignored), with
    /// its start timestamp <paramref name="st"/> (0 = none).</summary>
    public void ApplyHistogram(long t, Histogram h, long st = 0)
    {
        if (MaxT != long.MinValue && t <= MaxT) return;
        var chunk = _histogramHead;
        CounterResetHint header = CounterResetHint.Unknown;
        if (chunk is null || t >= _headCutAt || chunk.Count >= 2 * HistogramChunk.MaxSamples) chunk = null;
        else if (!h.IsStale) (chunk, header) = Fit(chunk!, ref h);
        if (chunk is null)
        {
            CloseHeadChunks();
            StartChunkRange(t);
            if (h.CounterResetHint == CounterResetHint.Gauge) header = CounterResetHint.Gauge;
            chunk = new HistogramChunk(header);
        }
        _histogramHead = chunk;
        chunk.Append(t, h);
        RecordStartTimestamp(chunk.Count - 1, st);
        if (chunk.Count == HistogramChunk.MaxSamples / 4) _headCutAt = PlannedEnd(chunk.MinT, t, _headBoundary);
        MaxT = t;
        _lastHistogram = h;
        _lastFloatHistogram = null;
        if (t < MinT) MinT = t;
    }

    /// <summary>
    /// The chunk <paramref name="h"/> goes into: the open one (recoded to a wider layout if needed, with <paramref name="h"/>
    /// widened to it), or null for a new chunk with the returned header.
    /// </summary>
    private static (HistogramChunk? Chunk, CounterResetHint Header) Fit(HistogramChunk chunk, ref Histogram h)
    {
        bool gauge = h.CounterResetHint == CounterResetHint.Gauge;
        if (chunk.LastIsStale) return (null, CounterResetHint.Unknown);
        if (gauge != (chunk.Header == CounterResetHint.Gauge)) return (null, CounterResetHint.Unknown);
        if (h.CounterResetHint == CounterResetHint.CounterReset) return (null, CounterResetHint.CounterReset);
        var layout = chunk.Layout;
        var incoming = HistogramLayout.Of(h);
        if (!gauge && h.Count < chunk.LastCount) return (null, CounterResetHint.CounterReset);
        if (!layout.SameBase(incoming)) return (null, CounterResetHint.Unknown);
        if (!gauge && h.ZeroCount < chunk.LastZeroCount) return (null, CounterResetHint.CounterReset);

        int[] oldPos = HistogramLayout.Indexes(layout.PositiveSpans), oldNeg = HistogramLayout.Indexes(layout.NegativeSpans);
        int[] newPos = HistogramLayout.Indexes(h.PositiveSpans), newNeg = HistogramLayout.Indexes(h.NegativeSpans);
        int[] pos = HistogramLayout.Union(oldPos, newPos), neg = HistogramLayout.Union(oldNeg, newNeg);
        long[] lastPos = HistogramLayout.Expand(Histogram.Absolute(chunk.LastPositive), oldPos, pos);
        long[] lastNeg = HistogramLayout.Expand(Histogram.Absolute(chunk.LastNegative), oldNeg, neg);
        long[] curPos = HistogramLayout.Expand(Histogram.Absolute(h.PositiveBuckets), newPos, pos);
        long[] curNeg = HistogramLayout.Expand(Histogram.Absolute(h.NegativeBuckets), newNeg, neg);
        if (!gauge && (Decreased(lastPos, curPos) || Decreased(lastNeg, curNeg))) return (null, CounterResetHint.CounterReset);

        if (pos.Length != newPos.Length || neg.Length != newNeg.Length)
            h = Widen(h, HistogramLayout.SpansOf(pos), curPos, HistogramLayout.SpansOf(neg), curNeg);
        if (pos.Length != oldPos.Length || neg.Length != oldNeg.Length)
            chunk = Recode(chunk, HistogramLayout.Of(h), oldPos, oldNeg, pos, neg);
        return (chunk, CounterResetHint.Unknown);
    }

    private static bool Decreased(long[] before, long[] after)
    {
        for (int i = 0; i < before.Length; i++)
            if (after[i] < before[i]) return true;
        return false;
    }

    private static Histogram Widen(Histogram h, HistogramSpan[] positiveSpans, long[] positive, HistogramSpan[] negativeSpans, long[] negative) => new()
    {
        CounterResetHint = h.CounterResetHint, Schema = h.Schema, ZeroThreshold = h.ZeroThreshold, ZeroCount = h.ZeroCount,
        Count = h.Count, Sum = h.Sum, CustomValues = h.CustomValues,
        PositiveSpans = positiveSpans, PositiveBuckets = Histogram.Deltas(positive),
        NegativeSpans = negativeSpans, NegativeBuckets = Histogram.Deltas(negative),
    };

    /// <summary>The chunk's samples again in the wider <paramref name="layout"/> (new buckets at zero), same header.</summary>
    private static HistogramChunk Recode(HistogramChunk chunk, HistogramLayout layout, int[] oldPos, int[] oldNeg, int[] pos, int[] neg)
    {
        var recoded = new HistogramChunk(chunk.Header);
        var it = new HistogramIterator(chunk.Snapshot());
        while (it.Next() == Amphora.Storage.ValueType.Histogram)
        {
            var old = it.AtHistogram();
            recoded.Append(it.AtT(), old.IsStale ? old : Widen(old, layout.PositiveSpans, HistogramLayout.Expand(Histogram.Absolute(old.PositiveBuckets), oldPos, pos),
                layout.NegativeSpans, HistogramLayout.Expand(Histogram.Absolute(old.NegativeBuckets), oldNeg, neg)));
        }
        if (it.Err is { } e) throw new InvalidOperationException("an open histogram chunk could not be decoded", e);
        return recoded;
    }

    /// <summary>The same observations (the hint aside, which a chunk does not keep sample by sample).</summary>
    private static bool SameValue(Histogram a, Histogram b)
    {
        if (a.IsStale || b.IsStale) return a.IsStale && b.IsStale;
        return a.Count == b.Count && a.ZeroCount == b.ZeroCount && a.Schema == b.Schema &&
            BitConverter.DoubleToInt64Bits(a.Sum) == BitConverter.DoubleToInt64Bits(b.Sum) &&
            BitConverter.DoubleToInt64Bits(a.ZeroThreshold) == BitConverter.DoubleToInt64Bits(b.ZeroThreshold) &&
            a.PositiveSpans.AsSpan().SequenceEqual(b.PositiveSpans) && a.NegativeSpans.AsSpan().SequenceEqual(b.NegativeSpans) &&
            a.PositiveBuckets.AsSpan().SequenceEqual(b.PositiveBuckets) && a.NegativeBuckets.AsSpan().SequenceEqual(b.NegativeBuckets) &&
            a.CustomValues.AsSpan().SequenceEqual(b.CustomValues);
    }
}
