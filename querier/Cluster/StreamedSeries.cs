using Amphora.Cluster.Protocol;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb;
using Amphora.Tsdb.Chunks;

namespace Amphora.Querier.Cluster;

/// <summary>A chunk an ingester streamed that the querier cannot read (an encoding it does not know, times out of order).</summary>
public sealed class InvalidStreamedChunkException(string message) : Exception(message);

/// <summary>
/// One series as one ingester streamed it: its float samples and its native histograms as chunks (XOR, histogram or float
/// histogram). Replicas of a series are merged by <see cref="Merge"/>: chunks identical in every byte are read once, the
/// rest of each replica merged with it sample by sample.
/// </summary>
internal sealed class StreamedSeries : ISeries
{
    private readonly long[] _t;
    private readonly double[] _v;
    private readonly List<ChunkData> _chunks;

    private StreamedSeries(Labels labels, long[] t, double[] v, List<ChunkData> chunks)
    {
        Labels = labels;
        _t = t;
        _v = v;
        _chunks = chunks;
    }

    public Labels Labels { get; }

    /// <summary>The series of a QueryStream message; throws <see cref="InvalidStreamedChunkException"/> for a chunk that
    /// cannot be read.</summary>
    public static StreamedSeries From(StreamSeries s, string ingester)
    {
        var labels = Amphora.Cluster.ProtoConvert.ToLabels(s.Labels);
        var t = new long[s.Samples.Count];
        var v = new double[t.Length];
        for (int i = 0; i < t.Length; i++)
        {
            t[i] = s.Samples[i].TimestampMs;
            v[i] = s.Samples[i].Value;
        }
        var chunks = new List<ChunkData>(s.Chunks.Count);
        foreach (var c in s.Chunks)
        {
            if (c.Encoding is < 0 or > byte.MaxValue || !ChunkIterators.IsKnown((byte)c.Encoding) || c.Data.Length < 2 || c.MaxTimeMs < c.MinTimeMs ||
                (chunks.Count > 0 && c.MinTimeMs <= chunks[^1].MaxT))
                throw new InvalidStreamedChunkException($"ingester {ingester} sent series {labels} a chunk that cannot be read: encoding {c.Encoding}, " +
                    $"{c.Data.Length} bytes, [{c.MinTimeMs}, {c.MaxTimeMs}] ms (chunks must be of encoding 1, 2 or 3, in time order, not overlapping)");
            var data = c.Data.ToByteArray();
            chunks.Add(new ChunkData(data, c.MinTimeMs, c.MaxTimeMs, data[0] << 8 | data[1], (byte)c.Encoding));
        }
        return new StreamedSeries(labels, t, v, chunks);
    }

    public ISampleIterator Iterator(ISampleIterator? reuse = null) => Combine(_t.Length > 0 ? [(_t, _v)] : [], _chunks.Count > 0 ? [_chunks] : []);

    /// <summary>Merges the replicas of one series (every part a <see cref="StreamedSeries"/>).</summary>
    public static ISeries Merge(Labels labels, ISeries[] parts)
    {
        var replicas = Array.ConvertAll(parts, p => (StreamedSeries)p);
        var floats = new List<(long[], double[])>();
        var chunkRuns = new List<List<ChunkData>>();
        foreach (var r in replicas)
        {
            if (r._t.Length > 0 && !floats.Exists(f => f.Item1.AsSpan().SequenceEqual(r._t) && f.Item2.AsSpan().SequenceEqual(r._v))) floats.Add((r._t, r._v));
            var rest = r._chunks.FindAll(c => !chunkRuns.Exists(run => run.Exists(taken => Identical(taken, c))));
            if (rest.Count > 0) chunkRuns.Add(rest);
        }
        return new Merged(labels, floats, chunkRuns);
    }

    private static bool Identical(ChunkData a, ChunkData b) =>
        a.Encoding == b.Encoding && a.MinT == b.MinT && a.MaxT == b.MaxT && a.Bytes.AsSpan().SequenceEqual(b.Bytes);

    private static ISampleIterator Combine(List<(long[] T, double[] V)> floats, List<List<ChunkData>> chunkRuns)
    {
        var inputs = new List<ISampleIterator>(floats.Count + chunkRuns.Count);
        foreach (var (t, v) in floats) inputs.Add(new ArraySampleIterator(t, v, t.Length));
        foreach (var run in chunkRuns) inputs.Add(new ChunkSequenceIterator(run));
        return inputs.Count switch
        {
            0 => new ArraySampleIterator([], [], 0),
            1 => inputs[0],
            _ => new MergeSampleIterator(inputs.ToArray()),
        };
    }

    private sealed class Merged(Labels labels, List<(long[], double[])> floats, List<List<ChunkData>> chunkRuns) : ISeries
    {
        public Labels Labels { get; } = labels;
        public ISampleIterator Iterator(ISampleIterator? reuse = null) => Combine(floats, chunkRuns);
    }
}
