using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Amphora.Bucket.Tests;
using Amphora.EndToEnd.Tests.Access;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// The shared bucket (s3rver) unreachable for 30 s under a running cluster (ingester, distributor, querier as processes,
/// access keys on): writes with a key made before the outage are acknowledged and queries answered from the cached tenancy
/// state all along, a control-plane change is refused with 500 naming the bucket, and once the bucket is back the cluster
/// recovers by itself: changes work again and every acknowledged sample is there.
/// </summary>
public sealed class ClusterBucketOutageTests(S3ServerFixture s3) : IClassFixture<S3ServerFixture>, IDisposable
{
    private static readonly TimeSpan Outage = TimeSpan.FromSeconds(30);
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(20);
    private readonly ProcessGroup _group = new("amphora-bucket-outage");

    public void Dispose() => _group.Dispose();

    [Fact]
    public async Task Writes_and_queries_go_on_through_a_30s_bucket_outage_and_nothing_acknowledged_is_lost()
    {
        string prefix = "outage-" + Guid.NewGuid().ToString("N");
        var (keys, admin) = _group.WriteSharedKeys();
        string[] common = ["--blocks.storage=s3", $"--blocks.s3.endpoint={s3.Endpoint}", $"--blocks.s3.bucket={S3ServerFixture.BucketName}",
            "--blocks.s3.path-style", $"--blocks.s3.access-key={S3ServerFixture.Key}", $"--blocks.s3.secret-key={S3ServerFixture.Key}",
            $"--blocks.s3.prefix={prefix}", .. keys, "--tenancy.sync-interval=1s", "--ring.replication-factor=1"];
        int grpc = FreePort.Next();
        string[] ring = [$"--ring.members=ingester-0=127.0.0.1:{grpc}", "--ring.poll-interval=500ms"];
        var ingester = Start([.. common, .. ring, "--target=ingester", "--ingester.name=ingester-0", $"--grpc.listen=127.0.0.1:{grpc}"]);
        await ingester.WaitReadyAsync();
        var distributor = Start([.. common, .. ring, "--target=distributor"]);
        var querier = Start([.. common, .. ring, "--target=querier"]);
        await Task.WhenAll(distributor.WaitReadyAsync(), querier.WaitReadyAsync());
        using var d = new AccessClient(distributor.BaseAddress);
        using var q = new AccessClient(querier.BaseAddress);

        string ws = await d.CreateWorkspaceAsync(admin, "outage");
        var key = await d.CreateKeyAsync(admin, ws, "aps:RemoteWrite", "aps:QueryMetrics");
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var acknowledged = new List<long>();
        async Task WriteAsync(string when)
        {
            long t = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var (status, body) = await d.PushAsync(ws, key, new WriteRequestBuilder().Series("__name__=\"outage_e2e\"", (t, acknowledged.Count)));
            Assert.True(status == HttpStatusCode.NoContent, $"a write {when}: {status} {body}\n{distributor.Output}");
            acknowledged.Add(t);
        }
        async Task<string> CountAsync()
        {
            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            var (status, body) = await q.SendAsync(HttpMethod.Get,
                $"/workspaces/{ws}/api/v1/query?query=count_over_time(outage_e2e[5m])&time={PromApiClient.FormatTime(now)}", key);
            Assert.True(status == HttpStatusCode.OK, $"a query: {status} {body}\n{querier.Output}");
            return body;
        }
        await Eventually.StatusAsync(async () =>
        {
            var r = await d.PushAsync(ws, key, new WriteRequestBuilder().Series("__name__=\"outage_ready\"", (start, 1)));
            return r;
        }, HttpStatusCode.NoContent, Within, "the distributor accepts the new key");
        await Eventually.BodyAsync(() => q.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query?query=outage_ready&time={PromApiClient.FormatTime(start)}", key),
            "\"1\"", Within, "the querier accepts the new key");
        await WriteAsync("before the outage");

        await s3.GoDownAsync();
        string bucketName = $"s3://{S3ServerFixture.BucketName}/{prefix}";
        var outage = Stopwatch.StartNew();
        bool refusedChange = false;
        while (outage.Elapsed < Outage)
        {
            await WriteAsync($"{outage.Elapsed.TotalSeconds:0} s into the outage");
            await CountAsync();
            if (!refusedChange && outage.Elapsed > TimeSpan.FromSeconds(5))
            {
                var (status, body) = await d.SendAsync(HttpMethod.Post, "/workspaces", admin,
                    new StringContent("{\"alias\":\"during-outage\"}", System.Text.Encoding.UTF8, "application/json"));
                Assert.True(status == HttpStatusCode.InternalServerError && body.Contains(bucketName, StringComparison.Ordinal),
                    $"a workspace created during the outage: {status} {body}");
                refusedChange = true;
            }
            await Task.Delay(1000);
        }
        Assert.True(refusedChange);
        Assert.Contains($"cannot read the tenancy state from bucket {bucketName}", distributor.Output);

        await s3.ComeUpAsync();
        await WriteAsync("after the outage");
        // The components recover by themselves: a change works again, and the tenancy state is read again.
        await Eventually.StatusAsync(() => d.SendAsync(HttpMethod.Post, "/workspaces", admin,
                new StringContent("{\"alias\":\"after-outage\"}", System.Text.Encoding.UTF8, "application/json")),
            HttpStatusCode.Accepted, Within, "a workspace created after the outage");
        await Eventually.HoldsAsync(() => Task.FromResult(distributor.Output.Contains($"the tenancy state in bucket {bucketName} is readable again")),
            () => $"the distributor reads the tenancy state again\n{distributor.Output}", Within);
        // Every acknowledged sample is there.
        Assert.Contains($"\"{acknowledged.Count}\"", await CountAsync());
        // About one write a second through the outage, less the seconds the refused change spent retrying the bucket.
        Assert.True(acknowledged.Count >= 15, $"{acknowledged.Count} writes acknowledged");
    }

    private AmphoraProcess Start(string[] args) => _group.Start(args);
}
