using Xunit;

namespace Amphora.Chart.Tests;

/// <summary>The chart renders for its default values and the example value files, and refuses values its schema forbids.</summary>
[Trait("SharedAssets", "chart-render")]
public sealed class ChartRenderingTests
{
    public static TheoryData<string> ValueFiles => new() { "", "s3-values.yaml", "small-values.yaml" };

    [SkippableTheory]
    [MemberData(nameof(ValueFiles))]
    public async Task The_chart_renders_every_component_for_a_values_file(string valuesFile)
    {
        var r = await ChartRenderer.RenderAsync(valuesFile.Length == 0 ? null : [valuesFile]);
        Assert.True(r.ExitCode == 0, r.Errors);
        var kinds = r.Objects.Select(o => o.ToString()).ToHashSet();
        foreach (var expected in new[]
                 {
                     "Deployment/amphora-distributor", "Service/amphora-distributor", "Deployment/amphora-querier", "Service/amphora-querier",
                     "StatefulSet/amphora-ingester", "Service/amphora-ingester-headless", "PodDisruptionBudget/amphora-ingester",
                     "StatefulSet/amphora-compactor", "StatefulSet/amphora-ruler", "Service/amphora-ruler", "Deployment/amphora-operator", "ServiceAccount/amphora-operator",
                     "ClusterRole/amphora-operator", "ClusterRoleBinding/amphora-operator", "Secret/amphora-master-key",
                     "Secret/amphora-admin-key", "Secret/amphora-cluster-secret",
                     "StatefulSet/amphora-alertmanager", "Service/amphora-alertmanager", "Service/amphora-alertmanager-headless",
                 })
            Assert.Contains(expected, kinds);
        Assert.Contains(r.Objects, o => o.Kind == "CustomResourceDefinition");
        // Every workload runs non-root on a read-only root filesystem, with probes on /ready.
        foreach (var w in r.Objects.Where(o => o.Kind is "Deployment" or "StatefulSet"))
        {
            Assert.Equal("true", w.Path("spec", "template", "spec", "securityContext", "runAsNonRoot")?.ToString());
            var container = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlSequenceNode)w.Path("spec", "template", "spec", "containers")!)[0];
            Assert.Equal("true", container["securityContext"]["readOnlyRootFilesystem"].ToString());
            Assert.Equal("/ready", container["readinessProbe"]["httpGet"]["path"].ToString());
        }
    }

    [SkippableFact]
    public async Task The_S3_values_pass_the_bucket_and_its_credentials_to_every_component()
    {
        var r = await ChartRenderer.RenderAsync(["s3-values.yaml"]);
        Assert.True(r.ExitCode == 0, r.Errors);
        var workloads = r.Objects.Where(o => o.Kind is "Deployment" or "StatefulSet").ToList();
        foreach (var w in workloads.Where(w => w.Name != "amphora-operator"))
        {
            var args = w.Containers().Single().Args;
            Assert.Contains("--blocks.storage=s3", args);
            Assert.Contains("--blocks.s3.bucket=amphora-blocks", args);
            Assert.Contains("--blocks.s3.endpoint=http://minio.storage.svc:9000", args);
            Assert.Contains("--blocks.s3.path-style", args);
            Assert.Contains("--blocks.s3.prefix=prod", args);
            Assert.Contains("AWS_SECRET_ACCESS_KEY", w.ToYaml());
        }
        // The operator never touches the bucket: neither its settings nor its credentials reach it.
        var op = workloads.Single(w => w.Name == "amphora-operator");
        Assert.DoesNotContain(op.Containers().Single().Args, a => a.StartsWith("--blocks.", StringComparison.Ordinal));
        Assert.DoesNotContain("AWS_SECRET_ACCESS_KEY", op.ToYaml());
        Assert.Contains(r.Objects, o => o.Kind == "ServiceMonitor");
        Assert.DoesNotContain(r.Objects, o => o.Kind == "PersistentVolumeClaim");
    }

    [SkippableFact]
    public async Task The_querier_gets_its_own_GC_setting_and_each_component_the_environment_its_values_give()
    {
        var r = await ChartRenderer.RenderAsync();
        Assert.True(r.ExitCode == 0, r.Errors);
        Workload(r, "amphora-querier", out var querier);
        Assert.Equal("0x3D0900", querier["DOTNET_GCLOHThreshold"]);
        // The other components keep the server's runtime configuration (the ingesters' compacting GC among it).
        foreach (var w in r.Objects.Where(o => o.Kind is "Deployment" or "StatefulSet" && o.Name != "amphora-querier"))
            Assert.DoesNotContain(w.Env().Keys, k => k.StartsWith("DOTNET_", StringComparison.Ordinal));

        string dir = Directory.CreateTempSubdirectory("amphora-chart-env-").FullName;
        try
        {
            string values = Path.Combine(dir, "env-values.yaml");
            await File.WriteAllTextAsync(values, "querier:\n  env:\n    DOTNET_GCLOHThreshold: \"0x200000\"\ningester:\n  env:\n    DOTNET_gcConcurrent: \"1\"\n");
            r = await ChartRenderer.RenderAsync([values]);
            Assert.True(r.ExitCode == 0, r.Errors);
            Workload(r, "amphora-querier", out querier);
            Assert.Equal("0x200000", querier["DOTNET_GCLOHThreshold"]);
            Workload(r, "amphora-ingester", out var ingester);
            Assert.Equal("1", ingester["DOTNET_gcConcurrent"]);
        }
        finally
        {
            Directory.Delete(dir, true);
        }
    }

    private static void Workload(ChartRenderer.Rendering r, string name, out Dictionary<string, string> env) =>
        env = r.Objects.Single(o => o.Kind is "Deployment" or "StatefulSet" && o.Name == name).Env();

    public static TheoryData<string, string> ForbiddenValues => new()
    {
        { "ingester.replicas=0", "ingester.replicas" },
        { "storage.type=nfs", "storage.type" },
        { "log.level=verbose", "log.level" },
        { "distributor.replicaCount=2", "replicaCount" },
        { "operator.remoteWriteBaseUrl=amphora-distributor:9009", "remoteWriteBaseUrl" },
        { "operator.watchNamespace=Team_A", "watchNamespace" },
        { "ingester.replicationFactor=4", "ingester.replicationFactor" },
        { "alertmanager.binary=prometheus-alertmanager", "alertmanager.binary" },
        { "alertmanager.replicas=2", "replicas" },
    };

    [SkippableTheory]
    [MemberData(nameof(ForbiddenValues))]
    public async Task A_value_the_schema_forbids_fails_rendering_and_names_it(string set, string named)
    {
        var r = await ChartRenderer.RenderAsync(sets: [set]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains(named, r.Errors);
        Assert.Equal("", r.Yaml.Trim());
    }

    [SkippableFact]
    public async Task S3_storage_without_a_bucket_is_refused()
    {
        var r = await ChartRenderer.RenderAsync(sets: ["storage.type=s3"]);
        Assert.NotEqual(0, r.ExitCode);
        Assert.Contains("bucket", r.Errors);
    }

    [SkippableFact]
    public async Task The_alertmanager_is_one_replica_with_a_volume_and_every_control_plane_gets_the_binary()
    {
        var r = await ChartRenderer.RenderAsync();
        Assert.True(r.ExitCode == 0, r.Errors);
        var sts = r.Objects.Single(o => o is { Kind: "StatefulSet", Name: "amphora-alertmanager" });
        Assert.Equal(1, sts.Replicas);
        var claim = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlSequenceNode)sts.Path("spec", "volumeClaimTemplates")!)[0];
        Assert.Equal("data", claim["metadata"]["name"].ToString());
        Assert.Equal("5Gi", claim["spec"]["resources"]["requests"]["storage"].ToString());
        var args = sts.Containers().Single().Args;
        Assert.Contains("--target=alertmanager", args);
        Assert.Contains("--auth.admin-key-file=/etc/amphora/admin-key/admin-key.json", args); // the ruler posts alerts with it
        var service = r.Objects.Single(o => o is { Kind: "Service", Name: "amphora-alertmanager" });
        var port = (YamlDotNet.RepresentationModel.YamlMappingNode)((YamlDotNet.RepresentationModel.YamlSequenceNode)service.Path("spec", "ports")!)[0];
        Assert.Equal("9009", port["port"].ToString());
        foreach (var name in new[] { "amphora-distributor", "amphora-querier", "amphora-compactor", "amphora-alertmanager" })
        {
            var workload = r.Objects.Single(o => o.Kind is "Deployment" or "StatefulSet" && o.Name == name);
            Assert.Contains("--alertmanager.binary=/usr/bin/prometheus-alertmanager", workload.Containers().Single().Args);
        }

        var off = await ChartRenderer.RenderAsync(sets: ["alertmanager.enabled=false"]);
        Assert.True(off.ExitCode == 0, off.Errors);
        Assert.DoesNotContain(off.Objects, o => o.Name.StartsWith("amphora-alertmanager", StringComparison.Ordinal));
        Assert.DoesNotContain("--alertmanager.binary", off.Yaml);
    }
}
