using Xunit;

namespace Amphora.Chart.Tests;

/// <summary>The chart renders for its default values and the example value files, and refuses values its schema forbids.</summary>
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
                     "StatefulSet/amphora-compactor", "Deployment/amphora-operator", "ServiceAccount/amphora-operator",
                     "ClusterRole/amphora-operator", "ClusterRoleBinding/amphora-operator", "Secret/amphora-master-key",
                     "Secret/amphora-admin-key", "Secret/amphora-cluster-secret",
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
        foreach (var w in r.Objects.Where(o => o.Kind is "Deployment" or "StatefulSet"))
        {
            var args = w.Containers().Single().Args;
            Assert.Contains("--blocks.storage=s3", args);
            Assert.Contains("--blocks.s3.bucket=amphora-blocks", args);
            Assert.Contains("--blocks.s3.endpoint=http://minio.storage.svc:9000", args);
            Assert.Contains("--blocks.s3.path-style", args);
            Assert.Contains("AWS_SECRET_ACCESS_KEY", w.ToYaml());
        }
        Assert.Contains(r.Objects, o => o.Kind == "ServiceMonitor");
        Assert.DoesNotContain(r.Objects, o => o.Kind == "PersistentVolumeClaim");
    }

    public static TheoryData<string, string> ForbiddenValues => new()
    {
        { "ingester.replicas=0", "ingester.replicas" },
        { "storage.type=nfs", "storage.type" },
        { "log.level=verbose", "log.level" },
        { "distributor.replicaCount=2", "replicaCount" },
        { "tenancy.syncInterval=often", "tenancy.syncInterval" },
        { "ingester.replicationFactor=4", "ingester.replicationFactor" },
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

    [Fact]
    public void The_charts_CRDs_are_the_crds_folder_byte_for_byte()
    {
        string source = Path.Combine(Amphora.EndToEnd.Tests.Harness.RepoPaths.Root, "crds");
        string copy = Path.Combine(ChartRenderer.ChartDir, "crds");
        var sourceFiles = Directory.GetFiles(source, "*.yaml").Select(Path.GetFileName).Order().ToList();
        var copyFiles = Directory.GetFiles(copy, "*.yaml").Select(Path.GetFileName).Order().ToList();
        Assert.NotEmpty(sourceFiles);
        Assert.True(sourceFiles.SequenceEqual(copyFiles), "charts/amphora/crds differs from crds/: run charts/sync-crds.sh");
        foreach (var f in sourceFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(source, f!)).SequenceEqual(File.ReadAllBytes(Path.Combine(copy, f!))),
                $"charts/amphora/crds/{f} differs from crds/{f}: run charts/sync-crds.sh");
    }
}
