using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Amphora.Tsdb.Chunks;

namespace Amphora.Ingester.Tests.Grpc;

/// <summary>The ingester's gRPC service on Grpc.AspNetCore, called with the cluster's own client over h2c: round trips,
/// typed errors, deadlines, message-size limits and the health service.</summary>
public sealed class IngesterGrpcTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    internal static PushRequest Push(string workspace, int series, long t, string metric = "up", string? bigLabel = null)
    {
        var request = new PushRequest { Workspace = workspace };
        for (int i = 0; i < series; i++)
        {
            var s = new Series();
            s.Labels.Add(new Label { Name = "__name__", Value = metric });
            s.Labels.Add(new Label { Name = "i", Value = i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture) });
            if (bigLabel is not null) s.Labels.Add(new Label { Name = "pad", Value = bigLabel });
            s.Samples.Add(new Sample { TimestampMs = t, Value = i });
            request.Series.Add(s);
        }
        return request;
    }

    internal static QueryRequest Query(string workspace, string metric, string op = "=") => new()
    {
        Workspace = workspace, StartMs = 0, EndMs = long.MaxValue,
        Matchers =
        {
            new LabelMatcher { Type = op == "=~" ? LabelMatcher.Types.Type.Regex : LabelMatcher.Types.Type.Equal, Name = "__name__", Value = metric },
        },
    };

    internal static IngesterClient Client(IngesterGrpcServer server, ClusterTransport? transport = null) =>
        (transport ?? ClusterTransport.Plaintext).Client(server.HostPort, IngesterClient.MaxMessageSize);

    private static async Task<(int Messages, List<StreamSeries> Series)> ReadAsync(IngesterClient client, QueryRequest request, TimeSpan? timeout = null)
    {
        int messages = 0;
        var series = new List<StreamSeries>();
        await foreach (var batch in client.QueryStreamAsync(request, timeout ?? Timeout, default))
        {
            messages++;
            series.AddRange(batch.Series);
        }
        return (messages, series);
    }

    [Fact]
    public async Task A_push_comes_back_through_the_stream_in_batches_sorted_with_its_labels_and_the_state_names_the_instance()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        using var client = Client(server);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        Assert.Equal(600, (await client.PushAsync(Push("ws", 600, now), Timeout, default)).SamplesAccepted);

        var (messages, series) = await ReadAsync(client, Query("ws", "up"));
        Assert.Equal(3, messages); // 256 series a message
        Assert.Equal(Enumerable.Range(0, 600).Select(i => i.ToString("D5", System.Globalization.CultureInfo.InvariantCulture)),
            series.Select(s => s.Labels.Single(l => l.Name == "i").Value));
        Assert.All(series, s => Assert.Equal((now, now, (int)XorChunk.Encoding), (s.Chunks.Single().MinTimeMs, s.Chunks.Single().MaxTimeMs, s.Chunks.Single().Encoding)));
        var values = await client.LabelValuesAsync(new LabelValuesRequest { Workspace = "ws", Name = "i", EndMs = long.MaxValue }, Timeout, default);
        Assert.Equal(600, values.Values.Count);
        var state = await client.StateAsync(Timeout, default);
        Assert.Equal(("ingester-0", InstanceState.Active), (state.Instance, state.State));
    }

    [Fact]
    public async Task Float_samples_come_back_as_the_heads_xor_chunks_that_overlap_the_range_and_a_message_closes_at_about_a_mebibyte()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        using var client = Client(server);
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 3_600_000;
        var push = new PushRequest { Workspace = "ws" };
        var series = new Series { Labels = { new Label { Name = "__name__", Value = "long" } } };
        for (int i = 0; i < 300; i++) series.Samples.Add(new Sample { TimestampMs = start + i * 1000L, Value = i % 7 == 0 ? double.NaN : i * 0.5 });
        push.Series.Add(series);
        Assert.Equal(300, (await client.PushAsync(push, Timeout, default)).SamplesAccepted);

        // The head's chunks as they are (it plans them to fill the rest of its block range evenly, so not 120 each), also
        // when the range starts and ends inside them: the querier reads only the samples in range.
        var (_, streamed) = await ReadAsync(client, Query("ws", "long"));
        var whole = streamed.Single().Chunks;
        Assert.Equal([(int)XorChunk.Encoding], whole.Select(c => c.Encoding).Distinct());
        Assert.True(whole.Count > 2, $"{whole.Count} chunks");
        Assert.Equal(300, whole.Sum(c => c.Data[0] << 8 | c.Data[1]));
        Assert.Equal(series.Samples.Select(x => (x.TimestampMs, x.Value)), Decode(whole)); // NaN's bits included: XOR keeps them

        int firstEnd = whole[0].Data[0] << 8 | whole[0].Data[1];
        var cut = Query("ws", "long");
        (cut.StartMs, cut.EndMs) = (start + 10_000, start + (firstEnd + 9) * 1000L);
        var (_, cutStreamed) = await ReadAsync(client, cut);
        Assert.Equal(whole.Take(2).Select(c => c.Data), cutStreamed.Single().Chunks.Select(c => c.Data));

        // 8 KiB of labels a series: a message reaches 1 MiB at 128 series, well before the 256 a message at most holds.
        Assert.Equal(300, (await client.PushAsync(Push("ws", 300, start, "padded", new string('p', 8192)), Timeout, default)).SamplesAccepted);
        var (messages, padded) = await ReadAsync(client, Query("ws", "padded"));
        Assert.Equal((3, 300), (messages, padded.Count));
    }

    private static List<(long, double)> Decode(IEnumerable<Chunk> chunks)
    {
        var read = new List<(long, double)>();
        foreach (var c in chunks)
        {
            var it = ChunkIterators.For(new ChunkData(c.Data.ToByteArray(), c.MinTimeMs, c.MaxTimeMs, c.Data[0] << 8 | c.Data[1], (byte)c.Encoding));
            while (it.Next() != Amphora.Storage.ValueType.None) read.Add(it.At());
            Assert.Null(it.Err);
        }
        return read;
    }

    [Fact]
    public async Task Bad_input_is_invalid_argument_naming_it_and_a_joining_ingester_refuses_pushes_as_unavailable()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        using var client = Client(server);
        var badId = await Assert.ThrowsAsync<RpcException>(() => client.PushAsync(Push("../x", 1, 1), Timeout, default));
        Assert.Equal(StatusCode.InvalidArgument, badId.StatusCode);
        Assert.Contains("invalid workspace id", badId.Status.Detail);
        var badRegex = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(client, Query("ws", "(", "=~")));
        Assert.Equal(StatusCode.InvalidArgument, badRegex.StatusCode);

        server.State = InstanceState.Joining;
        var joining = await Assert.ThrowsAsync<RpcException>(() => client.PushAsync(Push("ws", 1, 1), Timeout, default));
        Assert.Equal(StatusCode.Unavailable, joining.StatusCode);
        Assert.Contains("not ready", joining.Status.Detail);
    }

    [Fact]
    public async Task A_storage_failure_the_service_does_not_map_reaches_the_caller_with_its_message()
    {
        await using var server = await IngesterGrpcServer.StartAsync(openStorage: false);
        using var client = Client(server);
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(client, Query("ws", "up")));
        Assert.Equal(StatusCode.Unknown, e.StatusCode);
        Assert.Contains("replaying its WAL", e.Status.Detail);
    }

    [Fact]
    public async Task A_stream_past_its_deadline_fails_with_deadline_exceeded()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        using var client = Client(server);
        await client.PushAsync(Push("ws", 20_000, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()), Timeout, default);
        var e = await Assert.ThrowsAsync<RpcException>(() => ReadAsync(client, Query("ws", "up"), TimeSpan.FromMilliseconds(1)));
        Assert.Equal(StatusCode.DeadlineExceeded, e.StatusCode);
    }

    [Fact]
    public async Task A_message_over_the_limit_is_resource_exhausted_and_stores_nothing()
    {
        await using var server = await IngesterGrpcServer.StartAsync();
        // A client allowed to send more than the server takes, so the server's own limit is what refuses it.
        using var big = new IngesterClient(ClusterTransport.Plaintext.Channel(server.Address, 2 * IngesterClient.MaxMessageSize));
        var request = Push("ws", 1, 1, "huge", bigLabel: new string('x', IngesterClient.MaxMessageSize + 1));
        var e = await Assert.ThrowsAsync<RpcException>(() => big.PushAsync(request, Timeout, default));
        Assert.Equal(StatusCode.ResourceExhausted, e.StatusCode);
        using var client = Client(server);
        Assert.Empty((await ReadAsync(client, Query("ws", "huge"))).Series);
        // The cluster's client refuses to send it at all.
        var local = await Assert.ThrowsAsync<RpcException>(() => client.PushAsync(request, Timeout, default));
        Assert.Equal(StatusCode.ResourceExhausted, local.StatusCode);
    }

    [Fact]
    public async Task The_health_service_follows_the_ingesters_state_and_does_not_know_other_services()
    {
        await using var server = await IngesterGrpcServer.StartAsync(secret: Amphora.Cluster.Security.ClusterSecret.Parse("s3cret-shared-by-the-cluster"));
        using var channel = ClusterTransport.Plaintext.Channel(server.Address, 1 << 20);
        var health = new Health.HealthClient(channel);
        // No secret: a Kubernetes gRPC probe sends no metadata, and health says only whether the ingester serves.
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, (await health.CheckAsync(new HealthCheckRequest())).Status);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving,
            (await health.CheckAsync(new HealthCheckRequest { Service = "amphora.ingester.v1.Ingester" })).Status);
        server.State = InstanceState.Leaving;
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.NotServing, (await health.CheckAsync(new HealthCheckRequest())).Status);
        var unknown = await Assert.ThrowsAsync<RpcException>(async () => await health.CheckAsync(new HealthCheckRequest { Service = "other" }));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
    }
}
