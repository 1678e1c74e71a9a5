using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amphora.Bucket;
using Amphora.Bucket.Tests;
using Amphora.EndToEnd.Tests.Access;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>
/// One tenancy for a whole cluster: 3 ingesters, 2 distributors, a querier and a compactor as separate processes, each with
/// its own data dir, sharing only the bucket (a directory, or s3rver), the master key and the admin key file. A workspace
/// and a key created through distributor A work through distributor B and the querier within one sync interval; a disabled
/// key is refused everywhere within one interval; a configuration change, a rule groups namespace and an Alertmanager
/// definition are seen everywhere; a deleted workspace is removed by the compactor from the bucket (its namespaces and
/// definition with it) and then answers 404 on every component.
/// </summary>
public sealed class ClusterTenancyTests(S3ServerFixture s3) : IClassFixture<S3ServerFixture>, IDisposable
{
    private const string SyncInterval = "1s";
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(15); // one interval, with room for a loaded 2-core machine
    private readonly ProcessGroup _group = new("amphora-cluster-tenancy");

    public void Dispose() => _group.Dispose();

    [Theory]
    [InlineData("filesystem")]
    [InlineData("s3")]
    public async Task A_workspace_and_key_made_through_one_component_work_on_every_component_until_disabled_and_deleted(string storage)
    {
        string prefix = "tenancy-e2e-" + Guid.NewGuid().ToString("N");
        string[] bucket = storage == "s3"
            ? ["--blocks.storage=s3", $"--blocks.s3.endpoint={s3.Endpoint}", $"--blocks.s3.bucket={S3ServerFixture.BucketName}", "--blocks.s3.path-style",
               $"--blocks.s3.access-key={S3ServerFixture.Key}", $"--blocks.s3.secret-key={S3ServerFixture.Key}", $"--blocks.s3.prefix={prefix}"]
            : [$"--blocks.filesystem.dir={Path.Combine(_group.Dir, "bucket")}"];
        var (keys, admin) = _group.WriteSharedKeys();
        string[] common = [.. bucket, .. keys, $"--tenancy.sync-interval={SyncInterval}"];

        var grpcPorts = new List<int>();
        var ingesters = new List<AmphoraProcess>();
        for (int i = 0; i < 3; i++)
        {
            int grpc = FreePort.Next();
            grpcPorts.Add(grpc);
            ingesters.Add(Start([.. common, "--target=ingester", $"--ingester.name=ingester-{i}", $"--grpc.listen=127.0.0.1:{grpc}"]));
        }
        foreach (var ingester in ingesters) await ingester.WaitReadyAsync();
        string members = string.Join(",", grpcPorts.Select((p, i) => $"ingester-{i}=127.0.0.1:{p}"));
        string[] ring = [$"--ring.members={members}", "--ring.poll-interval=500ms"];
        var distributorA = Start([.. common, .. ring, "--target=distributor"]);
        var distributorB = Start([.. common, .. ring, "--target=distributor"]);
        var querier = Start([.. common, .. ring, "--target=querier"]);
        var compactor = Start([.. common, "--target=compactor", "--compactor.interval=1s"]);
        await Task.WhenAll(distributorA.WaitReadyAsync(), distributorB.WaitReadyAsync(), querier.WaitReadyAsync(), compactor.WaitReadyAsync());
        AmphoraProcess[] http = [distributorA, distributorB, querier, compactor];

        using var a = new AccessClient(distributorA.BaseAddress);
        using var b = new AccessClient(distributorB.BaseAddress);
        using var q = new AccessClient(querier.BaseAddress);

        // Created through distributor A: a workspace and a key that may write and read.
        string ws = await a.CreateWorkspaceAsync(admin, "shared");
        var key = await a.CreateKeyAsync(admin, ws, "aps:RemoteWrite", "aps:QueryMetrics");
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var sample = new WriteRequestBuilder().Series("__name__=\"tenancy_e2e\",job=\"shared\"", (now, 42));

        // Written through distributor B and read through the querier, within one sync interval.
        await Eventually.StatusAsync(() => b.PushAsync(ws, key, sample), HttpStatusCode.NoContent, Within, "distributor B accepts the key made through A");
        await Eventually.BodyAsync(() => q.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query?query=tenancy_e2e&time={now / 1000.0:F3}", key),
            "\"42\"", Within, "the querier answers with the key made through A");
        foreach (var p in http)
        {
            using var c = new AccessClient(p.BaseAddress);
            var (status, body) = await c.SendAsync(HttpMethod.Get, $"/workspaces/{ws}", admin);
            Assert.True(status == HttpStatusCode.OK && body.Contains("\"ACTIVE\""), $"describe through {p.BaseAddress}: {status} {body}");
        }

        // The distributors count each other through the bucket, and each admits half of a workspace's ingestion rate.
        foreach (var d in new[] { distributorA, distributorB })
        {
            using var c = new AccessClient(d.BaseAddress);
            await Eventually.BodyAsync(() => c.SendAsync(HttpMethod.Get, "/metrics", admin), "amphora_distributor_instances 2", Within,
                $"{d.BaseAddress} counts both distributors");
        }

        // A configuration change made through distributor B is seen by every component: retention, and a label-set limit that
        // the ingesters enforce for writes through either distributor.
        var patch = new StringContent(new JsonObject
        {
            ["retentionPeriodInDays"] = 7,
            ["limitsPerLabelSet"] = new JsonArray(new JsonObject
            {
                ["labelSet"] = new JsonObject { ["job"] = "limited" },
                ["limits"] = new JsonObject { ["maxSeries"] = 2 },
            }),
        }.ToJsonString(), Encoding.UTF8, "application/json");
        var (patched, patchBody) = await b.SendAsync(HttpMethod.Patch, $"/workspaces/{ws}/configuration", admin, patch);
        Assert.True(patched == HttpStatusCode.Accepted, $"{patched} {patchBody}");
        foreach (var p in http)
        {
            using var c = new AccessClient(p.BaseAddress);
            await Eventually.BodyAsync(() => c.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/configuration", admin), "\"retentionPeriodInDays\":7",
                Within, $"{p.BaseAddress} sees the new retention");
        }

        // A rule groups namespace made through distributor A and an Alertmanager definition made through the querier (checked
        // by its amtool) are described by every component; a bad rule file is refused with the place named.
        const string rules = "groups:\n  - name: g\n    rules:\n      - record: job:tenancy_e2e:sum\n        expr: sum by (job) (tenancy_e2e)\n";
        const string definition = "alertmanager_config: |\n  route:\n    receiver: r\n  receivers:\n    - name: r\n";
        var (createdRules, createdRulesBody) = await a.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/rulegroupsnamespaces", admin,
            Json(new JsonObject { ["name"] = "e2e", ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(rules)) }));
        Assert.True(createdRules == HttpStatusCode.Accepted, $"{createdRules} {createdRulesBody}");
        var (createdAm, createdAmBody) = await q.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/alertmanager/definition", admin,
            Json(new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(definition)) }));
        Assert.True(createdAm == HttpStatusCode.Accepted, $"{createdAm} {createdAmBody}");
        var (refused, refusedBody) = await b.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/rulegroupsnamespaces", admin,
            Json(new JsonObject { ["name"] = "bad", ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(rules.Replace("sum by", "sum(by", StringComparison.Ordinal))) }));
        Assert.True(refused == HttpStatusCode.BadRequest, $"{refused} {refusedBody}");
        Assert.StartsWith("data: invalid rule file: line 5: group \"g\", rule 1", JsonNode.Parse(refusedBody)!["message"]!.GetValue<string>());
        foreach (var p in http)
        {
            using var c = new AccessClient(p.BaseAddress);
            await Eventually.BodyAsync(() => c.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/rulegroupsnamespaces/e2e", admin),
                "\"name\":\"e2e\"", Within, $"{p.BaseAddress} describes the rule groups namespace");
            await Eventually.BodyAsync(() => c.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/alertmanager/definition", admin),
                "\"alertManagerDefinition\"", Within, $"{p.BaseAddress} describes the Alertmanager definition");
        }

        // New series of the label set through A until the ingesters, once they have the change, admit two more and refuse.
        WriteRequestBuilder Limited(int i) => new WriteRequestBuilder().Series($"__name__=\"tenancy_e2e\",i=\"{i}\",job=\"limited\"", (now, i));
        int next = 0, lastAdmitted = -1;
        string refusal = "";
        var deadline = DateTime.UtcNow + Within;
        while (refusal.Length == 0 && DateTime.UtcNow < deadline)
        {
            var (status, body) = await a.PushAsync(ws, key, Limited(next));
            if (status == HttpStatusCode.NoContent) lastAdmitted = next++;
            else if (status == HttpStatusCode.BadRequest) refusal = JsonDocument.Parse(body).RootElement.GetProperty("error").GetString()!;
            else Assert.Fail($"series {next}: {status} {body}");
        }
        Assert.Contains("the series limit of 2 for label set {job=\"limited\"} is reached", refusal);
        Assert.Contains("err-amphora-max-series-per-label-set", refusal);
        var (third, thirdBody) = await b.PushAsync(ws, key, Limited(next + 1));
        Assert.True(third == HttpStatusCode.BadRequest && thirdBody.Contains("err-amphora-max-series-per-label-set"),
            $"a new series of the label set through distributor B: {third} {thirdBody}");
        var (admitted, admittedBody) = await b.PushAsync(ws, key,
            new WriteRequestBuilder().Series($"__name__=\"tenancy_e2e\",i=\"{lastAdmitted}\",job=\"limited\"", (now + 1000, 1)));
        Assert.True(admitted == HttpStatusCode.NoContent, $"an admitted series still takes samples: {admitted} {admittedBody}");

        // Disabled through the querier: refused for writes through both distributors and for queries, within one interval.
        var (disabled, disabledBody) = await q.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/keys/{key.Id}/disable", admin);
        Assert.True(disabled == HttpStatusCode.OK, $"{disabled} {disabledBody}");
        await Eventually.StatusAsync(() => a.PushAsync(ws, key, sample), HttpStatusCode.Unauthorized, Within, "distributor A refuses the disabled key");
        await Eventually.StatusAsync(() => b.PushAsync(ws, key, sample), HttpStatusCode.Unauthorized, Within, "distributor B refuses the disabled key");
        var (queried, _) = await q.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query?query=tenancy_e2e", key);
        Assert.Equal(HttpStatusCode.Unauthorized, queried);

        // Deleted through distributor A: the compactor removes its objects and its record; then every component answers 404.
        var (deleted, deletedBody) = await a.SendAsync(HttpMethod.Delete, $"/workspaces/{ws}", admin);
        Assert.True(deleted == HttpStatusCode.Accepted, $"{deleted} {deletedBody}");
        foreach (var p in http)
        {
            using var c = new AccessClient(p.BaseAddress);
            await Eventually.StatusAsync(() => c.SendAsync(HttpMethod.Get, $"/workspaces/{ws}", admin), HttpStatusCode.NotFound,
                Within, $"{p.BaseAddress} answers 404 for the deleted workspace\n{compactor.Output}");
        }
        // The ingesters drop the deleted workspace's head and WAL series, so no later block upload brings its data back.
        foreach (var ingester in ingesters)
            await Eventually.HoldsAsync(() => Task.FromResult(ingester.Output.Contains($"dropped the data of workspace {ws}", StringComparison.Ordinal)),
                () => $"the ingester drops the deleted workspace\n{ingester.Output}", Within);
        IBucket shared = storage == "s3" ? s3.NewBucket(prefix) : new FilesystemBucket(Path.Combine(_group.Dir, "bucket"));
        Assert.Empty(await shared.ListAsync(ws + "/", recursive: true));
        Assert.DoesNotContain(await shared.ListAsync("tenancy/", recursive: true), name => name.Contains(ws, StringComparison.Ordinal));
        Assert.DoesNotContain(await shared.ListAsync("tenancy/", recursive: true), name => name.Contains(key.Id, StringComparison.Ordinal));
    }

    private static StringContent Json(JsonObject body) => new(body.ToJsonString(), Encoding.UTF8, "application/json");

    /// <summary>
    /// Series limits hold for the cluster, not per ingester: each ingester enforces its share of the workspace's limit (the
    /// replication factor ÷ the ingesters of <c>--ring.members</c>), so two ingesters at RF=1 with a limit of 10 admit 10 new
    /// series in all, not 20, and the refusal is a 400 naming the limit, the share and the setting. The workspace's request-size
    /// and label-count overrides hold at the cluster's distributor.
    /// </summary>
    [Fact]
    public async Task Ingesters_enforce_their_share_of_a_workspace_series_limit()
    {
        string overrides = Path.Combine(_group.Dir, "overrides.yml");
        File.WriteAllText(overrides, """
            overrides:
              lim-cluster:
                max_series_per_workspace: 10
                max_label_names_per_series: 3
                max_request_body_bytes: 2000
            """);
        string[] common = [$"--blocks.filesystem.dir={Path.Combine(_group.Dir, "bucket")}", $"--limits.overrides-file={overrides}",
            "--ring.replication-factor=1"];
        int[] grpcPorts = [FreePort.Next(), FreePort.Next()];
        string[] ring = [$"--ring.members={string.Join(",", grpcPorts.Select((p, i) => $"ingester-{i}=127.0.0.1:{p}"))}"];
        var ingesters = grpcPorts.Select((port, i) =>
            Start([.. common, .. ring, "--target=ingester", $"--ingester.name=ingester-{i}", $"--grpc.listen=127.0.0.1:{port}"])).ToList();
        foreach (var ingester in ingesters) await ingester.WaitReadyAsync();
        var distributor = Start([.. common, .. ring, "--target=distributor", "--ring.poll-interval=500ms"]);
        await distributor.WaitReadyAsync();

        using var writer = new RemoteWriteClient(distributor.BaseAddress);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var accepted = new List<int>();
        var refusals = new List<string>();
        for (int i = 0; i < 40; i++)
        {
            var result = await writer.PushAsync("lim-cluster", new WriteRequestBuilder().Series($"__name__=\"limited\",pod=\"p{i}\"", (now, i)));
            if (result.Status == HttpStatusCode.NoContent) accepted.Add(i);
            else
            {
                Assert.True(result.Status == HttpStatusCode.BadRequest, $"series {i}: {result.Status} {result.Body}");
                refusals.Add(result.Error);
            }
        }
        // 40 series spread over both ingesters: each admits its share of 5, so the cluster admits exactly the limit.
        Assert.Equal(10, accepted.Count);
        Assert.Equal(30, refusals.Count);
        Assert.All(refusals, e => Assert.Contains("err-amphora-max-series-per-workspace", e));
        Assert.Contains("the per-workspace series limit of 10 is reached (this ingester's share, 5, is reached", refusals[0]);
        Assert.Contains("raise max_series_per_workspace in the overrides", refusals[0]);

        // A series that exists is never refused: the admitted ones still take samples.
        // The workspace's request-size and label-count overrides hold at the cluster's distributor too.
        var tooManyLabels = await writer.PushAsync("lim-cluster", new WriteRequestBuilder().Series("__name__=\"limited\",a=\"1\",b=\"2\",c=\"3\"", (now, 1)));
        Assert.True(tooManyLabels.Status == HttpStatusCode.BadRequest, tooManyLabels.Body);
        Assert.Contains("(set by max_label_names_per_series in the workspace's limits overrides", tooManyLabels.Error);
        var tooLarge = await writer.PushAsync("lim-cluster", new WriteRequestBuilder().Series($"__name__=\"limited\",pod=\"{new string('x', 2100)}\"", (now, 1)));
        Assert.True(tooLarge.Status == HttpStatusCode.RequestEntityTooLarge, tooLarge.Body);
        Assert.Contains("exceeds the limit of 2000 bytes (set by max_request_body_bytes in the workspace's limits overrides", tooLarge.Error);

        foreach (int i in accepted)
        {
            var again = await writer.PushAsync("lim-cluster", new WriteRequestBuilder().Series($"__name__=\"limited\",pod=\"p{i}\"", (now + 1000, i)));
            Assert.True(again.Status == HttpStatusCode.NoContent, $"admitted series p{i}: {again.Status} {again.Body}");
        }
    }

    private AmphoraProcess Start(string[] args) => _group.Start(args);
}
