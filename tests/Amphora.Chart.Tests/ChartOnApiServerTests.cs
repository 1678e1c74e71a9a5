using Xunit;

namespace Amphora.Chart.Tests;

/// <summary>Every object the chart renders is accepted by a real kube-apiserver: server-side dry-run, then a real create.</summary>
[Collection(ApiServerCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class ChartOnApiServerTests(ApiServerFixture api)
{
    [SkippableTheory]
    [InlineData("")]
    [InlineData("s3-values.yaml")]
    [InlineData("small-values.yaml")]
    public async Task Every_rendered_object_passes_a_dry_run_and_is_created_in_a_fresh_namespace(string valuesFile)
    {
        api.RequireAssets();
        string ns = await api.NewNamespaceAsync("chart");
        // Cluster-scoped objects (the operator's ClusterRole) carry the release name: one release per rendering.
        string release = $"r{ns[6..]}";
        var r = await ChartRenderer.RenderAsync(valuesFile.Length == 0 ? null : [valuesFile], release: release, ns: ns);
        Assert.True(r.ExitCode == 0, r.Errors);
        // The CRDs were created by the fixture (Helm installs crds/ before the templates). A ServiceMonitor needs the
        // Prometheus Operator's CRD, which this API server does not have, exactly as Helm would fail without it.
        var objects = r.Objects.Where(o => o.Kind is not ("CustomResourceDefinition" or "ServiceMonitor")).ToList();
        Assert.True(objects.Count >= 18, $"only {objects.Count} objects rendered");
        foreach (var o in objects)
        {
            var dry = await api.Admin.CreateAsync(o, ns, dryRun: true);
            Assert.True(dry.Ok, $"dry-run of {o} refused: {dry}");
        }
        foreach (var o in objects)
        {
            var created = await api.Admin.CreateAsync(o, ns, dryRun: false);
            Assert.True(created.Ok, $"create of {o} refused: {created}");
        }
        // What was stored is what was rendered: the ingester StatefulSet's replicas and its volume claim template.
        var sts = await api.Admin.SendAsync(HttpMethod.Get, $"/apis/apps/v1/namespaces/{ns}/statefulsets/{release}-amphora-ingester");
        Assert.True(sts.Ok, sts.ToString());
        var stored = System.Text.Json.Nodes.JsonNode.Parse(sts.Body)!;
        Assert.Equal(objects.Single(o => o.Kind == "StatefulSet" && o.Name.EndsWith("-ingester", StringComparison.Ordinal)).Replicas,
            (int)stored["spec"]!["replicas"]!);
        Assert.Equal("data", (string?)stored["spec"]!["volumeClaimTemplates"]![0]!["metadata"]!["name"]);
    }

    [SkippableFact]
    public async Task An_object_the_API_server_would_refuse_is_caught_by_the_dry_run()
    {
        // The dry run is a real check: a StatefulSet with a bad field is refused before anything is created.
        api.RequireAssets();
        string ns = await api.NewNamespaceAsync("chart");
        var r = await ChartRenderer.RenderAsync(release: $"r{ns[6..]}", ns: ns);
        var sts = r.Objects.Single(o => o.Kind == "StatefulSet" && o.Name.EndsWith("-ingester", StringComparison.Ordinal));
        ((YamlDotNet.RepresentationModel.YamlMappingNode)sts.Node["spec"]).Children[new YamlDotNet.RepresentationModel.YamlScalarNode("podManagementPolicy")] =
            new YamlDotNet.RepresentationModel.YamlScalarNode("Sometimes");
        var dry = await api.Admin.CreateAsync(sts, ns, dryRun: true);
        Assert.False(dry.Ok);
        Assert.Contains("podManagementPolicy", dry.Body);
    }
}
