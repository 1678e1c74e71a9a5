using System.Net;
using Amphora.EndToEnd.Tests.Access;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.PromQL;

/// <summary>
/// Issue 24: <c>--target=query-frontend</c> as its own process in front of a querier (here an <c>all</c> with its in-process
/// frontend off, sharing the bucket and keys). Through the frontend, split into 10-minute pieces and cached, every answer
/// is byte for byte the querier's: range and instant queries, the other endpoints (passed on), and errors; a repeated
/// range query is a cache hit; the frontend itself refuses a key of another workspace.
/// </summary>
public sealed class QueryFrontendProcessTests : IDisposable
{
    private readonly ProcessGroup _group = new("amphora-query-frontend");

    public void Dispose() => _group.Dispose();

    [Fact]
    public async Task Answers_through_the_frontend_process_equal_the_querier_s_and_repeat_from_its_cache()
    {
        var (keys, admin) = _group.WriteSharedKeys();
        string[] common = [.. keys, $"--blocks.filesystem.dir={Path.Combine(_group.Dir, "bucket")}", "--tenancy.sync-interval=1s"];
        var querier = _group.Start([.. common, "--target=all", "--query-frontend.enabled=false"]);
        await querier.WaitReadyAsync();
        var frontend = _group.Start([.. common, "--target=query-frontend", $"--query-frontend.downstream-url={querier.BaseAddress}",
            "--query-frontend.split-interval=10m", "--query-frontend.max-cache-freshness=5m"]);
        await frontend.WaitReadyAsync();

        using var q = new AccessClient(querier.BaseAddress);
        using var f = new AccessClient(frontend.BaseAddress);
        string ws = await q.CreateWorkspaceAsync(admin, "frontend");
        var key = await q.CreateKeyAsync(admin, ws, "aps:RemoteWrite", "aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata");
        string other = await q.CreateWorkspaceAsync(admin, "other");
        var otherKey = await q.CreateKeyAsync(admin, other, "aps:QueryMetrics");

        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 * 1000;
        long start = now - 50 * 60_000;
        var write = new WriteRequestBuilder();
        foreach (var code in new[] { "200", "500" })
            write.Series($"__name__=\"fe_requests_total\",code=\"{code}\",job=\"api\"",
                Enumerable.Range(0, 200).Select(i => (start + i * 15_000L, (double)(i * (code == "200" ? 3 : 1)))).ToArray());
        write.Series("__name__=\"fe_temperature\",job=\"node\"",
            Enumerable.Range(0, 200).Select(i => (start + i * 15_000L, Math.Sin(i / 9.0) * 20)).ToArray());
        var (pushed, pushBody) = await q.PushAsync(ws, key, write);
        Assert.True(pushed == HttpStatusCode.NoContent, $"{pushed} {pushBody}");

        string s = (start / 1000.0).ToString("F3"), e = (now / 1000.0).ToString("F3"), mid = ((start + 20 * 60_000) / 1000.0).ToString("F3");
        string[] paths =
        [
            $"api/v1/query_range?query=sum+by+(code)+(rate(fe_requests_total[2m]))&start={s}&end={e}&step=30",
            $"api/v1/query_range?query=fe_temperature+offset+3m&start={s}&end={e}&step=17",
            $"api/v1/query_range?query=max_over_time(fe_temperature[10m:1m])&start={s}&end={e}&step=60",
            $"api/v1/query_range?query=rate(fe_temperature[5m])&start={s}&end={e}&step=60", // an info annotation
            $"api/v1/query?query=topk(1,fe_requests_total)&time={mid}",
            $"api/v1/series?match[]=fe_requests_total&start={s}&end={e}",
            $"api/v1/labels?start={s}&end={e}",
            $"api/v1/label/code/values",
            $"api/v1/query_range?query=sum(&start={s}&end={e}&step=30",
            $"api/v1/query_range?query=up&start={e}&end={s}&step=30",
        ];
        // The frontend knows the keys once its tenancy has synced (one interval).
        await Eventually.StatusAsync(() => f.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/labels", key), HttpStatusCode.OK,
            TimeSpan.FromSeconds(15), "the frontend accepts the key made through the querier");
        await Eventually.StatusAsync(() => f.SendAsync(HttpMethod.Get, $"/workspaces/{other}/api/v1/query?query=up", otherKey), HttpStatusCode.OK,
            TimeSpan.FromSeconds(15), "the frontend accepts the other workspace's key");
        foreach (var path in paths)
        {
            var direct = await q.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/{path}", key);
            var viaFrontend = await f.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/{path}", key);
            Assert.True(direct == viaFrontend, $"{path}\n querier: {direct.Status} {direct.Body}\n frontend: {viaFrontend.Status} {viaFrontend.Body}");
            var again = await f.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/{path}", key);
            Assert.True(direct == again, $"{path} again\n querier: {direct.Body}\n frontend: {again.Body}");
        }
        var metrics = await f.SendAsync(HttpMethod.Get, "/metrics", null);
        Assert.Matches("amphora_query_frontend_results_cache_lookups_total\\{[^}]*result=\"hit\"[^}]*\\} [1-9]", metrics.Body);
        Assert.Matches("amphora_query_frontend_split_queries_total(\\{[^}]*\\})? [1-9]", metrics.Body);

        // Another workspace's key is refused by the frontend itself, as the querier would.
        var refused = await f.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/{paths[0]}", otherKey);
        var refusedDirect = await q.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/{paths[0]}", otherKey);
        Assert.Equal(refusedDirect.Status, refused.Status);
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
    }
}
