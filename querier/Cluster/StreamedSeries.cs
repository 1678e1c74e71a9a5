using Amphora.Cluster.Protocol;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb;
using Amphora.Tsdb.Chunks;

namespace Amphora.Querier.Cluster;

/// <summary>A chunk an ingester streamed that the querier cannot read (an encoding it does not know, times out of order).</summary>
public sealed class InvalidStreamedChunkException(string message) : Exception(message);

/// <summary>
/// One series as one ingester streamed it: its samples as chunks (XOR, histogram or float histogram), kept encoded; its
/// iterator decodes one chunk at a time. Replicas of a series are merged by <see cref="Merge"/>: chunks identical in every
/// byte are kept once, the rest of each replica merged with them sample by sample while reading.
/// </summary>
internal sealed class StreamedSeries : ISeries
{
    private readonly List<ChunkData> _chunks;
    private readonly long _minT, _maxT;

    private StreamedSeries(Labels labels, List<ChunkData> chunks, long minT, long maxT)
    {
        Labels = labels;
        _chunks = chunks;
        (_minT, _maxT) = (minT, maxT);
    }

    public Labels Labels { get; }

    /// <summary>The series of a QueryStream message, its chunks taken out of the message (see <see cref="Bytes"/>), read only in [minT, maxT] (the
    /// request's range: an ingester sends its stored chunks whole, samples outside the range included); throws
    /// <see cref="InvalidStreamedChunkException"/> for a chunk that cannot be read.</summary>
    public static StreamedSeries From(StreamSeries s, string ingester, long minT = long.MinValue, long maxT = long.MaxValue)
    {
        var labels = Amphora.Cluster.ProtoConvert.ToLabels(s.Labels);
        var chunks = new List<ChunkData>(s.Chunks.Count);
        foreach (var c in s.Chunks)
        {
            if (c.Encoding is < 0 or > byte.MaxValue || !ChunkIterators.IsKnown((byte)c.Encoding) || c.Data.Length < 2 || c.MaxTimeMs < c.MinTimeMs ||
                (chunks.Count > 0 && c.MinTimeMs <= chunks[^1].MaxT))
                throw new InvalidStreamedChunkException($"ingester {ingester} sent series {labels} a chunk that cannot be read: encoding {c.Encoding}, " +
                    $"{c.Data.Length} bytes, [{c.MinTimeMs}, {c.MaxTimeMs}] ms (chunks must be of encoding 1, 2 or 3, in time order, not overlapping)");
            var data = Bytes(c.Data);
            int count = data[0] << 8 | data[1];
            if (c.StartTimestamps.Count != 0 && c.StartTimestamps.Count != count)
                throw new InvalidStreamedChunkException($"ingester {ingester} sent series {labels} a chunk of {count} samples with " +
                    $"{c.StartTimestamps.Count} start timestamps (there must be one per sample, or none)");
            chunks.Add(new ChunkData(data, c.MinTimeMs, c.MaxTimeMs, count, (byte)c.Encoding, c.StartTimestamps.Count == 0 ? null : c.StartTimestamps.ToArray()));
        }
        return new StreamedSeries(labels, chunks, minT, maxT);
    }

    /// <summary>A chunk's bytes without copying them: a parsed message's bytes field owns an array of exactly its bytes that
    /// nothing writes to afterwards (and a stored chunk an in-process ingester wrapped is never changed in place), so the series
    /// keeps that array once the message is released. Bytes that are part of a larger array are copied.</summary>
    private static byte[] Bytes(Google.Protobuf.ByteString data) =>
        System.Runtime.InteropServices.MemoryMarshal.TryGetArray(data.Memory, out var whole) && whole.Offset == 0 && whole.Count == whole.Array!.Length
            ? whole.Array
            : data.ToByteArray();

    public ISampleIterator Iterator(ISampleIterator? reuse = null) => Combine([_chunks], _minT, _maxT);

    /// <summary>Merges the replicas of one series (every part a <see cref="StreamedSeries"/>): the first replica's chunks,
    /// then of each other replica the chunks that are not byte-identical to one already kept.</summary>
    public static ISeries Merge(Labels labels, ISeries[] parts)
    {
        var runs = new List<List<ChunkData>>(parts.Length);
        foreach (var part in parts)
        {
            var chunks = ((StreamedSeries)part)._chunks;
            if (runs.Count == 0)
            {
                if (chunks.Count > 0) runs.Add(chunks);
                continue;
            }
            List<ChunkData>? rest = null;
            foreach (var c in chunks)
                if (!runs.Exists(run => Holds(run, c))) (rest ??= new List<ChunkData>()).Add(c);
            if (rest is not null) runs.Add(rest);
        }
        var first = (StreamedSeries)parts[0];
        return new Merged(labels, runs, first._minT, first._maxT);
    }

    /// <summary>Whether <paramref name="run"/> (chunks in time order, not overlapping) holds a chunk identical to
    /// <paramref name="c"/>: found by its start time, then compared byte by byte.</summary>
    private static bool Holds(List<ChunkData> run, ChunkData c)
    {
        int lo = 0, hi = run.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            var m = run[mid];
            if (m.MinT < c.MinT) lo = mid + 1;
            else if (m.MinT > c.MinT) hi = mid - 1;
            else return m.Encoding == c.Encoding && m.MaxT == c.MaxT && m.Bytes.AsSpan().SequenceEqual(c.Bytes);
        }
        return false;
    }

    private static ISampleIterator Combine(List<List<ChunkData>> runs, long minT, long maxT)
    {
        ISampleIterator it = runs.Count switch
        {
            0 => new ChunkSequenceIterator([]),
            1 => new ChunkSequenceIterator(runs[0]),
            _ => new MergeSampleIterator(runs.ConvertAll(r => (ISampleIterator)new ChunkSequenceIterator(r)).ToArray()),
        };
        return minT == long.MinValue && maxT == long.MaxValue ? it : new Amphora.Storage.RangeSampleIterator(it, minT, maxT);
    }

    private sealed class Merged(Labels labels, List<List<ChunkData>> runs, long minT, long maxT) : ISeries
    {
        public Labels Labels { get; } = labels;
        public ISampleIterator Iterator(ISampleIterator? reuse = null) => Combine(runs, minT, maxT);
    }
}
