using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Api;
using Amphora.Operator.Tests.Harness;
using k8s;
using Xunit;

namespace Amphora.Operator.Tests;

/// <summary>Crashes, broken watches and a second replica never produce a second workspace or a second actor.</summary>
[Collection(OperatorCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class ResilienceTests(OperatorEnvironment env)
{
    [SkippableFact]
    public async Task SIGKILL_mid_reconcile_and_an_API_server_restart_converge_to_exactly_one_workspace_per_resource()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        var names = Enumerable.Range(0, 8).Select(i => $"ws-{i}").ToList();
        var op = await env.StartOperatorAsync(ns, "op-crash");
        try
        {
            foreach (var n in names)
                await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace(n, new JsonObject
                {
                    ["accessKeys"] = new JsonArray(new JsonObject { ["name"] = "writer", ["actions"] = new JsonArray("aps:RemoteWrite") }),
                }));
            // Killed while it works through them: after the first workspace was created, before all are reconciled.
            await Eventually.HoldsAsync(async () => (await env.Client.CoreV1.ListNamespacedEventAsync(ns)).Items.Any(e => e.Reason == "WorkspaceCreated"),
                () => "the first workspace to be created");
            op.Kill();
            var readyAtKill = await ReadyCountAsync(ns, names);
            Assert.True(readyAtKill < names.Count, "the operator should have been killed mid-way, but every workspace was already reconciled");

            op.Dispose();
            op = await env.StartOperatorAsync(ns, "op-crash");
            await AllReadyAsync(ns, names, op);

            // The API server restarts: every watch breaks; what changes meanwhile and after is still reconciled.
            await env.Kube.RestartApiServerAsync();
            names.Add("ws-after-restart");
            await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("ws-after-restart", new JsonObject()));
            await env.Client.MergePatchAsync(ns, V1Alpha1Workspace.Plural, "ws-0", new JsonObject { ["spec"] = new JsonObject { ["retentionPeriodInDays"] = 7 } });
            await AllReadyAsync(ns, names, op);
            var ws0 = await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "ws-0");
            var (_, config) = await env.AmphoraGetAsync($"/workspaces/{ws0!.Status!.WorkspaceId}/configuration");
            Assert.Equal(7, (int)config!["workspaceConfiguration"]!["retentionPeriodInDays"]!);

            // Exactly one Amphora workspace per resource: the aliases the operator set, counted in Amphora.
            var (_, list) = await env.AmphoraGetAsync($"/workspaces?alias={Uri.EscapeDataString(ns + "/")}&maxResults=100");
            var aliases = list!["workspaces"]!.AsArray().Select(w => (string)w!["alias"]!).ToList();
            Assert.Equal(names.Select(n => $"{ns}/{n}").Order(), aliases.Order());
            var (_, everything) = await env.AmphoraGetAsync("/workspaces?maxResults=1000");
            foreach (var n in names)
            {
                var w = await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, n);
                Assert.Single(everything!["workspaces"]!.AsArray(), x => (string)x!["workspaceId"]! == w!.Status!.WorkspaceId);
            }
            // Keys: one live key per Secret, no orphan created by the crash left behind.
            foreach (var n in names.Where(n => n.StartsWith("ws-", StringComparison.Ordinal) && n != "ws-after-restart"))
            {
                var w = await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, n);
                var (_, keys) = await env.AmphoraGetAsync($"/workspaces/{w!.Status!.WorkspaceId}/keys");
                Assert.Single(keys!["accessKeys"]!.AsArray());
            }
            Assert.False(op.HasExited, op.Output);
        }
        finally
        {
            op.Dispose();
        }
    }

    [SkippableFact]
    public async Task With_two_replicas_only_the_Lease_holder_acts_and_the_other_takes_over_when_it_dies()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        var first = await env.StartOperatorAsync(ns, "replica-1");
        await Eventually.HoldsAsync(async () => await HolderAsync(ns) == "replica-1", () => "replica-1 to hold the Lease");
        using var second = await env.StartOperatorAsync(ns, "replica-2");
        try
        {
            await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("led", new JsonObject()));
            await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "led", Conditions.Ready);
            var events = (await env.Client.CoreV1.ListNamespacedEventAsync(ns)).Items;
            Assert.NotEmpty(events);
            Assert.All(events, e => Assert.Equal("replica-1", e.ReportingInstance));
            Assert.Equal("replica-1", await HolderAsync(ns));

            first.Kill();
            await Eventually.HoldsAsync(async () => await HolderAsync(ns) == "replica-2", () => "replica-2 to take the Lease over", TimeSpan.FromSeconds(30));
            await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("led-later", new JsonObject()));
            await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "led-later", Conditions.Ready);
            var later = (await env.Client.EventsAsync(ns, "led-later"));
            Assert.NotEmpty(later);
            Assert.All(later, e => Assert.Equal("replica-2", e.ReportingInstance));
        }
        finally
        {
            first.Dispose();
        }
    }

    [SkippableFact]
    public async Task An_API_server_outage_longer_than_the_renew_deadline_costs_the_Lease_and_the_replica_takes_it_back()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-outage");
        await Eventually.HoldsAsync(async () => await HolderAsync(ns) == "op-outage", () => "op-outage to hold the Lease");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("before-outage", new JsonObject()));
        await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "before-outage", Conditions.Ready);

        // Down for twice the 4 s Lease: renewing fails, the replica stops leading, and its first attempts to campaign
        // again find the port closed (connection refused, not an API answer).
        await env.Kube.RestartApiServerAsync(downFor: TimeSpan.FromSeconds(8));
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("after-outage", new JsonObject()));
        await AllReadyAsync(ns, ["before-outage", "after-outage"], op);
        Assert.Equal("op-outage", await HolderAsync(ns));
        Assert.False(op.HasExited, op.Output);
    }

    private async Task<string?> HolderAsync(string ns)
    {
        try
        {
            return (await env.Client.CoordinationV1.ReadNamespacedLeaseAsync("amphora-operator", ns)).Spec.HolderIdentity;
        }
        catch (k8s.Autorest.HttpOperationException)
        {
            return null;
        }
    }

    private async Task<int> ReadyCountAsync(string ns, IEnumerable<string> names)
    {
        int n = 0;
        foreach (var name in names)
            if (Conditions.IsTrue((await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, name))?.Status, Conditions.Ready)) n++;
        return n;
    }

    private async Task AllReadyAsync(string ns, IReadOnlyList<string> names, AmphoraProcess op) =>
        await Eventually.HoldsAsync(async () =>
        {
            foreach (var name in names)
            {
                var w = await env.Client.GetAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, name);
                if (w?.Status?.ObservedGeneration != w?.Metadata.Generation || !Conditions.IsTrue(w?.Status, Conditions.Ready)) return false;
            }
            return true;
        }, () => $"all of {string.Join(", ", names)} to be Ready; the operator's log ends:\n{Tail(op.Output, 60)}", TimeSpan.FromSeconds(90));

    private static string Tail(string output, int lines) => string.Join('\n', output.Split('\n').TakeLast(lines));
}
