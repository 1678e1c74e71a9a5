using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.Chart.Tests;

/// <summary>
/// What the rendered workloads would run is what amphora accepts: every container's arguments pass
/// <c>amphora --check-config</c>, and the ring the components are given is exactly the ingester StatefulSet's pods.
/// </summary>
[Trait("SharedAssets", "chart-render")]
public sealed class RenderedArgsTests
{
    public static TheoryData<string> ValueFiles => new() { "", "s3-values.yaml", "small-values.yaml" };

    [SkippableTheory]
    [MemberData(nameof(ValueFiles))]
    public async Task Every_containers_arguments_are_accepted_by_amphora_check_config(string valuesFile)
    {
        var r = await ChartRenderer.RenderAsync(valuesFile.Length == 0 ? null : [valuesFile]);
        Assert.True(r.ExitCode == 0, r.Errors);
        // The key files are the chart's own generated Secrets, so check-config also reads their formats.
        using var mounts = new PodMounts(r);
        int checkedContainers = 0;
        foreach (var w in r.Objects.Where(o => o.Kind is "Deployment" or "StatefulSet"))
        {
            foreach (var (name, rendered) in w.Containers())
            {
                var args = mounts.Map(rendered, podName: $"{w.Name}-0");
                var (code, stdout, stderr) = await ChartRenderer.RunAsync("dotnet", [RepoPaths.AmphoraDll, .. args, "--check-config"]);
                Assert.True(code == 0, $"{w}/{name}: amphora --check-config refused {string.Join(' ', args)}:\n{stdout}{stderr}");
                Assert.Contains("configuration is valid", stdout);
                checkedContainers++;
            }
        }
        Assert.Equal(7, checkedContainers); // distributor, querier, ingester, compactor, ruler, alertmanager, operator
    }

    [SkippableFact]
    public async Task A_changed_argument_that_amphora_does_not_know_is_refused_by_check_config()
    {
        // The check above is only worth something if check-config refuses what amphora would refuse at start.
        using var mounts = new PodMounts();
        string values = Path.Combine(mounts.Root, "extra-values.yaml");
        await File.WriteAllTextAsync(values, "querier:\n  extraArgs: [--querier.no-such-option=1]\n");
        var r = await ChartRenderer.RenderAsync([values]);
        Assert.True(r.ExitCode == 0, r.Errors);
        var querier = r.Objects.Single(o => o is { Kind: "Deployment", Name: "amphora-querier" });
        var args = mounts.Map(querier.Containers().Single().Args, "amphora-querier-0");
        var (code, stdout, stderr) = await ChartRenderer.RunAsync("dotnet", [RepoPaths.AmphoraDll, .. args, "--check-config"]);
        Assert.Equal(2, code);
        Assert.Contains("querier.no-such-option", stdout + stderr);
    }

    [SkippableTheory]
    [InlineData("", 3)]
    [InlineData("s3-values.yaml", 6)]
    [InlineData("small-values.yaml", 1)]
    public async Task The_ring_members_are_exactly_the_ingester_pods(string valuesFile, int ingesters)
    {
        var r = await ChartRenderer.RenderAsync(valuesFile.Length == 0 ? null : [valuesFile]);
        Assert.True(r.ExitCode == 0, r.Errors);
        var sts = r.Objects.Single(o => o is { Kind: "StatefulSet", Name: "amphora-ingester" });
        Assert.Equal(ingesters, sts.Replicas);
        string headless = sts.Path("spec", "serviceName")!.ToString();
        Assert.Contains(r.Objects, o => o.Kind == "Service" && o.Name == headless && o.Path("spec", "clusterIP")?.ToString() == "None");
        var pods = Enumerable.Range(0, ingesters).Select(i => $"{sts.Name}-{i}").ToList();
        var expected = pods.Select(p => $"{p}={p}.{headless}.obs.svc.cluster.local:9095").ToList();

        foreach (var w in r.Objects.Where(o => o.Kind is "Deployment" or "StatefulSet"))
        {
            var args = w.Containers().Single().Args;
            var ring = args.SingleOrDefault(a => a.StartsWith("--ring.members=", StringComparison.Ordinal));
            if (w.Name is "amphora-distributor" or "amphora-querier" or "amphora-ingester" or "amphora-ruler")
            {
                Assert.NotNull(ring);
                Assert.Equal(expected, ring["--ring.members=".Length..].Split(',').ToList());
            }
        }
        // Each ingester names itself by its pod name, which is one of the members.
        Assert.Contains("--ingester.name=$(POD_NAME)", sts.Containers().Single().Args);

        var compactor = r.Objects.Single(o => o is { Kind: "StatefulSet", Name: "amphora-compactor" });
        var members = compactor.Containers().Single().Args.Single(a => a.StartsWith("--compactor.members=", StringComparison.Ordinal));
        Assert.Equal(Enumerable.Range(0, compactor.Replicas).Select(i => $"amphora-compactor-{i}"), members["--compactor.members=".Length..].Split(','));
    }

    [SkippableFact]
    public async Task The_rulers_name_themselves_by_their_stable_pod_address_and_list_every_replica()
    {
        var r = await ChartRenderer.RenderAsync(null, ["ruler.replicas=3", "ruler.alertmanagerUrl=http://amphora-alertmanager.obs:9009"]);
        Assert.True(r.ExitCode == 0, r.Errors);
        var sts = r.Objects.Single(o => o is { Kind: "StatefulSet", Name: "amphora-ruler" });
        Assert.Equal(3, sts.Replicas);
        Assert.Equal("amphora-ruler-headless", sts.Path("spec", "serviceName")!.ToString());
        var args = sts.Containers().Single().Args;
        const string domain = "amphora-ruler-headless.obs.svc.cluster.local:9009";
        Assert.Contains($"--ruler.name=$(POD_NAME).{domain}", args);
        Assert.Contains("--ruler.members=" + string.Join(",", Enumerable.Range(0, 3).Select(i => $"amphora-ruler-{i}.{domain}")), args);
        Assert.Contains("--ruler.alertmanager-url=http://amphora-alertmanager.obs:9009", args);
        Assert.Contains("--auth.admin-key-file=/etc/amphora/admin-key/admin-key.json", args);
        Assert.Contains(r.Objects, o => o is { Kind: "Service", Name: "amphora-ruler" });
        // Without a URL the rulers post to the chart's own alertmanager component; with it disabled, nowhere.
        var own = await ChartRenderer.RenderAsync(null, []);
        Assert.Contains("--ruler.alertmanager-url=http://amphora-alertmanager:9009",
            own.Objects.Single(o => o is { Kind: "StatefulSet", Name: "amphora-ruler" }).Containers().Single().Args);
        var none = await ChartRenderer.RenderAsync(null, ["alertmanager.enabled=false"]);
        Assert.DoesNotContain(none.Objects.Single(o => o is { Kind: "StatefulSet", Name: "amphora-ruler" }).Containers().Single().Args,
            a => a.StartsWith("--ruler.alertmanager-url", StringComparison.Ordinal));
        var disabled = await ChartRenderer.RenderAsync(null, ["ruler.enabled=false"]);
        Assert.DoesNotContain(disabled.Objects, o => o.Name.StartsWith("amphora-ruler", StringComparison.Ordinal));
    }

    [SkippableFact]
    public async Task The_operator_calls_the_querier_and_gives_clients_the_distributor_for_writes_and_the_querier_for_queries()
    {
        var r = await ChartRenderer.RenderAsync();
        Assert.True(r.ExitCode == 0, r.Errors);
        var args = r.Objects.Single(o => o is { Kind: "Deployment", Name: "amphora-operator" }).Containers().Single().Args;
        Assert.Contains("--operator.amphora-url=http://amphora-querier.obs.svc.cluster.local:9009", args);
        Assert.Contains("--operator.public-url=http://amphora-querier.obs.svc.cluster.local:9009", args);
        Assert.Contains("--operator.remote-write-url=http://amphora-distributor.obs.svc.cluster.local:9009", args);
        Assert.Contains("--operator.lease-namespace=obs", args);
        Assert.Contains("--operator.admin-key-file=/etc/amphora/admin-key/admin-key.json", args);
        // Both Services exist under the names the URLs use.
        Assert.Contains(r.Objects, o => o is { Kind: "Service", Name: "amphora-querier" });
        Assert.Contains(r.Objects, o => o is { Kind: "Service", Name: "amphora-distributor" });

        var custom = await ChartRenderer.RenderAsync(sets:
        [
            "operator.remoteWriteBaseUrl=https://write.example.com", "operator.queryBaseUrl=https://query.example.com",
            "operator.watchNamespace=team-a",
        ]);
        Assert.True(custom.ExitCode == 0, custom.Errors);
        var customArgs = custom.Objects.Single(o => o is { Kind: "Deployment", Name: "amphora-operator" }).Containers().Single().Args;
        Assert.Contains("--operator.remote-write-url=https://write.example.com", customArgs);
        Assert.Contains("--operator.public-url=https://query.example.com", customArgs);
        Assert.Contains("--operator.namespace=team-a", customArgs);
    }
}
