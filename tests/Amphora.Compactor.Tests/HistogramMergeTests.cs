using Amphora.Model;
using Amphora.Tsdb.Chunks;
using Xunit;

namespace Amphora.Compactor.Tests;

public sealed class HistogramMergeTests
{
    private static Histogram H(int i) => new()
    {
        Schema = 1, Count = (ulong)(2 * i + 1), ZeroCount = 1, Sum = i,
        PositiveSpans = [new HistogramSpan(0, 2)], PositiveBuckets = Histogram.Deltas([i, i]),
    };

    private static ChunkData Chunk(IEnumerable<int> steps)
    {
        var c = new HistogramChunk();
        foreach (int i in steps) c.Append(i * 1000L, H(i));
        return c.ToChunkData();
    }

    [Fact]
    public void Overlapping_histogram_chunks_of_replicas_merge_into_histogram_chunks_holding_each_timestamp_once()
    {
        var labels = Labels.FromStrings("__name__", "h");
        // Two replicas that missed different samples: chunks that overlap in time, with a float chunk after them.
        var a = Chunk(Enumerable.Range(0, 150).Where(i => i % 7 != 3));
        var b = Chunk(Enumerable.Range(0, 150).Where(i => i % 5 != 1));
        var floats = new XorChunk();
        floats.Append(200_000, 1);
        floats.Append(201_000, 2);
        var xor = new ChunkData(floats.Snapshot(), floats.MinT, floats.MaxT, floats.Count);
        var merged = BlockMerger.Merge([[(labels, [a, xor])], [(labels, [b])]]);
        MergeCheck.Verify(merged);
        var series = Assert.Single(merged.Series);
        var present = Enumerable.Range(0, 150).Where(i => i % 7 != 3 || i % 5 != 1).ToList(); // 31, 66, ... are in neither
        Assert.Equal(present.Count + 2, series.Chunks.Sum(c => c.Count));
        Assert.Equal([HistogramChunk.Encoding, HistogramChunk.Encoding, XorChunk.Encoding], series.Chunks.Select(c => c.Encoding));
        var samples = new List<ChunkSample>();
        foreach (var c in series.Chunks) ChunkSamples.Decode(c, samples);
        for (int k = 0; k < present.Count; k++)
        {
            Assert.Equal(present[k] * 1000L, samples[k].T);
            Assert.Equal(H(present[k]).Count, samples[k].H!.Count);
        }
        Assert.Equal(2, samples[^1].V);
    }
}
