using Amphora.Tenancy.Limits;
using System.IO.Compression;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Amphora.Distributor.Otlp;
using Amphora.Distributor.Otlp.Proto;
using Google.Protobuf;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using static Amphora.Distributor.Tests.Otlp.OtlpRequests;

namespace Amphora.Distributor.Tests.Otlp;

/// <summary>The OTLP/HTTP endpoint answers as OTLP specifies, in the request's encoding, and refuses what it cannot take.</summary>
public sealed class OtlpEndpointTests : IAsyncDisposable
{
    private const string Workspace = "ws-00000000-0000-4000-8000-000000000001";
    private static readonly ulong Now = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() * 1_000_000UL;
    private readonly RecordingPush _push = new();
    private TestEndpoint? _endpoint;
    private HttpClient _http = null!;

    private async Task StartAsync(DistributorOptions? options = null, IngestionRateLimiter? rate = null)
    {
        _endpoint = await TestEndpoint.StartAsync(app => app.MapOtlp(new DistributorService(_push, options ?? new DistributorOptions(), NullLogger<DistributorService>.Instance) { IngestionRate = rate }));
        _http = _endpoint.Http;
    }

    public async ValueTask DisposeAsync()
    {
        if (_endpoint is not null) await _endpoint.DisposeAsync();
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] body, string contentType, string? encoding = null,
        string path = $"/workspaces/{Workspace}/api/v1/otlp/v1/metrics")
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        if (encoding is not null) request.Content.Headers.ContentEncoding.Add(encoding);
        return await _http.SendAsync(request);
    }

    private static ExportMetricsServiceRequest Valid() => Request(Service, Gauge("temperature", "Cel", Number(21, Now)));

    private static byte[] Gzip(byte[] data)
    {
        using var output = new MemoryStream();
        using (var gz = new GZipStream(output, CompressionLevel.Fastest)) gz.Write(data);
        return output.ToArray();
    }

    /// <summary>The google.rpc.Status body, in the encoding the response declares.</summary>
    private static async Task<Status> StatusOf(HttpResponseMessage response) =>
        response.Content.Headers.ContentType!.MediaType == "application/json"
            ? JsonParser.Default.Parse<Status>(await response.Content.ReadAsStringAsync())
            : Status.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());

    [Fact]
    public async Task A_protobuf_export_is_stored_and_answered_with_an_empty_protobuf_response()
    {
        await StartAsync();
        var response = await PostAsync(Valid().ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-protobuf", response.Content.Headers.ContentType!.MediaType);
        var answer = ExportMetricsServiceResponse.Parser.ParseFrom(await response.Content.ReadAsByteArrayAsync());
        Assert.Null(answer.PartialSuccess);
        var series = Assert.Single(_push.Series);
        Assert.Equal("temperature_celsius", series.Labels.Get("__name__"));
        Assert.Equal("checkout", series.Labels.Get("job"));
        Assert.Equal([21.0], series.Values);
    }

    [Fact]
    public async Task A_json_export_in_otlp_json_encoding_is_stored_and_answered_in_json()
    {
        await StartAsync();
        string t = Now.ToString(System.Globalization.CultureInfo.InvariantCulture);
        string json = $$$"""
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"cart"}}]},
          "scopeMetrics":[{"scope":{"name":"s"},"metrics":[
            {"name":"orders","unit":"{order}","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[
              {"attributes":[{"key":"shop","value":{"intValue":"12"}}],"timeUnixNano":"{{{t}}}","asInt":"7",
               "exemplars":[{"timeUnixNano":"{{{t}}}","asDouble":1,"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174"}]}]}},
            {"name":"load","gauge":{"dataPoints":[{"timeUnixNano":{{{t}}},"asDouble":0.5}]},"someFutureField":{"x":1}}]}]}]}
        """;
        var response = await PostAsync(Encoding.UTF8.GetBytes(json), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal("{ }", (await response.Content.ReadAsStringAsync()).Replace("{}", "{ }"));
        Assert.Equal(["load", "orders_total"], _push.Series.Select(s => s.Labels.Get("__name__")).Order());
        var orders = _push.Series.Single(s => s.Labels.Get("__name__") == "orders_total");
        Assert.Equal(("12", "cart", 7.0), (orders.Labels.Get("shop"), orders.Labels.Get("job"), orders.Values[0]));
    }

    [Fact]
    public async Task Attributes_copied_into_many_series_cannot_expand_a_small_request_past_the_body_limit()
    {
        // A 20 KB service.name in every one of 100 series is 2 MB of labels from a request of about 22 KB.
        await StartAsync(new DistributorOptions { MaxRecvMsgSize = 1 << 20 });
        var request = Request([Attr("service.name", new string('s', 20_000))],
            Gauge("g", "", Enumerable.Range(0, 100).Select(i => Number(i, Now, Attr("i", i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToArray()));
        byte[] body = request.ToByteArray();
        Assert.True(body.Length < 30_000);
        var response = await PostAsync(body, "application/x-protobuf");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var status = await StatusOf(response);
        Assert.Contains("err-amphora-request-too-large: the series translated from the OTLP request hold more than 1048576 bytes of labels", status.Message);
        Assert.Empty(_push.Series);
    }

    [Fact]
    public async Task A_protobuf_body_with_more_points_than_a_request_may_hold_is_refused_before_it_is_decoded()
    {
        await StartAsync(new DistributorOptions { RequestShape = new RequestShapeLimits { MaxSamplesPerRequest = 1000 } });
        var gauge = Gauge("g", "", Enumerable.Range(0, 1001).Select(_ => new NumberDataPoint()).ToArray()); // 2 bytes each on the wire
        var request = Request(Service, gauge);
        Assert.Equal((1001L, 0L), OtlpWireScan.Count(request.ToByteArray()));
        var response = await PostAsync(Gzip(request.ToByteArray()), "application/x-protobuf", "gzip");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("err-amphora-max-samples-per-request: the request holds more than 1000 samples", (await StatusOf(response)).Message);
        Assert.Empty(_push.Series);

        var attributed = Request(Service, Gauge("g", "", Number(1, Now, Attr("a", "1"), Attr("b", "2"))), Sum("s", "", true,
            AggregationTemporality.Cumulative, Number(1, Now, Attr("c", "3"))));
        Assert.Equal((2L, 3L), OtlpWireScan.Count(attributed.ToByteArray()));
        Assert.Null(OtlpWireScan.Count([0x0A, 0x05, 0x01])); // a length past the end
    }

    [Fact]
    public async Task A_gzip_body_is_inflated()
    {
        await StartAsync();
        var response = await PostAsync(Gzip(Valid().ToByteArray()), "application/x-protobuf", "gzip", "/otlp/v1/metrics");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode); // no X-Scope-OrgID on the header-addressed path
        Assert.Contains("X-Scope-OrgID", (await StatusOf(response)).Message);

        response = await PostAsync(Gzip(Valid().ToByteArray()), "application/x-protobuf", "gzip");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Single(_push.Series);
    }

    /// <summary>A counter point with one exemplar, in OTLP's JSON encoding (trace and span ids in hex, 64-bit integers as strings).</summary>
    private static string JsonWithExemplar(string traceId) => $$$"""
        {"resourceMetrics":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
          "scopeMetrics":[{"metrics":[{"name":"requests","sum":{"aggregationTemporality":2,"isMonotonic":true,"dataPoints":[
            {"timeUnixNano":"{{{Now}}}","asInt":"3","exemplars":[
              {"timeUnixNano":"{{{Now}}}","asDouble":0.25,"traceId":"{{{traceId}}}","spanId":"00f067aa0ba902b7"}]}]}}]}]}]}
        """;

    [Fact]
    public async Task Json_exemplars_carry_hex_trace_and_span_ids_and_an_id_that_is_not_hex_is_refused()
    {
        await StartAsync();
        var response = await PostAsync(Encoding.UTF8.GetBytes(JsonWithExemplar("4bf92f3577b34da6a3ce929d0e0e4736")), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var exemplar = Assert.Single(Assert.Single(_push.Series).Exemplars);
        Assert.Equal("4bf92f3577b34da6a3ce929d0e0e4736", exemplar.Labels.Get("trace_id"));
        Assert.Equal("00f067aa0ba902b7", exemplar.Labels.Get("span_id"));
        Assert.Equal(0.25, exemplar.Value);

        var refused = await PostAsync(Encoding.UTF8.GetBytes(JsonWithExemplar("not-hex")), "application/json");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("exemplar traceId \"not-hex\" is not hex", (await StatusOf(refused)).Message);
        Assert.Single(_push.Series);
    }

    [Fact]
    public async Task Refused_points_are_counted_and_named_in_a_partial_success_while_the_rest_is_kept()
    {
        await StartAsync();
        var request = Request(Service, Sum("requests", "", true, AggregationTemporality.Delta, Number(1, Now), Number(2, Now)),
            Gauge("temperature", "Cel", Number(21, Now)));
        var response = await PostAsync(Encoding.UTF8.GetBytes(JsonFormatter.Default.Format(request)), "application/json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var answer = JsonParser.Default.Parse<ExportMetricsServiceResponse>(await response.Content.ReadAsStringAsync());
        Assert.Equal(2, answer.PartialSuccess.RejectedDataPoints);
        Assert.StartsWith(OtlpTranslator.DeltaId, answer.PartialSuccess.ErrorMessage);
        Assert.Equal("temperature_celsius", Assert.Single(_push.Series).Labels.Get("__name__"));
    }

    [Fact]
    public async Task Series_refused_by_validation_are_in_the_partial_success_too()
    {
        await StartAsync(new DistributorOptions { Validation = new ValidationOptions { MaxLabelValueLength = 10 } });
        var request = Request([], Gauge("g", "", Number(1, Now, Attr("k", new string('x', 11))), Number(2, Now, Attr("k", "short"))));
        var answer = ExportMetricsServiceResponse.Parser.ParseFrom(
            await (await PostAsync(request.ToByteArray(), "application/x-protobuf")).Content.ReadAsByteArrayAsync());
        Assert.Equal(1, answer.PartialSuccess.RejectedDataPoints);
        Assert.Contains("err-amphora-label-value-too-long", answer.PartialSuccess.ErrorMessage);
        Assert.Equal("short", Assert.Single(_push.Series).Labels.Get("k"));
    }

    [Fact]
    public async Task A_request_whose_every_point_is_refused_is_a_400_with_the_reason()
    {
        await StartAsync();
        var request = Request([], Sum("requests", "", true, AggregationTemporality.Delta, Number(1, Now)));
        var response = await PostAsync(request.ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var status = await StatusOf(response);
        Assert.Equal(3, status.Code);
        Assert.StartsWith(OtlpTranslator.DeltaId, status.Message);
        Assert.Empty(_push.Series);
    }

    [Theory]
    [InlineData("application/x-protobuf", "protobuf: cannot decode the ExportMetricsServiceRequest")]
    [InlineData("application/json", "json: cannot decode the ExportMetricsServiceRequest")]
    public async Task An_undecodable_body_is_a_400_naming_the_encoding(string contentType, string message)
    {
        await StartAsync();
        var response = await PostAsync([0x0a, 0xff, 0x01, 0x02, (byte)'{'], contentType);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(contentType, response.Content.Headers.ContentType!.MediaType);
        Assert.StartsWith(message, (await StatusOf(response)).Message);
        Assert.Equal(0, _push.Pushes);
    }

    [Fact]
    public async Task A_corrupt_gzip_body_is_a_400()
    {
        await StartAsync();
        var response = await PostAsync([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], "application/x-protobuf", "gzip");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("gzip: corrupt input", (await StatusOf(response)).Message);
    }

    [Theory]
    [InlineData("text/plain", null, "unsupported Content-Type \"text/plain\"")]
    [InlineData("application/x-protobuf", "br", "unsupported Content-Encoding \"br\"")]
    public async Task Unsupported_content_types_and_encodings_are_415(string contentType, string? encoding, string message)
    {
        await StartAsync();
        var response = await PostAsync(Valid().ToByteArray(), contentType, encoding);
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
        Assert.Contains(message, (await StatusOf(response)).Message);
    }

    [Fact]
    public async Task A_body_over_the_size_limit_is_413_even_when_it_inflates_from_a_small_gzip()
    {
        await StartAsync(new DistributorOptions { MaxRecvMsgSize = 1000 });
        var big = Request([], Gauge("g", "", Number(1, Now, Attr("k", new string('x', 5000)))));
        var response = await PostAsync(big.ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("distributor.max-recv-msg-size", (await StatusOf(response)).Message);

        response = await PostAsync(Gzip(big.ToByteArray()), "application/x-protobuf", "gzip");
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("decompressed size over 1000 bytes", (await StatusOf(response)).Message);
        Assert.Equal(0, _push.Pushes);
    }

    [Fact]
    public async Task A_request_over_the_per_request_series_limit_is_refused_whole()
    {
        await StartAsync(new DistributorOptions { RequestShape = new RequestShapeLimits { MaxSeriesPerRequest = 1 } });
        var response = await PostAsync(Request([], Gauge("g", "", Number(1, Now, Attr("a", "1")), Number(1, Now, Attr("a", "2")))).ToByteArray(),
            "application/x-protobuf");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.StartsWith("err-amphora-max-series-per-request", (await StatusOf(response)).Message);
        Assert.Equal(0, _push.Pushes);
    }

    [Fact]
    public async Task A_rate_limited_workspace_gets_429_with_retry_after_as_for_remote_write()
    {
        // One sample of burst, refilled at one per 100 s: the first export takes it, the second must wait.
        var overrides = new Overrides(Amphora.Tenancy.Limits.Limits.Default with { IngestionRate = 0.01, IngestionBurstSize = 1 });
        await StartAsync(rate: new IngestionRateLimiter(overrides));
        Assert.Equal(HttpStatusCode.OK, (await PostAsync(Valid().ToByteArray(), "application/x-protobuf")).StatusCode);
        var response = await PostAsync(Valid().ToByteArray(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.TooManyRequests, response.StatusCode);
        Assert.True(response.Headers.RetryAfter!.Delta >= TimeSpan.FromSeconds(1), $"Retry-After {response.Headers.RetryAfter}");
        var status = await StatusOf(response);
        Assert.Equal(8, status.Code);
        Assert.Contains("ingestion_rate", status.Message);
        Assert.Equal(1, _push.Pushes);
    }
}
