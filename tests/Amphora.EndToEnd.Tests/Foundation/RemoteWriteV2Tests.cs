using System.Net;
using System.Net.Http.Headers;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>
/// Remote write 2.0 against a real amphora: a request built from the specification's proto (symbols, metadata, an exemplar,
/// created timestamps, integer and float native histograms) is stored, and every query answers exactly as for the same data sent as 1.0 to another workspace.
/// </summary>
public sealed class RemoteWriteV2Tests(AmphoraFixture amphora) : IClassFixture<AmphoraFixture>
{
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    private static readonly (long, Amphora.Model.Histogram?, WriteRequestBuilder.FloatHistogramWire?)[] Histograms =
        [(Now - 2000, Storage.NativeHistogramInteropTests.Counter(3), null), (Now - 1000, Storage.NativeHistogramInteropTests.Counter(4), null)];

    private static readonly (long, Amphora.Model.Histogram?, WriteRequestBuilder.FloatHistogramWire?)[] FloatHistograms =
        [(Now - 1000, null, Storage.NativeHistogramInteropTests.Float(0))];

    [Fact]
    public async Task A_2_0_request_answers_every_query_like_the_same_data_sent_as_1_0()
    {
        var v2 = new RemoteWriteV2Builder()
            .Series([("__name__", "rw2_requests_total"), ("job", "api"), ("code", "200")], [(Now - 2000, 5), (Now - 1000, 9)],
                type: 1, help: "Requests served.", exemplar: ("4bf92f3577b34da6", 1, Now - 1000), createdTimestamp: Now - 60_000)
            .Series([("__name__", "rw2_requests_total"), ("job", "api"), ("code", "500")], [(Now - 1000, 1)], type: 1, help: "Requests served.")
            .Series([("__name__", "rw2_temperature"), ("job", "api")], [(Now - 1000, 21.5)], type: 2, unit: "celsius")
            .Series([("__name__", "rw2_latency_seconds"), ("job", "api")], [], type: 3, help: "Latency.", histograms: Histograms)
            .Series([("__name__", "rw2_ratio"), ("job", "api")], [], histograms: FloatHistograms);
        var v1 = new WriteRequestBuilder()
            .Series("__name__=\"rw2_requests_total\",code=\"200\",job=\"api\"", (Now - 2000, 5), (Now - 1000, 9))
            .Series("__name__=\"rw2_requests_total\",code=\"500\",job=\"api\"", (Now - 1000, 1))
            .Series("__name__=\"rw2_temperature\",job=\"api\"", (Now - 1000, 21.5))
            .Metadata(1, "rw2_requests_total", "Requests served.")
            .Metadata(2, "rw2_temperature", "", "celsius")
            .NativeHistograms("__name__=\"rw2_latency_seconds\",job=\"api\"", Histograms)
            .Metadata(3, "rw2_latency_seconds", "Latency.")
            .NativeHistograms("__name__=\"rw2_ratio\",job=\"api\"", FloatHistograms);

        using var http = new HttpClient { BaseAddress = amphora.Process.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/push") { Content = new ByteArrayContent(IronSnappy.Snappy.Encode(v2.Encode())) };
        request.Content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/x-protobuf;proto=io.prometheus.write.v2.Request");
        request.Content.Headers.ContentEncoding.Add("snappy");
        request.Headers.Add("X-Prometheus-Remote-Write-Version", "2.0.0");
        request.Headers.Add("X-Scope-OrgID", "rw2-v2");
        using var response = await http.SendAsync(request);
        Assert.True(response.StatusCode == HttpStatusCode.NoContent, await response.Content.ReadAsStringAsync());
        Assert.Equal("4", response.Headers.GetValues("X-Prometheus-Remote-Write-Samples-Written").Single());
        Assert.Equal("1", response.Headers.GetValues("X-Prometheus-Remote-Write-Exemplars-Written").Single());
        Assert.Equal("3", response.Headers.GetValues("X-Prometheus-Remote-Write-Histograms-Written").Single());

        using var writer = amphora.Writer();
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("rw2-v1", v1)).Status);

        using var viaV2 = amphora.Api("rw2-v2");
        using var viaV1 = amphora.Api("rw2-v1");
        (string Path, (string, string)[] Query)[] calls =
        [
            ("query", [("query", "rw2_requests_total"), ("time", PromApiClient.FormatTime(Now))]),
            ("query", [("query", "sum by (job) (rw2_requests_total) + on (job) rw2_temperature"), ("time", PromApiClient.FormatTime(Now))]),
            ("query_range", [("query", "rw2_requests_total"), ("start", PromApiClient.FormatTime(Now - 3000)), ("end", PromApiClient.FormatTime(Now)), ("step", "1")]),
            ("query", [("query", "rw2_latency_seconds"), ("time", PromApiClient.FormatTime(Now))]),
            ("query", [("query", "histogram_count(rate(rw2_latency_seconds[1m])) + histogram_sum(rw2_ratio)"), ("time", PromApiClient.FormatTime(Now))]),
            ("query_range", [("query", "rw2_ratio"), ("start", PromApiClient.FormatTime(Now - 3000)), ("end", PromApiClient.FormatTime(Now)), ("step", "1")]),
            ("series", [("match[]", "{__name__=~\"rw2_.*\"}")]),
            ("label/code/values", []),
            ("metadata", []),
        ];
        foreach (var (path, query) in calls)
        {
            var a = await viaV2.GetAsync(path, query);
            var b = await viaV1.GetAsync(path, query);
            Assert.True(a.Status == HttpStatusCode.OK, a.Body);
            Assert.Equal(b.Body, a.Body);
            // Not equal because both are empty: every call finds the data.
            Assert.DoesNotContain("\"result\":[]", a.Body);
            Assert.DoesNotContain("\"data\":[]", a.Body);
            Assert.DoesNotContain("\"data\":{}", a.Body);
        }

        // The 2.0 request's exemplar is stored with its series and served as Prometheus serves it.
        var exemplars = await viaV2.GetAsync("query_exemplars", [("query", "sum(rate(rw2_requests_total[5m]))"),
            ("start", PromApiClient.FormatTime(Now - 60_000)), ("end", PromApiClient.FormatTime(Now))]);
        Assert.True(exemplars.Status == HttpStatusCode.OK, exemplars.Body);
        long t = Now - 1000;
        string timestamp = t % 1000 == 0 ? (t / 1000).ToString() : $"{t / 1000}.{t % 1000:000}";
        Assert.Equal("{\"status\":\"success\",\"data\":[{\"seriesLabels\":{\"__name__\":\"rw2_requests_total\",\"code\":\"200\",\"job\":\"api\"}," +
            $"\"exemplars\":[{{\"labels\":{{\"trace_id\":\"4bf92f3577b34da6\"}},\"value\":\"1\",\"timestamp\":{timestamp}}}]}}]}}", exemplars.Body);
    }
}
