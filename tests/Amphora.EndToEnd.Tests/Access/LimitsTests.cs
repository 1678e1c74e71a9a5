using System.Net;
using System.Text;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Access;

/// <summary>
/// Per-workspace limits on a running amphora: the ingestion rate answers 429 with Retry-After and keeps what came before;
/// series limits refuse only new series; raising a limit in the overrides file takes effect without a restart.
/// </summary>
public sealed class LimitsTests : IAsyncLifetime
{
    private AmphoraProcess _amphora = null!;
    private string _overrides = null!;
    private static readonly long Now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

    public async Task InitializeAsync()
    {
        string dataDir = RepoPaths.NewTempDir("amphora-limits");
        _overrides = Path.Combine(dataDir, "overrides.yml");
        File.WriteAllText(_overrides, Overrides(maxSeriesPerMetric: 3));
        _amphora = AmphoraProcess.Start(dataDir, null, $"--limits.overrides-file={_overrides}");
        await _amphora.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    private static string Overrides(int maxSeriesPerMetric) => $"""
        overrides:
          lim-rate:
            ingestion_rate: 1
            ingestion_burst_size: 200
          lim-series:
            max_series_per_metric: {maxSeriesPerMetric}
          lim-request:
            max_label_names_per_series: 3
            max_request_body_bytes: 2000
        """;

    private static WriteRequestBuilder Samples(string metric, int count, long from)
    {
        var request = new WriteRequestBuilder();
        request.Series($"__name__=\"{metric}\"", Enumerable.Range(0, count).Select(i => (from + i, (double)i)).ToArray());
        return request;
    }

    [Fact]
    public async Task A_writer_over_the_ingestion_rate_gets_429_and_keeps_what_was_accepted()
    {
        using var writer = new RemoteWriteClient(_amphora.BaseAddress);
        // The burst admits 150 of its 200; at 1 sample/s the next 100 wait about 50 s, however slow the machine is between the two.
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("lim-rate", Samples("rated", 150, Now - 10_000))).Status);
        using var http = new HttpClient { BaseAddress = _amphora.BaseAddress };
        var content = new ByteArrayContent(IronSnappy.Snappy.Encode(Samples("rated", 100, Now - 5_000).Encode()));
        content.Headers.ContentType = new("application/x-protobuf");
        content.Headers.ContentEncoding.Add("snappy");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/push") { Content = content };
        request.Headers.Add("X-Scope-OrgID", "lim-rate");
        using var refused = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.TooManyRequests, refused.StatusCode);
        Assert.True(refused.Headers.RetryAfter is not null, "429 without Retry-After");
        Assert.Contains("err-amphora-ingestion-rate-limited", await refused.Content.ReadAsStringAsync());

        using var api = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "lim-rate");
        var count = await api.GetAsync("query", ("query", "count_over_time(rated[1m])"), ("time", PromApiClient.FormatTime(Now)));
        Assert.Contains("\"150\"", count.Body);
    }

    [Fact]
    public async Task A_workspace_s_own_label_count_and_request_size_limits_refuse_only_its_requests_naming_the_override()
    {
        using var writer = new RemoteWriteClient(_amphora.BaseAddress);
        var wide = new WriteRequestBuilder()
            .Series("__name__=\"narrow\",a=\"1\",b=\"2\"", (Now, 1))
            .Series("__name__=\"wide\",a=\"1\",b=\"2\",c=\"3\"", (Now, 2));
        var refused = await writer.PushAsync("lim-request", wide);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Contains("err-amphora-max-label-names-per-series", refused.Error);
        Assert.Contains("more than the limit of 3 (set by max_label_names_per_series in the workspace's limits overrides", refused.Error);
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("lim-other", wide)).Status); // the flag's 70 elsewhere

        var big = Samples("big", 500, Now - 10_000); // about 8 KiB decoded
        var tooLarge = await writer.PushAsync("lim-request", big);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.Status);
        Assert.Contains("exceeds the limit of 2000 bytes (set by max_request_body_bytes in the workspace's limits overrides", tooLarge.Error);
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("lim-other", big)).Status);

        using var api = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "lim-request");
        string at = PromApiClient.FormatTime(Now);
        Assert.Contains("\"1\"", (await api.GetAsync("query", ("query", "narrow"), ("time", at))).Body); // partial accept
        Assert.Contains("\"result\":[]", (await api.GetAsync("query", ("query", "wide"), ("time", at))).Body);
        Assert.Contains("\"result\":[]", (await api.GetAsync("query", ("query", "count(big)"), ("time", at))).Body);
    }

    [Fact]
    public async Task The_series_per_metric_limit_refuses_only_new_series_and_raising_it_needs_no_restart()
    {
        using var writer = new RemoteWriteClient(_amphora.BaseAddress);
        var three = new WriteRequestBuilder();
        for (int i = 0; i < 3; i++) three.Series($"__name__=\"limited\",n=\"{i}\"", (Now - 1000, i));
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("lim-series", three)).Status);

        var fourth = new WriteRequestBuilder()
            .Series("__name__=\"limited\",n=\"0\"", (Now, 10))
            .Series("__name__=\"limited\",n=\"3\"", (Now, 13))
            .Series("__name__=\"other\",n=\"0\"", (Now, 20));
        var result = await writer.PushAsync("lim-series", fourth);
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains("err-amphora-max-series-per-metric", result.Body);
        Assert.Contains("max_series_per_metric", result.Body);
        Assert.Contains("n=\"3\"", result.Error);

        using var api = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "lim-series");
        string at = PromApiClient.FormatTime(Now);
        Assert.Contains("\"10\"", (await api.GetAsync("query", ("query", "limited{n=\"0\"}"), ("time", at))).Body);
        Assert.Contains("\"20\"", (await api.GetAsync("query", ("query", "other"), ("time", at))).Body);
        Assert.Contains("\"result\":[]", (await api.GetAsync("query", ("query", "limited{n=\"3\"}"), ("time", at))).Body);

        File.WriteAllText(_overrides, Overrides(maxSeriesPerMetric: 10));
        var deadline = DateTime.UtcNow.AddSeconds(20);
        HttpStatusCode status = HttpStatusCode.BadRequest;
        while (DateTime.UtcNow < deadline && status != HttpStatusCode.NoContent)
        {
            await Task.Delay(500);
            status = (await writer.PushAsync("lim-series", new WriteRequestBuilder().Series("__name__=\"limited\",n=\"3\"", (Now + 1, 13)))).Status;
        }
        Assert.Equal(HttpStatusCode.NoContent, status);
    }

    [Fact]
    public async Task Query_limits_answer_with_prometheus_error_types()
    {
        using var writer = new RemoteWriteClient(_amphora.BaseAddress);
        Assert.Equal(HttpStatusCode.NoContent, (await writer.PushAsync("lim-query", Samples("queried", 100, Now - 50_000))).Status);
        using var api = new PromApiClient(_amphora.BaseAddress, "/prometheus/api/v1", "lim-query");
        string at = PromApiClient.FormatTime(Now);
        var ok = await api.GetAsync("query", ("query", "count_over_time(queried[5m])"), ("time", at));
        Assert.Contains("\"100\"", ok.Body);
        var capped = await api.GetAsync("query", ("query", "count_over_time(queried[5m])"), ("time", at), ("max_samples_processed_error_threshold", "10"));
        Assert.Equal((HttpStatusCode)422, capped.Status);
        Assert.Contains("query processing would load too many samples into memory", capped.Body);
        var tooLong = await api.GetAsync("query_range", ("query", "queried"), ("start", "0"), ("end", at), ("step", "864000"));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.Status);
        Assert.Contains("err-amphora-max-query-range", tooLong.Body);
    }

    [Fact]
    public async Task A_limit_per_label_set_from_the_workspace_configuration_refuses_new_series_of_that_set()
    {
        using var http = new HttpClient { BaseAddress = _amphora.BaseAddress };
        var created = await http.PostAsync("/workspaces", new StringContent("""{"alias":"labelset"}""", Encoding.UTF8, "application/json"));
        string body = await created.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Accepted, created.StatusCode);
        string ws = System.Text.Json.JsonDocument.Parse(body).RootElement.GetProperty("workspaceId").GetString()!;
        var patch = new HttpRequestMessage(HttpMethod.Patch, $"/workspaces/{ws}/configuration")
        {
            Content = new StringContent("""{"limitsPerLabelSet":[{"labelSet":{"team":"a"},"limits":{"maxSeries":2}}]}""", Encoding.UTF8, "application/json"),
        };
        var patched = await http.SendAsync(patch);
        Assert.True(patched.IsSuccessStatusCode, await patched.Content.ReadAsStringAsync());

        using var writer = new RemoteWriteClient(_amphora.BaseAddress);
        var request = new WriteRequestBuilder()
            .Series("__name__=\"m\",i=\"1\",team=\"a\"", (Now, 1))
            .Series("__name__=\"m\",i=\"2\",team=\"a\"", (Now, 2))
            .Series("__name__=\"m\",i=\"3\",team=\"a\"", (Now, 3))
            .Series("__name__=\"m\",i=\"4\",team=\"b\"", (Now, 4));
        var result = await writer.PushToWorkspacePathAsync(ws, request);
        Assert.Equal(HttpStatusCode.BadRequest, result.Status);
        Assert.Contains("err-amphora-max-series-per-label-set", result.Body);
        using var api = new PromApiClient(_amphora.BaseAddress, $"/workspaces/{ws}/api/v1");
        var all = await api.GetAsync("query", ("query", "count(m)"), ("time", PromApiClient.FormatTime(Now)));
        Assert.Contains("\"3\"", all.Body);
    }
}
