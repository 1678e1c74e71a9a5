using System.Text;
using System.Text.Json.Nodes;
using Amphora.Operator.Api;
using Amphora.Operator.Tests.Harness;
using k8s;
using Xunit;

namespace Amphora.Operator.Tests;

/// <summary>
/// In a cluster, remote write goes to the distributors and queries to the queriers, two Services: with
/// <c>--operator.remote-write-url</c> the Workspace status, the key Secrets and the collectors' configuration send writes
/// there, and everything else keeps <c>--operator.public-url</c>.
/// </summary>
[Collection(OperatorCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class EndpointTests(OperatorEnvironment env)
{
    [SkippableFact]
    public async Task With_a_remote_write_url_writes_go_to_it_and_queries_to_the_public_url()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-urls", true,
            "--operator.public-url=https://query.example.com/", "--operator.remote-write-url=https://write.example.com");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("split", new JsonObject
        {
            ["accessKeys"] = new JsonArray(new JsonObject { ["name"] = "writer", ["actions"] = new JsonArray("aps:RemoteWrite") }),
        }));

        var ws = await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "split", Conditions.Ready);
        var status = ws.Status!;
        string id = status.WorkspaceId!;
        Assert.Equal($"https://query.example.com/workspaces/{id}/", status.PrometheusEndpoint);
        Assert.Equal($"https://query.example.com/workspaces/{id}/api/v1/query", status.QueryUrl);
        Assert.Equal($"https://write.example.com/workspaces/{id}/api/v1/remote_write", status.RemoteWriteUrl);

        var writer = await env.Client.CoreV1.ReadNamespacedSecretAsync("split-writer", ns);
        Assert.Equal(status.RemoteWriteUrl, Encoding.UTF8.GetString(writer.Data["remoteWriteURL"]));
        Assert.Equal(status.QueryUrl, Encoding.UTF8.GetString(writer.Data["queryURL"]));
        Assert.Equal(status.PrometheusEndpoint, Encoding.UTF8.GetString(writer.Data["prometheusEndpoint"]));

        // A collector of the workspace writes to the distributors too.
        await env.Client.CreateAsync(ns, V1Alpha1Scraper.Plural, Resources.Object("Scraper", "nodes", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "split" },
            ["scrapeConfig"] = "scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [\"127.0.0.1:9100\"]\n",
        }));
        var scraper = await env.Client.WaitConditionAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "nodes", Conditions.Ready);
        var map = await env.Client.CoreV1.ReadNamespacedConfigMapAsync(scraper.Status!.ConfigMapName, ns);
        string config = map.Data["prometheus.yml"];
        Assert.Contains(status.RemoteWriteUrl!, config);
        Assert.DoesNotContain("query.example.com", config);
    }
}
