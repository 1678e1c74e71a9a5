using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.Chart.Tests;

/// <summary>
/// The chart's RBAC is what the operator needs, for real: the operator runs against the API server as the chart's
/// ServiceAccount (a token from the TokenRequest API) and completes a Workspace's reconcile; what it was not granted is denied.
/// </summary>
[Collection(ApiServerCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class OperatorRbacTests(ApiServerFixture api)
{
    [SkippableFact]
    public async Task The_operator_reconciles_a_workspace_as_the_charts_service_account_and_is_denied_what_it_was_not_granted()
    {
        api.RequireAssets();
        string release = await api.NewNamespaceAsync("rbac");
        var r = await ChartRenderer.RenderAsync(release: "amphora", ns: release);
        Assert.True(r.ExitCode == 0, r.Errors);
        // The chart's ClusterRole and bindings under a name of this test's own (cluster-scoped objects are shared).
        var rbac = r.Objects.Where(o => o.Kind is "ServiceAccount" or "ClusterRole" or "ClusterRoleBinding" or "Role" or "RoleBinding").ToList();
        Assert.Equal(5, rbac.Count);
        foreach (var o in rbac)
        {
            if (o.Kind is "ClusterRole" or "ClusterRoleBinding") Rename(o, $"{release}-operator");
            var created = await api.Admin.CreateAsync(o, release, dryRun: false);
            Assert.True(created.Ok, $"{o}: {created}");
        }

        // A token for the ServiceAccount, as the kubelet would mount it.
        var tokenAnswer = await api.Admin.SendAsync(HttpMethod.Post, $"/api/v1/namespaces/{release}/serviceaccounts/amphora-operator/token",
            new JsonObject { ["apiVersion"] = "authentication.k8s.io/v1", ["kind"] = "TokenRequest", ["spec"] = new JsonObject { ["expirationSeconds"] = 3600 } });
        Assert.True(tokenAnswer.Ok, tokenAnswer.ToString());
        string token = (string)JsonNode.Parse(tokenAnswer.Body)!["status"]!["token"]!;
        using var asOperator = new KubeRest(api.Kube.Url, api.Kube.CaCertificate, token);
        string kubeconfig = Path.Combine(Path.GetDirectoryName(api.Kube.KubeconfigPath)!, $"{release}.kubeconfig");
        await File.WriteAllTextAsync(kubeconfig, File.ReadAllText(api.Kube.KubeconfigPath).Replace(api.Kube.Token, token, StringComparison.Ordinal));

        // A real Amphora with the admin key the chart's Secret would hold, and the operator as that ServiceAccount.
        using var mounts = new PodMounts(r);
        string adminKey = Path.Combine(mounts.Root, "etc/amphora/admin-key/admin-key.json");
        using var amphora = AmphoraProcess.Start(null, null, "--auth=keys", $"--auth.admin-key-file={adminKey}");
        await amphora.WaitReadyAsync();
        string teams = await api.NewNamespaceAsync("team");
        using var op = AmphoraProcess.Start(null, null, "--target=operator", $"--operator.kubeconfig={kubeconfig}",
            $"--operator.amphora-url={amphora.BaseAddress}", $"--operator.admin-key-file={adminKey}",
            $"--operator.lease-namespace={release}", "--operator.identity=rbac-test", "--operator.backoff-base=250ms", "--operator.backoff-max=2s");
        await op.WaitReadyAsync();

        var workspace = new JsonObject
        {
            ["apiVersion"] = "amphora.dev/v1alpha1", ["kind"] = "Workspace",
            ["metadata"] = new JsonObject { ["name"] = "team-a", ["namespace"] = teams },
            ["spec"] = new JsonObject
            {
                ["retentionPeriodInDays"] = 7,
                ["accessKeys"] = new JsonArray(new JsonObject { ["name"] = "writer", ["actions"] = new JsonArray("aps:RemoteWrite") }),
            },
        };
        var made = await api.Admin.SendAsync(HttpMethod.Post, $"/apis/amphora.dev/v1alpha1/namespaces/{teams}/workspaces", workspace);
        Assert.True(made.Ok, made.ToString());
        JsonNode? status = null;
        await Eventually.HoldsAsync(async () =>
        {
            var got = await api.Admin.SendAsync(HttpMethod.Get, $"/apis/amphora.dev/v1alpha1/namespaces/{teams}/workspaces/team-a");
            status = JsonNode.Parse(got.Body)?["status"];
            return (string?)status?["statusCode"] == "ACTIVE";
        }, () => $"the workspace to be ACTIVE (status: {status?.ToJsonString()}; operator:\n{op.Output})", TimeSpan.FromSeconds(60));
        var secret = await asOperator.SendAsync(HttpMethod.Get, $"/api/v1/namespaces/{teams}/secrets/team-a-writer");
        Assert.True(secret.Ok, $"the operator wrote and may read its key Secret: {secret}");
        // A Scraper too: its collector's Role grants service discovery, which Kubernetes lets the operator grant only
        // because the chart's ClusterRole holds those rules itself.
        var scraper = new JsonObject
        {
            ["apiVersion"] = "amphora.dev/v1alpha1", ["kind"] = "Scraper",
            ["metadata"] = new JsonObject { ["name"] = "nodes", ["namespace"] = teams },
            ["spec"] = new JsonObject
            {
                ["workspaceRef"] = new JsonObject { ["name"] = "team-a" },
                ["scrapeConfig"] = "scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: [\"127.0.0.1:9100\"]\n",
            },
        };
        var scraperMade = await api.Admin.SendAsync(HttpMethod.Post, $"/apis/amphora.dev/v1alpha1/namespaces/{teams}/scrapers", scraper);
        Assert.True(scraperMade.Ok, scraperMade.ToString());
        JsonNode? scraperStatus = null;
        await Eventually.HoldsAsync(async () =>
        {
            var got = await api.Admin.SendAsync(HttpMethod.Get, $"/apis/amphora.dev/v1alpha1/namespaces/{teams}/scrapers/nodes");
            scraperStatus = JsonNode.Parse(got.Body)?["status"];
            return scraperStatus?["conditions"]?.AsArray().Any(c => (string?)c?["type"] == "Ready" && (string?)c?["status"] == "True") == true;
        }, () => $"the scraper to be Ready (status: {scraperStatus?.ToJsonString()}; operator:\n{op.Output})", TimeSpan.FromSeconds(60));
        var role = await api.Admin.SendAsync(HttpMethod.Get, $"/apis/rbac.authorization.k8s.io/v1/namespaces/{teams}/roles/nodes-collector");
        Assert.True(role.Ok, $"the collector's Role: {role}");
        Assert.Contains("endpointslices", role.Body);

        var lease = await asOperator.SendAsync(HttpMethod.Get, $"/apis/coordination.k8s.io/v1/namespaces/{release}/leases");
        Assert.Equal(HttpStatusCode.Forbidden, lease.Status); // get is granted on a Lease, listing them is not

        // Verbs it does not need are denied: deleting the resources it reconciles, creating namespaces, touching RBAC at
        // cluster scope, reading Leases outside its own namespace.
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.SendAsync(HttpMethod.Delete, $"/apis/amphora.dev/v1alpha1/namespaces/{teams}/workspaces/team-a")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.SendAsync(HttpMethod.Post, "/api/v1/namespaces",
            new JsonObject { ["apiVersion"] = "v1", ["kind"] = "Namespace", ["metadata"] = new JsonObject { ["name"] = "x-" + release } })).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.SendAsync(HttpMethod.Get, "/apis/rbac.authorization.k8s.io/v1/clusterroles")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await asOperator.SendAsync(HttpMethod.Get, $"/apis/coordination.k8s.io/v1/namespaces/{teams}/leases/amphora-operator")).Status);
    }

    private static void Rename(RenderedObject o, string name)
    {
        var meta = (YamlDotNet.RepresentationModel.YamlMappingNode)o.Node["metadata"];
        meta.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("name")] = new YamlDotNet.RepresentationModel.YamlScalarNode(name);
        if (o.Kind == "ClusterRoleBinding")
        {
            var roleRef = (YamlDotNet.RepresentationModel.YamlMappingNode)o.Node["roleRef"];
            roleRef.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("name")] = new YamlDotNet.RepresentationModel.YamlScalarNode(name);
        }
    }
}
