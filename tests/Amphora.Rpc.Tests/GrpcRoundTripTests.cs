using Amphora.Rpc.Health;
using Amphora.Rpc.Tests.Echo;
using Xunit;

namespace Amphora.Rpc.Tests;

/// <summary>Amphora's gRPC client against Amphora's gRPC server.</summary>
public sealed class GrpcRoundTripTests : IAsyncLifetime
{
    private EchoServer _server = null!;
    private GrpcChannel _channel = null!;

    public async Task InitializeAsync()
    {
        _server = await EchoServer.StartAsync(maxReceive: 1024);
        _channel = new GrpcChannel(new Uri($"http://127.0.0.1:{_server.Port}"));
    }

    public async Task DisposeAsync()
    {
        _channel.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task A_unary_call_returns_the_reply()
    {
        var reply = await _channel.UnaryAsync("/amphora.test.Echo/Say", new EchoRequest { Text = "hi" }, EchoReply.Parser);
        Assert.Equal("amphora:hi", reply.Text);
    }

    [Fact]
    public async Task A_server_stream_delivers_every_message_in_order()
    {
        var items = new List<int>();
        await foreach (var r in _channel.ServerStreamingAsync("/amphora.test.Echo/Count", new CountRequest { N = 50 }, EchoReply.Parser))
            items.Add(r.Index);
        Assert.Equal(Enumerable.Range(0, 50), items);
    }

    [Fact]
    public async Task An_error_status_and_its_message_reach_the_client_even_with_non_ascii_text()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync("/amphora.test.Echo/Fail", new EchoRequest { Text = "ünïcode % text" }, EchoReply.Parser));
        Assert.Equal(StatusCode.FailedPrecondition, e.Status);
        Assert.Equal("refused: ünïcode % text", e.Detail);
    }

    [Fact]
    public async Task A_call_past_its_deadline_fails_with_deadline_exceeded()
    {
        var e = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync("/amphora.test.Echo/Sleep",
            new SleepRequest { Ms = 5000 }, EchoReply.Parser, new CallOptions { Timeout = TimeSpan.FromMilliseconds(200) }));
        Assert.Equal(StatusCode.DeadlineExceeded, e.Status);
    }

    [Fact]
    public async Task An_unknown_method_is_unimplemented_and_an_oversized_message_is_resource_exhausted()
    {
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync("/amphora.test.Echo/Nope", new EchoRequest(), EchoReply.Parser));
        Assert.Equal(StatusCode.Unimplemented, unknown.Status);
        var big = await Assert.ThrowsAsync<RpcException>(() =>
            _channel.UnaryAsync("/amphora.test.Echo/Say", new EchoRequest { Text = new string('x', 2000) }, EchoReply.Parser));
        Assert.Equal(StatusCode.ResourceExhausted, big.Status);
    }

    [Fact]
    public async Task The_health_service_answers_serving_and_not_found_for_unknown_services()
    {
        var ok = await _channel.UnaryAsync("/grpc.health.v1.Health/Check", new HealthCheckRequest(), HealthCheckResponse.Parser);
        Assert.Equal(HealthCheckResponse.Types.ServingStatus.Serving, ok.Status);
        var e = await Assert.ThrowsAsync<RpcException>(() => _channel.UnaryAsync("/grpc.health.v1.Health/Check",
            new HealthCheckRequest { Service = "other" }, HealthCheckResponse.Parser));
        Assert.Equal(StatusCode.NotFound, e.Status);
    }

    [Fact]
    public async Task Many_concurrent_calls_share_the_connection()
    {
        var calls = Enumerable.Range(0, 200).Select(i =>
            _channel.UnaryAsync("/amphora.test.Echo/Say", new EchoRequest { Text = i.ToString() }, EchoReply.Parser));
        var replies = await Task.WhenAll(calls);
        Assert.Equal(Enumerable.Range(0, 200).Select(i => "amphora:" + i), replies.Select(r => r.Text));
    }

    [Fact]
    public void Timeouts_and_messages_use_the_wire_formats()
    {
        Assert.True(GrpcWire.TryParseTimeout("1500m", out var t));
        Assert.Equal(TimeSpan.FromMilliseconds(1500), t);
        Assert.True(GrpcWire.TryParseTimeout("2S", out t));
        Assert.Equal(TimeSpan.FromSeconds(2), t);
        Assert.False(GrpcWire.TryParseTimeout("123456789S", out _));
        Assert.Equal("200m", GrpcWire.FormatTimeout(TimeSpan.FromMilliseconds(200)));
        Assert.Equal("a%25b%C3%A9", GrpcWire.EncodeMessage("a%bé"));
        Assert.Equal("a%bé", GrpcWire.DecodeMessage("a%25b%C3%A9"));
    }
}
