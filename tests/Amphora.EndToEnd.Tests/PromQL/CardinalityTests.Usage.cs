using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.PromQL;

public sealed partial class CardinalityTests
{
    private async Task<JsonElement> UsageAsync(string workspace)
    {
        using var http = new HttpClient { BaseAddress = _amphora.BaseAddress };
        using var r = await http.GetAsync($"/workspaces/{workspace}/usage");
        string body = await r.Content.ReadAsStringAsync();
        Assert.True(r.StatusCode == HttpStatusCode.OK, $"usage of {workspace}: {(int)r.StatusCode} {body}");
        return JsonDocument.Parse(body).RootElement;
    }

    [Fact]
    public async Task The_usage_endpoint_reports_what_was_written_refused_and_queried_per_workspace()
    {
        var a = await UsageAsync("card-a");
        Assert.Equal("card-a", a.GetProperty("workspaceId").GetString());
        Assert.Equal("service", a.GetProperty("scope").GetString());
        Assert.Equal(2L * _a.Count, a.GetProperty("samplesReceived").GetInt64());
        Assert.Equal(2L * _a.Count, a.GetProperty("samplesIngested").GetInt64());
        Assert.Equal(0, a.GetProperty("samplesDiscarded").GetInt64());
        Assert.Equal(_a.Count, a.GetProperty("activeSeries").GetInt64());
        Assert.Equal(10_000_000, a.GetProperty("seriesLimit").GetProperty("maxSeriesPerWorkspace").GetInt64());
        Assert.Equal(_a.Count / 10_000_000.0, a.GetProperty("seriesLimit").GetProperty("use").GetDouble(), 6);
        Assert.Equal(0, a.GetProperty("querySamplesProcessed").GetInt64());
        Assert.Equal(JsonValueKind.Number, a.GetProperty("storedBytes").ValueKind);

        // card-b gets one more series, and one sample an hour ahead, which the distributor refuses.
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var writer = new RemoteWriteClient(_amphora.BaseAddress))
        {
            var request = new WriteRequestBuilder().Series("__name__=\"b_extra\",job=\"x\"", (now, 1), (now + 3_600_000, 2));
            var r = await writer.PushAsync("card-b", request);
            Assert.Equal(HttpStatusCode.BadRequest, r.Status);
        }
        var b = await UsageAsync("card-b");
        Assert.Equal(2L * _b.Count + 2, b.GetProperty("samplesReceived").GetInt64());
        Assert.Equal(2L * _b.Count + 1, b.GetProperty("samplesIngested").GetInt64());
        Assert.Equal(1, b.GetProperty("samplesDiscardedByReason").GetProperty("err-amphora-too-far-in-future").GetInt64());
        Assert.Equal(_b.Count + 1, b.GetProperty("activeSeries").GetInt64());

        // The samples a query reads: the same figure as Prometheus's query statistics (totalQueryableSamples).
        using var amphora = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "card-a");
        using var prometheus = new PromApiClient(_prometheus.BaseAddress);
        string t = PromApiClient.FormatTime(now), start = PromApiClient.FormatTime(now - 120_000);
        var queries = new (string Path, (string, string)[] Params)[]
        {
            ("query", [("query", "a_metric_4"), ("time", t)]),
            ("query", [("query", "{__name__=~\"a_metric_.*\"}[5m]"), ("time", t)]),
            ("query", [("query", "sum by (job) (rate(a_metric_5[2m]))"), ("time", t)]),
            ("query_range", [("query", "a_metric_6"), ("start", start), ("end", t), ("step", "15")]),
            ("query_range", [("query", "count_over_time(a_metric_7[90s])"), ("start", start), ("end", t), ("step", "30")]),
        };
        long expected = 0;
        foreach (var (path, parameters) in queries)
        {
            var p = await prometheus.GetAsync(path, [.. parameters, ("stats", "all")]);
            Assert.True(p.Status == HttpStatusCode.OK, $"prometheus {path} {parameters[0].Item2}: {p.Body}");
            long samples = p.Json.GetProperty("data").GetProperty("stats").GetProperty("samples").GetProperty("totalQueryableSamples").GetInt64();
            Assert.True(samples > 0, $"prometheus read no samples for {parameters[0].Item2}");
            long before = (await UsageAsync("card-a")).GetProperty("querySamplesProcessed").GetInt64();
            var r = await amphora.GetAsync(path, parameters);
            Assert.True(r.Status == HttpStatusCode.OK, $"amphora {path} {parameters[0].Item2}: {r.Body}");
            long after = (await UsageAsync("card-a")).GetProperty("querySamplesProcessed").GetInt64();
            Assert.True(samples == after - before, $"{parameters[0].Item2}: prometheus read {samples} samples, amphora counted {after - before}");
            expected += samples;
        }
        Assert.Equal(expected, (await UsageAsync("card-a")).GetProperty("querySamplesProcessed").GetInt64());
        Assert.Equal(0, (await UsageAsync("card-b")).GetProperty("querySamplesProcessed").GetInt64());

        // The same meters on /metrics (this instance runs with --metrics.per-workspace).
        using var http = new HttpClient { BaseAddress = _amphora.BaseAddress };
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains($"amphora_querier_samples_processed_total{{workspace=\"card-a\"}} {expected}", metrics);
        Assert.Contains("amphora_limit_series_limit_use_ratio{workspace=\"card-b\"}", metrics);
    }
}
