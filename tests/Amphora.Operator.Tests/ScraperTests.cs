using System.Diagnostics;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Api;
using Amphora.Operator.Tests.Harness;
using Amphora.Operator.Validation;
using k8s;
using Xunit;

namespace Amphora.Operator.Tests;

/// <summary>A Scraper becomes a collector whose configuration real Prometheus tools accept and whose data arrives.</summary>
[Collection(OperatorCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class ScraperTests(OperatorEnvironment env)
{
    [SkippableFact]
    public async Task A_scraper_config_passes_promtool_and_Prometheus_in_agent_mode_ships_node_exporter_data_the_reader_queries()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-scraper");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("metrics", new JsonObject
        {
            ["accessKeys"] = new JsonArray(new JsonObject { ["name"] = "reader", ["actions"] = new JsonArray("aps:QueryMetrics") }),
        }));
        int nodePort = FreePort.Next();
        using var node = new ChildProcess(RepoPaths.RequireProgram("prometheus-node-exporter", "prometheus-node-exporter"),
            [$"--web.listen-address=127.0.0.1:{nodePort}", "--collector.disable-defaults", "--collector.meminfo", "--collector.loadavg"]);
        await env.Client.CreateAsync(ns, V1Alpha1Scraper.Plural, Resources.Object("Scraper", "nodes", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "metrics" },
            ["scrapeConfig"] = $$"""
                global:
                  scrape_interval: 1s
                scrape_configs:
                  - job_name: node
                    static_configs:
                      - targets: ["127.0.0.1:{{nodePort}}"]
                """,
        }));
        var scraper = await env.Client.WaitConditionAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "nodes", Conditions.Ready);
        var ws = await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "metrics");

        var map = await env.Client.CoreV1.ReadNamespacedConfigMapAsync(scraper.Status!.ConfigMapName, ns);
        string config = map.Data["prometheus.yml"];
        Assert.Contains(ws!.Status!.RemoteWriteUrl!, config);
        var deployment = await env.Client.AppsV1.ReadNamespacedDeploymentAsync(scraper.Status.DeploymentName, ns);
        var pod = deployment.Spec.Template.Spec;
        Assert.Contains("--enable-feature=agent", pod.Containers[0].Args);
        Assert.Equal(scraper.Status.ServiceAccountName, pod.ServiceAccountName);
        Assert.Equal(scraper.Status.SecretName, pod.Volumes.Single(v => v.Name == "write-key").Secret.SecretName);
        Assert.Equal(map.Metadata.Name, pod.Volumes.Single(v => v.Name == "config").ConfigMap.Name);
        Assert.Single(deployment.Metadata.ManagedFields, f => f.Manager == "amphora-operator" && f.Operation == "Apply");
        var role = await env.Client.RbacAuthorizationV1.ReadNamespacedRoleAsync(scraper.Status.ServiceAccountName, ns);
        Assert.Contains(role.Rules, r => r.Resources.Contains("pods") && r.Verbs.Contains("watch"));
        var binding = await env.Client.RbacAuthorizationV1.ReadNamespacedRoleBindingAsync(scraper.Status.ServiceAccountName, ns);
        Assert.Equal(scraper.Status.ServiceAccountName, binding.Subjects.Single().Name);
        await env.Client.CoreV1.ReadNamespacedServiceAccountAsync(scraper.Status.ServiceAccountName, ns);

        // The Secret mounted where the Deployment mounts it: here a temp folder stands in for the volume.
        var secret = await env.Client.CoreV1.ReadNamespacedSecretAsync(scraper.Status.SecretName, ns);
        string dir = RepoPaths.NewTempDir("collector");
        Directory.CreateDirectory(Path.Combine(dir, "remote-write"));
        File.WriteAllText(Path.Combine(dir, "remote-write", "bearerToken"), WorkspaceTests.Text(secret, "bearerToken"));
        string file = Path.Combine(dir, "prometheus.yml");
        File.WriteAllText(file, config.Replace(ScrapeConfigBuilder.WriteKeyDir, Path.Combine(dir, "remote-write")));
        var (exit, output) = await RunAsync(RepoPaths.RequireProgram("promtool", "prometheus"), "check", "config", file);
        Assert.True(exit == 0, $"promtool check config failed:\n{output}\n{config}");

        using var agent = new ChildProcess(RepoPaths.RequireProgram("prometheus", "prometheus"),
            [$"--config.file={file}", "--enable-feature=agent", $"--storage.agent.path={Path.Combine(dir, "agent")}",
             $"--web.listen-address=127.0.0.1:{FreePort.Next()}", "--log.level=warn"], dir);
        var reader = await env.Client.CoreV1.ReadNamespacedSecretAsync("metrics-reader", ns);
        using var query = WorkspaceTests.Client(reader);
        string url = WorkspaceTests.Text(reader, "queryURL") + "?query=" + Uri.EscapeDataString("node_memory_MemTotal_bytes{job=\"node\"}");
        await Eventually.HoldsAsync(async () =>
        {
            var body = JsonNode.Parse(await query.GetStringAsync(url))!;
            return body["data"]!["result"]!.AsArray().Count == 1;
        }, () => $"node exporter data shipped by the agent to be queried back; agent output:\n{agent.Output}", TimeSpan.FromSeconds(60));
    }

    internal static async Task<(int Exit, string Output)> RunAsync(string program, params string[] args)
    {
        var psi = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }
}
