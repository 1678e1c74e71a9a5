using System.Collections.Concurrent;
using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Google.Protobuf;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// Traces across processes: a distributor and three ingesters with <c>--tracing.otlp-endpoint</c> pointing at a small
/// OTLP/HTTP receiver in the test, which decodes the protobuf it is sent. One remote write is one trace: the distributor's
/// server span, its client spans to each ingester, and each ingester's server span as a child of one of them.
/// </summary>
public sealed class ClusterTracingTests : IDisposable
{
    private readonly ProcessGroup _group = new("amphora-tracing");
    private readonly HttpListener _receiver = new();
    private readonly ConcurrentBag<ReceivedSpan> _spans = [];
    private readonly int _port = FreePort.Next();

    public ClusterTracingTests()
    {
        _receiver.Prefixes.Add($"http://127.0.0.1:{_port}/");
        _receiver.Start();
        _ = ReceiveAsync();
    }

    public void Dispose()
    {
        _group.Dispose();
        _receiver.Close();
    }

    private sealed record ReceivedSpan(string Process, string TraceId, string SpanId, string ParentSpanId, string Name, int Kind);

    [Fact]
    public async Task One_remote_write_is_one_trace_from_the_distributor_through_every_ingester()
    {
        string tracing = $"--tracing.otlp-endpoint=http://127.0.0.1:{_port}";
        int[] grpc = [FreePort.Next(), FreePort.Next(), FreePort.Next()];
        string[] ring = [$"--ring.members={string.Join(",", grpc.Select((p, i) => $"ingester-{i}=127.0.0.1:{p}"))}", "--ring.poll-interval=500ms"];
        var ingesters = grpc.Select((port, i) =>
            _group.Start([tracing, "--target=ingester", $"--ingester.name=ingester-{i}", $"--grpc.listen=127.0.0.1:{port}"])).ToList();
        foreach (var ingester in ingesters) await ingester.WaitReadyAsync();
        var distributor = _group.Start([tracing, .. ring, "--target=distributor", "--log.instance=dist-0", "--log.level=debug"]);
        await distributor.WaitReadyAsync();

        using var writer = new RemoteWriteClient(distributor.BaseAddress);
        var pushed = await writer.PushAsync("traced", new WriteRequestBuilder().Series("__name__=\"traced\"", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1)));
        Assert.Equal(HttpStatusCode.NoContent, pushed.Status);

        ReceivedSpan? root = null;
        List<ReceivedSpan> ingesterSpans = [];
        await Eventually.HoldsAsync(() =>
        {
            root = _spans.FirstOrDefault(s => s.Process == "distributor/dist-0" && s.Kind == ServerKind && s.ParentSpanId.Length == 0);
            ingesterSpans = root is null ? [] : _spans.Where(s => s.TraceId == root.TraceId && s.Process.StartsWith("ingester/", StringComparison.Ordinal)).ToList();
            // Each process exports its own batches: an ingester's span can arrive before the distributor's client span that
            // is its parent (which ends later, when the reply is back), so the wait is for the parents as well.
            var parents = _spans.Where(s => s.Process == "distributor/dist-0").Select(s => s.SpanId).ToHashSet();
            return Task.FromResult(ingesterSpans.Select(s => s.Process).Distinct().Count() == 3 && ingesterSpans.All(s => parents.Contains(s.ParentSpanId)));
        }, () => $"one trace through the distributor and 3 ingesters, with each ingester span's parent; received:\n{string.Join("\n", _spans)}",
            TimeSpan.FromSeconds(30));

        // Each ingester's span is a server span whose parent is a client span of the distributor, itself in the root's trace.
        var distributorSpans = _spans.Where(s => s.TraceId == root!.TraceId && s.Process == "distributor/dist-0").ToDictionary(s => s.SpanId);
        foreach (var span in ingesterSpans)
        {
            Assert.Equal(ServerKind, span.Kind);
            Assert.True(distributorSpans.TryGetValue(span.ParentSpanId, out var parent), $"{span}: its parent is not a span of the distributor");
            Assert.Equal(ClientKind, parent.Kind);
        }
        // A line logged while serving a traced request carries its trace id: a write with a sample too far in the future.
        long future = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeMilliseconds();
        var refused = await writer.PushAsync("traced", new WriteRequestBuilder().Series("__name__=\"traced\"", (future, 1)));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        string? line = null;
        await Eventually.HoldsAsync(() =>
        {
            line = distributor.Output.Split('\n').FirstOrDefault(l => l.Contains("remote write to traced partly refused", StringComparison.Ordinal));
            return Task.FromResult(line is not null && _spans.Any(s => line.EndsWith($" trace_id={s.TraceId}", StringComparison.Ordinal)));
        }, () => $"the refusal's log line with the trace id of its request: {line}", TimeSpan.FromSeconds(30));
        Assert.DoesNotContain(_spans, s => s.Name.Contains("/ready", StringComparison.Ordinal));
    }

    private const int ServerKind = 2, ClientKind = 3; // OTLP's Span.SpanKind

    private async Task ReceiveAsync()
    {
        while (_receiver.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _receiver.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            using var body = new MemoryStream();
            await ctx.Request.InputStream.CopyToAsync(body);
            if (ctx.Request.Url!.AbsolutePath == "/v1/traces") Decode(body.ToArray());
            ctx.Response.StatusCode = 200;
            ctx.Response.ContentType = "application/x-protobuf";
            ctx.Response.Close(); // an empty ExportTraceServiceResponse
        }
    }

    // ExportTraceServiceRequest: 1 resource_spans. ResourceSpans: 1 resource, 2 scope_spans. Resource: 1 attributes (KeyValue:
    // 1 key, 2 value AnyValue: 1 string_value). ScopeSpans: 2 spans. Span: 1 trace_id, 2 span_id, 4 parent_span_id, 5 name, 6 kind.
    private void Decode(byte[] request)
    {
        foreach (var resourceSpans in Fields(request, 1))
        {
            string process = "";
            foreach (var resource in Fields(resourceSpans, 1))
                foreach (var attribute in Fields(resource, 1))
                    if (Text(Fields(attribute, 1).FirstOrDefault()) == "service.instance.id")
                        process = Text(Fields(Fields(attribute, 2).First(), 1).FirstOrDefault());
            foreach (var scopeSpans in Fields(resourceSpans, 2))
                foreach (var span in Fields(scopeSpans, 2))
                    _spans.Add(new ReceivedSpan(process, Hex(Fields(span, 1).FirstOrDefault()), Hex(Fields(span, 2).FirstOrDefault()),
                        Hex(Fields(span, 4).FirstOrDefault()), Text(Fields(span, 5).FirstOrDefault()), Varint(span, 6)));
        }
    }

    private static string Hex(byte[]? b) => b is null ? "" : Convert.ToHexStringLower(b);
    private static string Text(byte[]? b) => b is null ? "" : System.Text.Encoding.UTF8.GetString(b);

    /// <summary>The length-delimited values of one field number in a message.</summary>
    private static List<byte[]> Fields(byte[] message, int number)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
                found.Add(input.ReadBytes().ToByteArray());
            else input.SkipLastField();
        }
        return found;
    }

    private static int Varint(byte[] message, int number)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == number && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint) return input.ReadInt32();
            input.SkipLastField();
        }
        return 0;
    }
}
