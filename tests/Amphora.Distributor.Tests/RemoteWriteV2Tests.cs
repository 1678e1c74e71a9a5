using System.Net;
using System.Net.Http.Headers;
using Amphora.EndToEnd.Tests.Harness;
using Google.Protobuf;
using Xunit;
using V2 = Amphora.Distributor.PrompbV2;

namespace Amphora.Distributor.Tests;

/// <summary>
/// Remote write 2.0 requests built from the specification's proto (symbols, label references, metadata, exemplars, created
/// timestamps, histograms) are stored as the same data sent as 1.0 is, answered with the 2.0 written headers, and malformed
/// symbol references get 400 with nothing stored.
/// </summary>
public sealed class RemoteWriteV2Tests : IAsyncDisposable
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
    private const string V2Type = "application/x-protobuf;proto=io.prometheus.write.v2.Request";
    private readonly RecordingPush _push = new();
    private TestEndpoint? _endpoint;
    private HttpClient _http = null!;

    private async Task StartAsync(DistributorOptions? options = null)
    {
        _endpoint = await TestEndpoint.StartAsync(app => app.MapRemoteWrite(Distributors.Create(_push, options)));
        _http = _endpoint.Http;
    }

    public async ValueTask DisposeAsync()
    {
        if (_endpoint is not null) await _endpoint.DisposeAsync();
    }

    private async Task<HttpResponseMessage> PostAsync(byte[] message, string contentType = V2Type)
    {
        var req = new HttpRequestMessage(HttpMethod.Post, "/api/v1/push") { Content = new ByteArrayContent(Distributors.Snappy(message)) };
        req.Content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
        req.Content.Headers.ContentEncoding.Add("snappy");
        req.Headers.Add("X-Scope-OrgID", "ws-v2");
        return await _http.SendAsync(req);
    }

    /// <summary>Symbols "", __name__, http_requests_total, job, api, method, GET, POST, Requests., temperature, celsius.</summary>
    private static V2.Request Sample()
    {
        var r = new V2.Request();
        foreach (var s in new[] { "", "__name__", "http_requests_total", "job", "api", "method", "GET", "POST", "Requests.", "temperature", "celsius", "trace_id", "abc" })
            r.Symbols.Add(ByteString.CopyFromUtf8(s));
        var get = new V2.TimeSeries { CreatedTimestamp = Now - 60_000, Metadata = new V2.Metadata { Type = V2.Metadata.Types.MetricType.Counter, HelpRef = 8 } };
        get.LabelsRefs.Add([1, 2, 3, 4, 5, 6]);
        get.Samples.Add(new V2.Sample { Timestamp = Now - 1000, Value = 10 });
        get.Samples.Add(new V2.Sample { Timestamp = Now, Value = 12 });
        var exemplar = new V2.Exemplar { Timestamp = Now, Value = 1 };
        exemplar.LabelsRefs.Add([11, 12]);
        get.Exemplars.Add(exemplar);
        var temp = new V2.TimeSeries { Metadata = new V2.Metadata { Type = V2.Metadata.Types.MetricType.Gauge, UnitRef = 10 } };
        temp.LabelsRefs.Add([1, 9, 3, 4]);
        temp.Samples.Add(new V2.Sample { Timestamp = Now, Value = 21.5 });
        r.Timeseries.Add([get, temp]);
        return r;
    }

    private static WriteRequestBuilder SampleAsV1() => new WriteRequestBuilder()
        .Series("__name__=\"http_requests_total\",job=\"api\",method=\"GET\"", (Now - 1000, 10), (Now, 12))
        .Series("__name__=\"temperature\",job=\"api\"", (Now, 21.5));

    private static string Stored(ValidSeries s) => $"{s.Labels} {string.Join(",", s.Timestamps)} {string.Join(",", s.Values)}";

    [Fact]
    public async Task Samples_and_symbols_over_the_request_limits_are_refused_before_the_request_is_decoded()
    {
        await StartAsync(new DistributorOptions { RequestShape = new RequestShapeLimits { MaxSamplesPerRequest = 100, MaxSeriesPerRequest = 10, MaxLabelsPerRequest = 50 } });
        var samples = Sample();
        for (int i = 0; i < 100; i++) samples.Timeseries[1].Samples.Add(new V2.Sample()); // empty samples: 2 bytes each on the wire
        var tooMany = await PostAsync(samples.ToByteArray());
        Assert.Equal(HttpStatusCode.BadRequest, tooMany.StatusCode);
        Assert.Contains("err-amphora-max-samples-per-request: the request holds more than 100 samples", await tooMany.Content.ReadAsStringAsync());

        var symbols = Sample();
        for (int i = 0; i < 200; i++) symbols.Symbols.Add(ByteString.CopyFromUtf8("s"));
        var tooManySymbols = await PostAsync(symbols.ToByteArray());
        Assert.Equal(HttpStatusCode.BadRequest, tooManySymbols.StatusCode);
        Assert.Contains("symbols, more than its labels and series can reference (at most 131", await tooManySymbols.Content.ReadAsStringAsync());
        Assert.Empty(_push.Series);
        Assert.Equal(HttpStatusCode.NoContent, (await PostAsync(Sample().ToByteArray())).StatusCode); // within the limits
    }

    [Fact]
    public async Task A_2_0_request_is_stored_as_the_same_data_sent_as_1_0_and_answered_with_the_written_headers()
    {
        await StartAsync();
        var response = await PostAsync(Sample().ToByteArray());
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("3", response.Headers.GetValues("X-Prometheus-Remote-Write-Samples-Written").Single());
        Assert.Equal("0", response.Headers.GetValues("X-Prometheus-Remote-Write-Histograms-Written").Single());
        Assert.Equal("0", response.Headers.GetValues("X-Prometheus-Remote-Write-Exemplars-Written").Single());
        var v2 = _push.Series.Select(Stored).ToList();

        _push.Series.Clear();
        var v1 = await PostAsync(SampleAsV1().Encode(), "application/x-protobuf");
        Assert.Equal(HttpStatusCode.NoContent, v1.StatusCode);
        Assert.False(v1.Headers.Contains("X-Prometheus-Remote-Write-Samples-Written"));
        Assert.Equal(_push.Series.Select(Stored), v2);
    }

    [Fact]
    public void Metadata_comes_from_the_symbols_per_metric_family()
    {
        Assert.True(RemoteWriteV2.TryConvert(Sample(), new DistributorOptions(), out var request, out var counts, out _));
        Assert.Equal([("http_requests_total", Prompb.MetricMetadata.Types.MetricType.Counter, "Requests.", ""),
            ("temperature", Prompb.MetricMetadata.Types.MetricType.Gauge, "", "celsius")],
            request!.Metadata.Select(m => (m.MetricFamilyName, m.Type, m.Help, m.Unit)));
        Assert.Equal(new RemoteWriteV2Counts(3, 0, 1), counts);
    }

    public static TheoryData<string, string> Malformed => new()
    {
        { "first symbol not empty", "symbols[0] must be the empty string" },
        { "odd label references", "timeseries[0] has 5 labels_refs; they come in name-value pairs" },
        { "label reference past the table", "timeseries[1] references symbol 99, past the 13 symbols" },
        { "exemplar reference past the table", "an exemplar of timeseries[0] references symbol 13" },
        { "help reference past the table", "the metadata of timeseries[1] references symbol 40" },
    };

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task Malformed_symbol_references_get_400_and_nothing_is_stored(string @case, string message)
    {
        await StartAsync();
        var r = Sample();
        switch (@case)
        {
            case "first symbol not empty": r.Symbols[0] = ByteString.CopyFromUtf8("x"); break;
            case "odd label references": r.Timeseries[0].LabelsRefs.RemoveAt(5); break;
            case "label reference past the table": r.Timeseries[1].LabelsRefs[3] = 99; break;
            case "exemplar reference past the table": r.Timeseries[0].Exemplars[0].LabelsRefs[1] = 13; break;
            case "help reference past the table": r.Timeseries[1].Metadata.HelpRef = 40; break;
        }
        var response = await PostAsync(r.ToByteArray());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Contains(RemoteWriteV2.MalformedId, body);
        Assert.Contains(message, body);
        Assert.Equal("0", response.Headers.GetValues("X-Prometheus-Remote-Write-Samples-Written").Single());
        Assert.Equal(0, _push.Pushes);
    }

    [Fact]
    public async Task Native_histograms_are_refused_naming_them_and_the_floats_are_kept_and_counted_as_written()
    {
        await StartAsync();
        var r = Sample();
        var h = new V2.TimeSeries();
        h.LabelsRefs.Add([1, 9, 3, 4]);
        h.Histograms.Add(new V2.Histogram());
        r.Timeseries.Add(h);
        var response = await PostAsync(r.ToByteArray());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(DistributorService.NativeHistogramsId, await response.Content.ReadAsStringAsync());
        Assert.Equal("3", response.Headers.GetValues("X-Prometheus-Remote-Write-Samples-Written").Single());
        Assert.Equal(2, _push.Series.Count);
    }

    [Fact]
    public async Task Labels_that_spell_out_more_than_the_size_limit_are_refused_before_anything_is_copied()
    {
        await StartAsync(new DistributorOptions { MaxRecvMsgSize = 64 * 1024 });
        var r = new V2.Request();
        r.Symbols.Add([ByteString.Empty, ByteString.CopyFromUtf8("__name__"), ByteString.CopyFromUtf8("m"), ByteString.CopyFromUtf8("big"),
            ByteString.CopyFrom(new byte[1000])]);
        for (int i = 0; i < 100; i++)
        {
            var ts = new V2.TimeSeries();
            ts.LabelsRefs.Add([1, 2, 3, 4]);
            ts.Samples.Add(new V2.Sample { Timestamp = Now, Value = i });
            r.Timeseries.Add(ts);
        }
        var response = await PostAsync(r.ToByteArray());
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("the labels its symbol references spell out", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, _push.Pushes);
    }

    [Fact]
    public async Task A_2_0_request_over_the_per_request_series_limit_is_refused_whole()
    {
        await StartAsync(new DistributorOptions { RequestShape = new RequestShapeLimits { MaxSeriesPerRequest = 1 } });
        var response = await PostAsync(Sample().ToByteArray());
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("err-amphora-max-series-per-request", await response.Content.ReadAsStringAsync());
        Assert.Equal(0, _push.Pushes);
    }

    [Fact]
    public async Task An_undecodable_2_0_body_is_a_400_naming_the_message()
    {
        await StartAsync();
        var response = await PostAsync([0x22, 0xff, 0x01]);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("cannot decode the io.prometheus.write.v2.Request", await response.Content.ReadAsStringAsync());
    }
}
