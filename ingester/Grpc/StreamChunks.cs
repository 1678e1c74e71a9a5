using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;
using Google.Protobuf;
using Google.Protobuf.Collections;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Ingester.Grpc;

/// <summary>
/// A series' samples as QueryStream sends them. A series that is its stored chunks one after the other (a head series without
/// out-of-order samples, a series of one block) sends the chunks that overlap the queried range as they are, samples outside
/// the range included (<see cref="AddStored"/>; the querier reads only those inside), and replicas that hold the same
/// samples hold the same chunks. Otherwise (a series merged from the head and blocks, or with out-of-order samples) its
/// samples in the range are re-encoded from what the iterator reads into Prometheus's chunks, XOR for floats and histogram or float histogram chunks for native histograms, in time order and
/// not overlapping. A chunk is cut at 120 samples and where the kind changes; a histogram chunk also at a layout change,
/// after a staleness marker, and wherever a sample's reset hint is not "no reset" (or "gauge" in a gauge chunk), so every
/// sample reads back with the hint it had: a possible reset is never hidden inside a chunk. Chunks are cut by sample count
/// from the first sample in the queried range, so replicas that hold the same samples send byte-identical chunks, which the
/// querier then reads once.
/// </summary>
internal static class StreamChunks
{
    /// <summary>The iterator's current sample of kind <paramref name="state"/>.</summary>
    public static ChunkSample Sample(ISampleIterator it, ValueType state)
    {
        long t = it.AtT(), st = it.AtST();
        if (state == ValueType.Float) return new ChunkSample(t, it.At().V, ST: st);
        if (state == ValueType.Histogram) return new ChunkSample(t, 0, it.AtHistogram(), ST: st);
        var (_, h) = it.AtFloatHistogram();
        var layout = StaleNaN.Is(h.Sum) ? HistogramLayout.Empty : new HistogramLayout(h.Schema, h.ZeroThreshold, h.PositiveSpans, h.NegativeSpans, h.CustomValues);
        return new ChunkSample(t, 0, F: new FloatHistogramSample(layout, h.CounterResetHint, h.Count, h.ZeroCount, h.Sum, h.PositiveBuckets, h.NegativeBuckets), ST: st);
    }

    /// <summary>Encodes <paramref name="samples"/> (of any kind, in time order) into chunks, each with its samples' start
    /// timestamps when any has one.</summary>
    public static void Add(RepeatedField<Cluster.Protocol.Chunk> into, List<ChunkSample> samples)
    {
        XorChunk? xor = null;
        HistogramChunk? integer = null;
        FloatHistogramChunk? floats = null;
        int first = 0; // the open chunk's first sample
        int i = 0;
        void Close()
        {
            int before = into.Count;
            if (xor is { Count: > 0 })
                into.Add(new Cluster.Protocol.Chunk { MinTimeMs = xor.MinT, MaxTimeMs = xor.MaxT, Encoding = XorChunk.Encoding, Data = ByteString.CopyFrom(xor.Bytes) });
            if (integer is { Count: > 0 }) Emit(into, integer.ToChunkData());
            if (floats is { Count: > 0 }) Emit(into, floats.ToChunkData());
            if (into.Count > before) AddStartTimestamps(into[^1], samples, first, i);
            first = i;
            xor = null;
            integer = null;
            floats = null;
        }
        for (; i < samples.Count; i++)
        {
            var s = samples[i];
            if (s.H is null && s.F is null)
            {
                if (xor is not { Count: < XorChunk.MaxSamples })
                {
                    Close();
                    xor = new XorChunk();
                }
                xor.Append(s.T, s.V);
            }
            else if (s.H is { } h)
            {
                if (integer is null || !Fits(integer.Count, integer.LastIsStale, integer.Header, h.IsStale, integer.Layout.SameAs(HistogramLayout.Of(h)), h.CounterResetHint))
                {
                    Close();
                    integer = new HistogramChunk(Header(h.CounterResetHint));
                }
                integer.Append(s.T, h);
            }
            else
            {
                var f = s.F!;
                bool stale = StaleNaN.Is(f.Sum);
                if (floats is null || !Fits(floats.Count, floats.LastIsStale, floats.Header, stale, floats.Layout.SameAs(f.Layout), f.Hint))
                {
                    Close();
                    floats = new FloatHistogramChunk(Header(f.Hint));
                }
                floats.Append(s.T, f.Layout, f.Count, f.ZeroCount, f.Sum, f.Positive, f.Negative);
            }
        }
        Close();
    }

    /// <summary>The start timestamps of samples [from, to), the chunk's, when any is known.</summary>
    private static void AddStartTimestamps(Cluster.Protocol.Chunk chunk, List<ChunkSample> samples, int from, int to)
    {
        bool any = false;
        for (int k = from; k < to && !any; k++) any = samples[k].ST != 0;
        if (!any) return;
        for (int k = from; k < to; k++) chunk.StartTimestamps.Add(samples[k].ST);
    }

    private static bool Fits(int count, bool lastStale, CounterResetHint header, bool stale, bool sameLayout, CounterResetHint hint) =>
        count < HistogramChunk.MaxSamples && !lastStale &&
        (stale || (sameLayout && hint == (header == CounterResetHint.Gauge ? CounterResetHint.Gauge : CounterResetHint.NotCounterReset)));

    /// <summary>The header of a chunk whose first sample has <paramref name="hint"/>: "no reset" reads back as unknown on a
    /// chunk's first sample, so it is written as unknown (readers then compare with the previous sample themselves).</summary>
    private static CounterResetHint Header(CounterResetHint hint) => hint == CounterResetHint.NotCounterReset ? CounterResetHint.Unknown : hint;

    /// <summary>A stored chunk (head or block) as it is: its bytes are not copied (stored chunks are never changed in place;
    /// an open head chunk is a snapshot), its start timestamps when it has them.</summary>
    public static void AddStored(RepeatedField<Cluster.Protocol.Chunk> into, ChunkData c)
    {
        var chunk = new Cluster.Protocol.Chunk { MinTimeMs = c.MinT, MaxTimeMs = c.MaxT, Encoding = c.Encoding, Data = UnsafeByteOperations.UnsafeWrap(c.Bytes) };
        if (c.StartTimestamps is { } st) chunk.StartTimestamps.AddRange(st);
        into.Add(chunk);
    }

    private static void Emit(RepeatedField<Cluster.Protocol.Chunk> into, ChunkData c) =>
        into.Add(new Cluster.Protocol.Chunk { MinTimeMs = c.MinT, MaxTimeMs = c.MaxT, Encoding = c.Encoding, Data = ByteString.CopyFrom(c.Bytes) });
}
