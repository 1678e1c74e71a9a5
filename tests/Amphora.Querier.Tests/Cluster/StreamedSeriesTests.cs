using Amphora.Cluster.Protocol;
using Amphora.Model;
using Amphora.Querier.Cluster;
using Amphora.Storage;
using Amphora.Tsdb;
using Amphora.Tsdb.Chunks;
using Google.Protobuf;
using Xunit;
using CounterResetHint = Amphora.Model.CounterResetHint;
using Histogram = Amphora.Model.Histogram;
using Label = Amphora.Cluster.Protocol.Label;
using ValueType = Amphora.Storage.ValueType;

namespace Amphora.Querier.Tests.Cluster;

/// <summary>How the querier reads the series ingesters stream: histogram chunks decoded, replicas merged (identical chunks
/// once, the rest sample by sample), unreadable chunks refused with what was wrong.</summary>
public sealed class StreamedSeriesTests
{
    private static Histogram H(int i) => new()
    {
        Schema = 0, Count = (ulong)(2 * i), Sum = i, PositiveSpans = [new HistogramSpan(0, 2)], PositiveBuckets = Histogram.Deltas([i, i]),
    };

    private static Chunk Chunk(params int[] steps)
    {
        var c = new HistogramChunk();
        foreach (int i in steps) c.Append(i * 1000L, H(i));
        return new Chunk { MinTimeMs = c.MinT, MaxTimeMs = c.MaxT, Encoding = HistogramChunk.Encoding, Data = ByteString.CopyFrom(c.Bytes) };
    }

    private static StreamSeries Replica(params Chunk[] chunks)
    {
        var s = new StreamSeries { Labels = { new Label { Name = "__name__", Value = "rpc_seconds" } } };
        s.Chunks.AddRange(chunks);
        return s;
    }

    private static List<(long T, double Count, CounterResetHint Hint)> Read(ISampleIterator it)
    {
        var result = new List<(long, double, CounterResetHint)>();
        for (var vt = it.Next(); vt != ValueType.None; vt = it.Next())
        {
            Assert.Equal(ValueType.Histogram, vt);
            var (t, h) = it.AtFloatHistogram();
            result.Add((t, h.Count, h.CounterResetHint));
        }
        Assert.Null(it.Err);
        return result;
    }

    [Fact]
    public void Chunks_sent_whole_are_read_only_inside_the_requested_range_alone_and_merged()
    {
        var labels = Labels.FromStrings("__name__", "rpc_seconds");
        var one = StreamedSeries.From(Replica(Chunk(1, 2, 3), Chunk(4, 5)), "a", 2000, 4000);
        Assert.Equal([2000L, 3000, 4000], Read(one.Iterator()).Select(s => s.T));
        var seek = one.Iterator();
        Assert.Equal(Amphora.Storage.ValueType.None, seek.Seek(4001));
        Assert.Equal(Amphora.Storage.ValueType.None, seek.Next());

        var merged = StreamedSeries.Merge(labels, [one, StreamedSeries.From(Replica(Chunk(1, 3), Chunk(4, 5, 6)), "b", 2000, 4000)]);
        Assert.Equal([2000L, 3000, 4000], Read(merged.Iterator()).Select(s => s.T));
    }

    [Fact]
    public void Replicas_with_identical_chunks_are_read_once_and_one_that_differs_is_merged_sample_by_sample()
    {
        var labels = Labels.FromStrings("__name__", "rpc_seconds");
        var same = Enumerable.Range(0, 3).Select(_ => (ISeries)StreamedSeries.From(Replica(Chunk(1, 2, 3), Chunk(4, 5)), "i")).ToArray();
        var once = StreamedSeries.Merge(labels, same).Iterator();
        Assert.IsType<ChunkSequenceIterator>(once); // no per-sample merge: one copy of the chunks
        Assert.Equal([1000L, 2000, 3000, 4000, 5000], Read(once).Select(s => s.T));

        // The third replica missed sample 2 (its first chunk differs) and has a sample 6 the others lack.
        var parts = new ISeries[]
        {
            StreamedSeries.From(Replica(Chunk(1, 2, 3), Chunk(4, 5)), "a"),
            StreamedSeries.From(Replica(Chunk(1, 2, 3), Chunk(4, 5)), "b"),
            StreamedSeries.From(Replica(Chunk(1, 3), Chunk(4, 5, 6)), "c"),
        };
        var merged = Read(StreamedSeries.Merge(labels, parts).Iterator());
        Assert.Equal([1000L, 2000, 3000, 4000, 5000, 6000], merged.Select(s => s.T));
        Assert.Equal([2.0, 4, 6, 8, 10, 12], merged.Select(s => s.Count));
        // Sample 6 comes from another replica's chunk than sample 5: its "no reset" (said of that chunk's sample 5) becomes
        // unknown, so readers compare it with the sample they saw before it.
        Assert.Equal(CounterResetHint.Unknown, merged[^1].Hint);
        Assert.Equal(CounterResetHint.NotCounterReset, merged[1].Hint);
    }

    [Fact]
    public void A_chunk_of_an_unknown_encoding_or_out_of_order_is_refused_naming_the_ingester_and_the_series()
    {
        var unknown = Replica(Chunk(1, 2));
        unknown.Chunks[0].Encoding = 7;
        var e = Assert.Throws<InvalidStreamedChunkException>(() => StreamedSeries.From(unknown, "ingester-2"));
        Assert.Contains("ingester ingester-2", e.Message);
        Assert.Contains("rpc_seconds", e.Message);
        Assert.Contains("encoding 7", e.Message);
        Assert.Throws<InvalidStreamedChunkException>(() => StreamedSeries.From(Replica(Chunk(4, 5), Chunk(1, 2)), "ingester-0"));
    }

    [Fact]
    public void Start_timestamps_beside_a_chunk_are_read_per_sample_and_a_count_that_does_not_match_is_refused()
    {
        var withStarts = Chunk(1, 2, 3);
        withStarts.StartTimestamps.Add([500, 0, 2500]);
        var it = StreamedSeries.From(Replica(withStarts, Chunk(4, 5)), "ingester-0").Iterator();
        var starts = new List<long>();
        while (it.Next() != ValueType.None) starts.Add(it.AtST());
        Assert.Equal([500, 0, 2500, 0, 0], starts);

        var wrong = Chunk(1, 2, 3);
        wrong.StartTimestamps.Add([500, 1500]);
        var e = Assert.Throws<InvalidStreamedChunkException>(() => StreamedSeries.From(Replica(wrong), "ingester-0"));
        Assert.Contains("3 samples with 2 start timestamps", e.Message);
    }
}
