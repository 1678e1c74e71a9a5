using System.Net;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Api;
using Amphora.Operator.Tests.Harness;
using k8s;
using Xunit;

namespace Amphora.Operator.Tests;

[Collection(OperatorCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class DeletionTests(OperatorEnvironment env)
{
    [SkippableFact]
    public async Task Deleting_a_workspace_removes_the_tenant_its_data_its_Secrets_and_collectors_and_then_the_object()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-delete");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("doomed", new JsonObject
        {
            ["accessKeys"] = new JsonArray(new JsonObject { ["name"] = "writer", ["actions"] = new JsonArray("aps:RemoteWrite") }),
        }));
        await env.Client.CreateAsync(ns, V1Alpha1Scraper.Plural, Resources.Object("Scraper", "doomed-scraper", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "doomed" },
            ["scrapeConfig"] = "scrape_configs:\n  - job_name: x\n    static_configs: [{targets: ['127.0.0.1:1']}]\n",
        }));
        var ws = await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "doomed", Conditions.Ready);
        await env.Client.WaitConditionAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "doomed-scraper", Conditions.Ready);
        string id = ws.Status!.WorkspaceId!;

        // Data in the workspace, written with the provisioned key.
        var writer = await env.Client.CoreV1.ReadNamespacedSecretAsync("doomed-writer", ns);
        using (var rw = new RemoteWriteClient(env.Amphora.BaseAddress, WorkspaceTests.Basic(writer)))
        {
            var pushed = await rw.PushToWorkspacePathAsync(id, new WriteRequestBuilder()
                .Series("__name__=\"doomed_metric\"", (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), 1)));
            Assert.Equal(HttpStatusCode.NoContent, pushed.Status);
        }
        string selector = $"{AmphoraApi.ManagedByLabel}={AmphoraApi.ManagedBy},{AmphoraApi.WorkspaceLabel}=doomed";
        Assert.Equal(2, (await env.Client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: selector)).Items.Count);
        Assert.Single((await env.Client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: selector)).Items);

        await env.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(AmphoraApi.Group, AmphoraApi.Version, ns, V1Alpha1Workspace.Plural, "doomed");

        await Eventually.HoldsAsync(async () => await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "doomed") is null,
            () => "the Workspace to disappear once its finalizer ran");
        var (status, _) = await env.AmphoraGetAsync($"/workspaces/{id}");
        Assert.True(status is 404 || status == 200 && (string?)(await env.AmphoraGetAsync($"/workspaces/{id}")).Body!["workspace"]!["status"]!["statusCode"] == "DELETING",
            $"the Amphora workspace {id} should be gone or DELETING, describe answered {status}");
        using (var http = WorkspaceTests.Client(writer))
        {
            var q = await http.GetAsync(WorkspaceTests.Text(writer, "queryURL") + "?query=doomed_metric");
            Assert.NotEqual(HttpStatusCode.OK, q.StatusCode);
        }
        Assert.Empty((await env.Client.CoreV1.ListNamespacedSecretAsync(ns, labelSelector: selector)).Items);
        Assert.Empty((await env.Client.AppsV1.ListNamespacedDeploymentAsync(ns, labelSelector: selector)).Items);
        Assert.Empty((await env.Client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: selector)).Items);
        Assert.Empty((await env.Client.CoreV1.ListNamespacedServiceAccountAsync(ns, labelSelector: selector)).Items);
        Assert.Empty((await env.Client.RbacAuthorizationV1.ListNamespacedRoleAsync(ns, labelSelector: selector)).Items);
        Assert.Empty((await env.Client.RbacAuthorizationV1.ListNamespacedRoleBindingAsync(ns, labelSelector: selector)).Items);

        // The Scraper outlives its workspace and says so; deleting it then completes too.
        var orphan = await env.Client.WaitConditionAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "doomed-scraper", Conditions.Ready, "False");
        Assert.Equal("WorkspaceNotFound", Resources.ConditionOf(orphan, Conditions.Ready)!.Reason);
        await env.Client.CustomObjects.DeleteNamespacedCustomObjectAsync(AmphoraApi.Group, AmphoraApi.Version, ns, V1Alpha1Scraper.Plural, "doomed-scraper");
        await Eventually.HoldsAsync(async () => await env.Client.GetAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "doomed-scraper") is null,
            () => "the Scraper to disappear");
    }
}
