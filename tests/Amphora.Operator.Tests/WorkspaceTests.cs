using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Api;
using Amphora.Operator.Tests.Harness;
using k8s;
using k8s.Models;
using Xunit;

namespace Amphora.Operator.Tests;

/// <summary>A Workspace resource becomes an Amphora workspace whose key Secrets real clients use.</summary>
[Collection(OperatorCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class WorkspaceTests(OperatorEnvironment env)
{
    private static readonly string[] ReadActions = ["aps:QueryMetrics", "aps:GetSeries", "aps:GetLabels", "aps:GetMetricMetadata"];

    private static JsonObject Spec(int retention) => new()
    {
        ["retentionPeriodInDays"] = retention,
        ["tags"] = new JsonObject { ["team"] = "a" },
        ["accessKeys"] = new JsonArray
        {
            new JsonObject { ["name"] = "writer", ["actions"] = new JsonArray("aps:RemoteWrite") },
            new JsonObject { ["name"] = "reader", ["actions"] = new JsonArray(ReadActions.Select(a => (JsonNode)a).ToArray()) },
        },
    };

    [SkippableFact]
    public async Task A_workspace_becomes_active_and_its_key_secrets_let_Prometheus_write_and_a_reader_query_but_not_write()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-a");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("team-a", Spec(30)));

        var ws = await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "team-a", Conditions.Ready);
        var status = ws.Status!;
        Assert.Equal("ACTIVE", status.StatusCode);
        Assert.Equal(ws.Metadata.Generation, status.ObservedGeneration);
        Assert.StartsWith("ws-", status.WorkspaceId);
        Assert.Equal(status.WorkspaceId, ws.Metadata.Annotations[AmphoraApi.WorkspaceIdAnnotation]);
        Assert.Contains(AmphoraApi.Finalizer, ws.Metadata.Finalizers);
        Assert.Equal($"{status.PrometheusEndpoint}api/v1/remote_write", status.RemoteWriteUrl);
        Assert.Equal($"{status.PrometheusEndpoint}api/v1/query", status.QueryUrl);
        Assert.All(status.Conditions, c => Assert.Equal(ws.Metadata.Generation, c.ObservedGeneration));

        var (code, described) = await env.AmphoraGetAsync($"/workspaces/{status.WorkspaceId}");
        Assert.Equal(200, code);
        Assert.Equal($"{ns}/team-a", (string?)described!["workspace"]!["alias"]);
        Assert.Equal("a", (string?)described["workspace"]!["tags"]!["team"]);
        var (_, config) = await env.AmphoraGetAsync($"/workspaces/{status.WorkspaceId}/configuration");
        Assert.Equal(30, (int)config!["workspaceConfiguration"]!["retentionPeriodInDays"]!);

        var writer = await env.Client.CoreV1.ReadNamespacedSecretAsync("team-a-writer", ns);
        var reader = await env.Client.CoreV1.ReadNamespacedSecretAsync("team-a-reader", ns);
        Assert.Equal(status.RemoteWriteUrl, Text(writer, "remoteWriteURL"));
        Assert.Equal(Text(writer, "accessKeyId"), Text(writer, "username"));
        Assert.Equal($"{Text(writer, "username")}:{Text(writer, "password")}", Text(writer, "bearerToken"));
        Assert.Equal(Text(writer, "accessKeyId"), writer.Metadata.Annotations[AmphoraApi.AccessKeyIdAnnotation]);

        // Prometheus's remote_write with basic_auth from the Secret, as a Pod mounting it would have it.
        string secrets = RepoPaths.NewTempDir("ws-secret");
        File.WriteAllText(Path.Combine(secrets, "password"), Text(writer, "password"));
        int promPort = FreePort.Next();
        using var prom = PrometheusProcess.Start($$"""
            global: { scrape_interval: 1s }
            scrape_configs:
              - job_name: prom
                static_configs: [{ targets: ["127.0.0.1:{{promPort}}"] }]
            remote_write:
              - url: {{Text(writer, "remoteWriteURL")}}
                basic_auth: { username: {{Text(writer, "username")}}, password_file: {{secrets}}/password }
            """, promPort);
        await prom.WaitReadyAsync();

        using var query = Client(reader);
        string queryUrl = Text(reader, "queryURL") + "?query=" + Uri.EscapeDataString("up{job=\"prom\"}");
        await Eventually.HoldsAsync(async () =>
        {
            var body = await query.GetStringAsync(queryUrl);
            return JsonNode.Parse(body)!["data"]!["result"]!.AsArray().Count == 1;
        }, () => "the reader key to query back what Prometheus wrote", TimeSpan.FromSeconds(60));

        using var rw = new RemoteWriteClient(new Uri(Text(reader, "remoteWriteURL")), Basic(reader));
        var refused = await rw.PostAsync(new Uri(Text(reader, "remoteWriteURL")).AbsolutePath, null,
            IronSnappy.Snappy.Encode(new WriteRequestBuilder().Series("__name__=\"intruder\"", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1)).Encode()));
        Assert.Equal(HttpStatusCode.Forbidden, refused.Status);
        using var writerQuery = Client(writer);
        Assert.Equal(HttpStatusCode.Forbidden, (await writerQuery.GetAsync(queryUrl)).StatusCode);
    }

    [SkippableFact]
    public async Task Editing_retention_and_limits_changes_what_the_control_plane_shows_and_enforces()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-b");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("edited", Spec(30)));
        var ws = await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "edited", Conditions.Ready);
        string id = ws.Status!.WorkspaceId!;
        string writerKey = ws.Status.AccessKeys!.Single(k => k.Name == "writer").AccessKeyId;

        await env.Client.MergePatchAsync(ns, V1Alpha1Workspace.Plural, "edited", new JsonObject
        {
            ["spec"] = new JsonObject
            {
                ["retentionPeriodInDays"] = 90,
                ["outOfOrderTimeWindowInSeconds"] = 600,
                ["limits"] = new JsonObject
                {
                    ["limitsPerLabelSet"] = new JsonArray(new JsonObject { ["labelSet"] = new JsonObject { ["job"] = "capped" }, ["maxSeries"] = 2 }),
                    ["ingestionRate"] = 5000,
                    ["maxSeries"] = 3,
                },
            },
        });
        await Eventually.HoldsAsync(async () =>
        {
            var w = await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "edited");
            return w!.Status!.ObservedGeneration == w.Metadata.Generation && Conditions.IsTrue(w.Status, Conditions.Ready);
        }, () => "the edit to be reconciled");
        var (_, config) = await env.AmphoraGetAsync($"/workspaces/{id}/configuration");
        var c = config!["workspaceConfiguration"]!;
        Assert.Equal(90, (int)c["retentionPeriodInDays"]!);
        Assert.Equal(600, (long)c["outOfOrderTimeWindowInSeconds"]!);
        Assert.Equal(2, (long)c["limitsPerLabelSet"]![0]!["limits"]!["maxSeries"]!);
        Assert.Equal("capped", (string?)c["limitsPerLabelSet"]![0]!["labelSet"]!["job"]);
        Assert.Equal(5000, (double)c["limits"]!["ingestionRate"]!);
        Assert.Equal(3, (long)c["limits"]!["maxSeries"]!);
        var edited = await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "edited");
        Assert.True(Conditions.IsTrue(edited!.Status, Conditions.LimitsApplied));

        // Enforced: the third series of job="capped" is refused naming the limit; the Secret still holds the same key.
        var writer = await env.Client.CoreV1.ReadNamespacedSecretAsync("edited-writer", ns);
        Assert.Equal(writerKey, Text(writer, "accessKeyId"));
        using var rw = new RemoteWriteClient(env.Amphora.BaseAddress, Basic(writer));
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var ok = await rw.PushToWorkspacePathAsync(id, new WriteRequestBuilder()
            .Series("__name__=\"m\",i=\"1\",job=\"capped\"", (now, 1)).Series("__name__=\"m\",i=\"2\",job=\"capped\"", (now, 1)));
        Assert.Equal(HttpStatusCode.NoContent, ok.Status);
        var over = await rw.PushToWorkspacePathAsync(id, new WriteRequestBuilder().Series("__name__=\"m\",i=\"3\",job=\"capped\"", (now, 1)));
        Assert.NotEqual(HttpStatusCode.NoContent, over.Status);
        Assert.Contains("err-amphora-max-series-per-label-set", over.Body);
        // And the workspace's own maxSeries: a third series in all fits, a fourth does not.
        Assert.Equal(HttpStatusCode.NoContent, (await rw.PushToWorkspacePathAsync(id, new WriteRequestBuilder().Series("__name__=\"other\",i=\"1\"", (now, 1)))).Status);
        var overTotal = await rw.PushToWorkspacePathAsync(id, new WriteRequestBuilder().Series("__name__=\"other\",i=\"2\"", (now, 1)));
        Assert.Equal(HttpStatusCode.BadRequest, overTotal.Status);
        Assert.Contains("err-amphora-max-series-per-workspace", overTotal.Body);
    }

    internal static string Text(V1Secret s, string key) => Encoding.UTF8.GetString(s.Data[key]);

    internal static AuthenticationHeaderValue Basic(V1Secret s) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Text(s, "username")}:{Text(s, "password")}")));

    internal static HttpClient Client(V1Secret s)
    {
        var http = new HttpClient();
        http.DefaultRequestHeaders.Authorization = Basic(s);
        return http;
    }
}
