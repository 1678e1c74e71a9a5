using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.Model;
using Amphora.Tsdb.Chunks;
using Grpc.Core;
using ValueType = Amphora.Storage.ValueType;
using CounterResetHint = Amphora.Model.CounterResetHint;
using Label = Amphora.Cluster.Protocol.Label;

namespace Amphora.Ingester.Tests.Grpc;

/// <summary>Native histograms over the ingester's gRPC API: pushed as typed messages, stored, streamed back as histogram and
/// float histogram chunks that decode to what was pushed; a malformed one refuses the whole push.</summary>
public sealed class IngesterHistogramGrpcTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private static Amphora.Model.Histogram Counter(int i, CounterResetHint hint = CounterResetHint.Unknown) => new()
    {
        CounterResetHint = hint, Schema = 1, ZeroThreshold = 0.001, ZeroCount = (ulong)i, Count = (ulong)(5 * i + 3), Sum = 2.5 * i,
        PositiveSpans = [new HistogramSpan(-1, 2), new HistogramSpan(3, 1)], PositiveBuckets = Amphora.Model.Histogram.Deltas([i, 2 * i, 1]),
        NegativeSpans = [new HistogramSpan(0, 1)], NegativeBuckets = [i + 2],
    };

    private static Amphora.Model.Histogram Custom(int i) => new()
    {
        Schema = Amphora.Model.Histogram.CustomBucketsSchema, Count = (ulong)(3 * i), Sum = 0.75 * i,
        PositiveSpans = [new HistogramSpan(0, 3)], PositiveBuckets = Amphora.Model.Histogram.Deltas([i, i, i]), CustomValues = [0.1, 0.5],
    };

    private static Amphora.Model.FloatHistogram Gauge(int i) => new()
    {
        CounterResetHint = CounterResetHint.Gauge, Schema = 0, ZeroThreshold = 0.5, ZeroCount = 0.25, Count = 1.25 + i, Sum = -3.5 + i,
        PositiveSpans = [new HistogramSpan(2, 2)], PositiveBuckets = [0.5, 0.5 + i],
    };

    private static Series Series(string metric)
    {
        var s = new Series();
        s.Labels.Add(new Label { Name = "__name__", Value = metric });
        return s;
    }

    private static List<(long T, ValueType Kind, object H)> Decode(StreamSeries s)
    {
        var result = new List<(long, ValueType, object)>();
        foreach (var c in s.Chunks)
        {
            var it = ChunkIterators.For(new ChunkData(c.Data.ToByteArray(), c.MinTimeMs, c.MaxTimeMs, 0, (byte)c.Encoding));
            for (var vt = it.Next(); vt != ValueType.None; vt = it.Next())
                result.Add((it.AtT(), vt, vt == ValueType.Histogram ? ((HistogramIterator)it).AtHistogram() : it.AtFloatHistogram().H));
            Assert.Null(it.Err);
        }
        return result;
    }

    [Fact]
    public async Task Integer_float_and_custom_bucket_histograms_are_stored_and_stream_back_as_histogram_chunks_with_their_hints()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        using var client = IngesterGrpcTests.Client(server);
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 600_000;
        var request = new PushRequest { Workspace = "ws" };
        var counters = Series("rpc_seconds");
        // 130 samples, more than a chunk holds; a reset at sample 125 starts the last chunk with a reset header.
        for (int i = 0; i < 130; i++)
            counters.Histograms.Add(ProtoConvert.ToProto(start + i * 1000, i < 125 ? Counter(i) : Counter(i - 125, i == 125 ? CounterResetHint.CounterReset : CounterResetHint.Unknown)));
        var custom = Series("rpc_custom_seconds");
        for (int i = 1; i <= 3; i++) custom.Histograms.Add(ProtoConvert.ToProto(start + i * 1000, Custom(i)));
        var gauges = Series("queue_depth");
        for (int i = 0; i < 3; i++) gauges.FloatHistograms.Add(ProtoConvert.ToProto(start + i * 1000, Gauge(i)));
        gauges.FloatHistograms.Add(ProtoConvert.ToProto(start + 3000, new Amphora.Model.FloatHistogram { Sum = StaleNaN.Value }));
        request.Series.Add(counters);
        request.Series.Add(custom);
        request.Series.Add(gauges);
        var pushed = await client.PushAsync(request, Timeout, default);
        Assert.Equal(137, pushed.SamplesAccepted);
        Assert.Empty(pushed.Rejections);

        var streamed = new List<StreamSeries>();
        await foreach (var batch in client.QueryStreamAsync(IngesterGrpcTests.Query("ws", ".+", "=~"), Timeout, default)) streamed.AddRange(batch.Series);
        Assert.Equal(["queue_depth", "rpc_custom_seconds", "rpc_seconds"], streamed.Select(s => s.Labels.Single().Value));
        Assert.All(streamed, s => Assert.DoesNotContain(s.Chunks, c => c.Encoding == XorChunk.Encoding));

        var gauge = streamed[0];
        Assert.Equal([FloatHistogramChunk.Encoding], gauge.Chunks.Select(c => (byte)c.Encoding).Distinct());
        var g = Decode(gauge);
        Assert.Equal(4, g.Count);
        for (int i = 0; i < 3; i++)
        {
            var h = (Amphora.Model.FloatHistogram)g[i].H;
            Assert.Equal((start + i * 1000, CounterResetHint.Gauge), (g[i].T, h.CounterResetHint));
            Assert.True(Gauge(i).IdenticalTo(h), $"gauge {i}: {h}");
        }
        Assert.True(StaleNaN.Is(((Amphora.Model.FloatHistogram)g[3].H).Sum));

        var c = Decode(streamed[1]);
        Assert.Equal(3, c.Count);
        for (int i = 0; i < 3; i++) AssertSame(Custom(i + 1), (Amphora.Model.Histogram)c[i].H);

        var rpc = streamed[2];
        Assert.Equal([HistogramChunk.Encoding], rpc.Chunks.Select(x => (byte)x.Encoding).Distinct());
        Assert.Equal((start + 125_000, start + 129_000), (rpc.Chunks[^1].MinTimeMs, rpc.Chunks[^1].MaxTimeMs));
        var starts = rpc.Chunks.Select(x => (int)((x.MinTimeMs - start) / 1000)).ToList();
        var r = Decode(rpc);
        Assert.Equal(130, r.Count);
        for (int i = 0; i < 130; i++)
        {
            var expected = i < 125 ? Counter(i) : Counter(i - 125);
            var h = (Amphora.Model.Histogram)r[i].H;
            Assert.Equal(start + i * 1000, r[i].T);
            AssertSame(expected, h);
            // A chunk's first sample has its header's hint (reset, or unknown where the head cut its chunk), the others none.
            var hint = i == 125 ? CounterResetHint.CounterReset : starts.Contains(i) ? CounterResetHint.Unknown : CounterResetHint.NotCounterReset;
            Assert.True(hint == h.CounterResetHint, $"sample {i}: hint {h.CounterResetHint}, expected {hint}");
        }

        // A window streams the chunks that overlap it, whole (the querier reads only the samples inside).
        var window = IngesterGrpcTests.Query("ws", "rpc_seconds");
        window.StartMs = start + 10_500;
        window.EndMs = start + 20_000;
        var part = new List<StreamSeries>();
        await foreach (var batch in client.QueryStreamAsync(window, Timeout, default)) part.AddRange(batch.Series);
        var inWindow = Assert.Single(part);
        Assert.All(inWindow.Chunks, x => Assert.True(x.MaxTimeMs >= window.StartMs && x.MinTimeMs <= window.EndMs, $"[{x.MinTimeMs}, {x.MaxTimeMs}]"));
        Assert.Equal(rpc.Chunks.Where(x => x.MaxTimeMs >= window.StartMs && x.MinTimeMs <= window.EndMs).Select(x => x.Data), inWindow.Chunks.Select(x => x.Data));
        Assert.Equal(Enumerable.Range(11, 10).Select(i => start + i * 1000),
            Decode(inWindow).Select(x => x.T).Where(t => t >= window.StartMs && t <= window.EndMs));
    }

    private static void AssertSame(Amphora.Model.Histogram expected, Amphora.Model.Histogram actual)
    {
        Assert.Equal((expected.Schema, expected.ZeroThreshold, expected.ZeroCount, expected.Count, expected.Sum),
            (actual.Schema, actual.ZeroThreshold, actual.ZeroCount, actual.Count, actual.Sum));
        Assert.Equal(expected.PositiveSpans, actual.PositiveSpans);
        Assert.Equal(expected.NegativeSpans, actual.NegativeSpans);
        Assert.Equal(expected.PositiveBuckets, actual.PositiveBuckets);
        Assert.Equal(expected.NegativeBuckets, actual.NegativeBuckets);
        Assert.Equal(expected.CustomValues, actual.CustomValues);
    }

    [Fact]
    public async Task A_malformed_histogram_refuses_the_whole_push_and_a_histogram_out_of_order_is_a_rejection_marked_as_one()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        using var client = IngesterGrpcTests.Client(server);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var bad = new PushRequest { Workspace = "ws" };
        var floats = Series("up");
        floats.Samples.Add(new Sample { TimestampMs = now, Value = 1 });
        var broken = Series("rpc_seconds");
        var h = ProtoConvert.ToProto(now, Counter(3));
        h.PositiveDeltas.Add(5); // one more bucket count than the spans cover
        broken.Histograms.Add(h);
        bad.Series.Add(floats);
        bad.Series.Add(broken);
        var refused = await Assert.ThrowsAsync<RpcException>(() => client.PushAsync(bad, Timeout, default));
        Assert.Equal(StatusCode.InvalidArgument, refused.StatusCode);
        Assert.Contains("rpc_seconds", refused.Status.Detail);
        Assert.Contains("the positive spans cover 3 buckets but 4 positive bucket counts were sent", refused.Status.Detail);
        await foreach (var batch in client.QueryStreamAsync(IngesterGrpcTests.Query("ws", ".+", "=~"), Timeout, default))
            Assert.Empty(batch.Series); // the float sample of the same push was not applied either

        var ok = new PushRequest { Workspace = "ws" };
        var s = Series("rpc_seconds");
        s.Histograms.Add(ProtoConvert.ToProto(now, Counter(3)));
        ok.Series.Add(s);
        Assert.Equal(1, (await client.PushAsync(ok, Timeout, default)).SamplesAccepted);
        var late = new PushRequest { Workspace = "ws" };
        var l = Series("rpc_seconds");
        l.Histograms.Add(ProtoConvert.ToProto(now - 60_000, Counter(2)));
        late.Series.Add(l);
        var response = await client.PushAsync(late, Timeout, default);
        Assert.Equal(0, response.SamplesAccepted);
        var rejection = Assert.Single(response.Rejections);
        Assert.Equal((0, now - 60_000, Amphora.Cluster.Protocol.AppendStatus.OutOfOrder, true),
            (rejection.SeriesIndex, rejection.TimestampMs, rejection.Status, rejection.Histogram));
    }
}
