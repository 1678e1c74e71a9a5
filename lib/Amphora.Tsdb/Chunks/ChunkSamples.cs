using Amphora.Model;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Tsdb.Chunks;

/// <summary>A float histogram sample as its chunk holds it (absolute counts), for re-encoding.</summary>
public sealed record FloatHistogramSample(HistogramLayout Layout, CounterResetHint Hint, double Count, double ZeroCount, double Sum,
    double[] Positive, double[] Negative);

/// <summary>One sample of any kind: a float (<see cref="H"/> and <see cref="F"/> null), an integer histogram or a float histogram;
/// <see cref="ST"/> is its start timestamp (0 = none), which the chunk encodings do not hold.</summary>
public readonly record struct ChunkSample(long T, double V, Histogram? H = null, FloatHistogramSample? F = null, long ST = 0)
{
    public ValueType Kind => H is not null ? ValueType.Histogram : F is not null ? ValueType.FloatHistogram : ValueType.Float;
}

/// <summary>
/// Decodes chunks of every encoding into samples and encodes time-ordered samples back into chunks: a new chunk at 120
/// samples, when the kind changes, and for histograms when the layout changes or after a staleness marker (the chunk keeps
/// the first sample's counter-reset hint as its header). Used where chunks must be re-cut (merging overlapping chunks).
/// </summary>
public static class ChunkSamples
{
    public static void Decode(ChunkData chunk, List<ChunkSample> into)
    {
        var it = ChunkIterators.For(chunk);
        ValueType vt;
        while ((vt = it.Next()) != ValueType.None)
        {
            into.Add(vt switch
            {
                ValueType.Histogram => new ChunkSample(it.AtT(), 0, ((HistogramIterator)it).AtHistogram()),
                ValueType.FloatHistogram => new ChunkSample(it.AtT(), 0, F: Snapshot((FloatHistogramIterator)it)),
                _ => new ChunkSample(it.AtT(), it.At().V),
            });
        }
        if (it.Err is { } e) throw new InvalidDataException($"chunk [{chunk.MinT}, {chunk.MaxT}] cannot be decoded: {e.Message}", e);
    }

    private static FloatHistogramSample Snapshot(FloatHistogramIterator it) =>
        new(it.IsStale ? HistogramLayout.Empty : it.Layout, it.Hint, it.CountValue, it.ZeroCountValue, it.SumValue, it.Positive.ToArray(), it.Negative.ToArray());

    public static List<ChunkData> Encode(IEnumerable<ChunkSample> samples)
    {
        var result = new List<ChunkData>();
        XorChunk? xor = null;
        HistogramChunk? hist = null;
        FloatHistogramChunk? fhist = null;
        void Close()
        {
            if (xor is { Count: > 0 }) result.Add(new ChunkData(xor.Snapshot(), xor.MinT, xor.MaxT, xor.Count));
            if (hist is { Count: > 0 }) result.Add(hist.ToChunkData());
            if (fhist is { Count: > 0 }) result.Add(fhist.ToChunkData());
            xor = null;
            hist = null;
            fhist = null;
        }
        foreach (var s in samples)
        {
            if (s.H is { } h)
            {
                bool fits = hist is { Count: < HistogramChunk.MaxSamples } && !hist.LastIsStale &&
                    (h.IsStale || (hist.Layout.SameAs(HistogramLayout.Of(h)) && h.CounterResetHint != CounterResetHint.CounterReset));
                if (!fits)
                {
                    Close();
                    hist = new HistogramChunk(h.CounterResetHint == CounterResetHint.NotCounterReset ? CounterResetHint.Unknown : h.CounterResetHint);
                }
                hist!.Append(s.T, h);
            }
            else if (s.F is { } f)
            {
                bool stale = StaleNaN.Is(f.Sum);
                bool fits = fhist is { Count: < FloatHistogramChunk.MaxSamples } && !fhist.LastIsStale &&
                    (stale || (fhist.Layout.SameAs(f.Layout) && f.Hint != CounterResetHint.CounterReset));
                if (!fits)
                {
                    Close();
                    fhist = new FloatHistogramChunk(f.Hint == CounterResetHint.NotCounterReset ? CounterResetHint.Unknown : f.Hint);
                }
                fhist!.Append(s.T, f.Layout, f.Count, f.ZeroCount, f.Sum, f.Positive, f.Negative);
            }
            else
            {
                if (xor is not { Count: < XorChunk.MaxSamples })
                {
                    Close();
                    xor = new XorChunk();
                }
                xor.Append(s.T, s.V);
            }
        }
        Close();
        return result;
    }
}
