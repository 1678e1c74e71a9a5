using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Operator.Api;
using Amphora.Operator.Tests.Harness;
using k8s;
using Xunit;

namespace Amphora.Operator.Tests;

/// <summary>Every invalid example is refused at admission by the CRD schema, or reported in a condition naming the field or line.</summary>
[Collection(OperatorCollection.Name)]
[Trait("SharedAssets", "kubernetes")]
public sealed class InvalidResourceTests(OperatorEnvironment env)
{
    private static JsonObject Key(string name, params string[] actions) =>
        new() { ["name"] = name, ["actions"] = new JsonArray(actions.Select(a => (JsonNode)a).ToArray()) };

    [SkippableFact]
    public async Task The_schema_refuses_what_it_can_at_admission_naming_the_field()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        var cases = new (string Plural, JsonObject Body, string Expected)[]
        {
            (V1Alpha1Workspace.Plural, Resources.Workspace("r0", new JsonObject { ["retentionPeriodInDays"] = 0 }), "spec.retentionPeriodInDays"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("r1", new JsonObject { ["retentionPeriodInDays"] = 1096 }), "spec.retentionPeriodInDays"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("a1", new JsonObject { ["accessKeys"] = new JsonArray(Key("w", "aps:Bogus")) }), "spec.accessKeys[0].actions[0]"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("a2", new JsonObject { ["accessKeys"] = new JsonArray(Key("w")) }), "spec.accessKeys[0].actions"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("a3", new JsonObject { ["accessKeys"] = new JsonArray(Key("Bad_Name", "aps:RemoteWrite")) }), "spec.accessKeys[0].name"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("a4", new JsonObject { ["accessKeys"] = new JsonArray(Key("w", "aps:RemoteWrite"), Key("w", "aps:QueryMetrics")) }), "spec.accessKeys[1]"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("t1", new JsonObject { ["tags"] = new JsonObject { ["aws:owner"] = "x" } }), "spec.tags"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("l1", new JsonObject
            {
                ["limits"] = new JsonObject { ["limitsPerLabelSet"] = new JsonArray(new JsonObject { ["labelSet"] = new JsonObject { ["__x"] = "1" }, ["maxSeries"] = 1 }) },
            }), "spec.limits.limitsPerLabelSet[0].labelSet"),
            (V1Alpha1Workspace.Plural, Resources.Workspace("l2", new JsonObject
            {
                ["limits"] = new JsonObject { ["limitsPerLabelSet"] = new JsonArray(new JsonObject { ["maxSeries"] = -1 }) },
            }), "spec.limits.limitsPerLabelSet[0].maxSeries"),
            (V1Alpha1Scraper.Plural, Resources.Object("Scraper", "s1", new JsonObject { ["scrapeConfig"] = "scrape_configs: []" }), "spec.workspaceRef"),
            (V1Alpha1Scraper.Plural, Resources.Object("Scraper", "s2", new JsonObject
            {
                ["workspaceRef"] = new JsonObject { ["name"] = "w" }, ["scrapeConfig"] = "x: 1", ["scrapeInterval"] = "soon",
            }), "spec.scrapeInterval"),
            (V1Alpha1RuleGroupsNamespace.Plural, Resources.Object("RuleGroupsNamespace", "g1", new JsonObject { ["workspaceRef"] = new JsonObject { ["name"] = "w" } }), "spec.data"),
            (V1Alpha1AlertManagerDefinition.Plural, Resources.Object("AlertManagerDefinition", "m1", new JsonObject
            {
                ["workspaceRef"] = new JsonObject { ["name"] = "Not A Name" }, ["data"] = "route: {}",
            }), "spec.workspaceRef.name"),
        };
        foreach (var (plural, body, expected) in cases)
        {
            string? refusal = await env.Client.CreateRefusedAsync(ns, plural, body);
            Assert.True(refusal is not null, $"{plural} {body["metadata"]!["name"]} should be refused at admission");
            Assert.Contains(expected, refusal);
        }
    }

    [SkippableFact]
    public async Task What_the_schema_cannot_check_is_a_condition_naming_the_field_or_line_with_backoff_in_events_and_no_crash()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-invalid");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("ws", new JsonObject()));
        await env.Client.WaitConditionAsync<V1Alpha1Workspace>(ns, V1Alpha1Workspace.Plural, "ws", Conditions.Ready);

        // A reference to a missing workspace: retried with growing delays that the events show.
        await env.Client.CreateAsync(ns, V1Alpha1Scraper.Plural, Resources.Object("Scraper", "lost", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "nowhere" },
            ["scrapeConfig"] = "scrape_configs:\n  - job_name: x\n    static_configs: [{targets: ['127.0.0.1:1']}]\n",
        }));
        var lost = await env.Client.WaitConditionAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "lost", Conditions.Ready, "False");
        Assert.Equal("WorkspaceNotFound", Resources.ConditionOf(lost, Conditions.Ready)!.Reason);
        Assert.Contains("spec.workspaceRef.name", Resources.ConditionOf(lost, Conditions.Ready)!.Message);
        await Eventually.HoldsAsync(async () => (await env.Client.EventsAsync(ns, "lost")).Count(e => e.Reason == "BackOff") >= 3,
            () => "three BackOff events for the Scraper with the missing workspace");
        // Event timestamps have whole seconds, so compare the delays themselves: 0.25 s doubling per failure.
        var delays = (await env.Client.EventsAsync(ns, "lost")).Where(e => e.Reason == "BackOff")
            .Select(e => double.Parse(e.Message[(e.Message.LastIndexOf("retrying in ", StringComparison.Ordinal) + 12)..].TrimEnd('s'),
                System.Globalization.CultureInfo.InvariantCulture)).Order().ToList();
        Assert.Equal([0.25, 0.5, 1], delays.Take(3));

        // Broken YAML and a remote_write the operator owns: conditions naming the line.
        await env.Client.CreateAsync(ns, V1Alpha1Scraper.Plural, Resources.Object("Scraper", "broken", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "ws" },
            ["scrapeConfig"] = "scrape_configs:\n  - job_name: x\n    static_configs: [{targets: ['a'}]\n",
        }));
        await env.Client.CreateAsync(ns, V1Alpha1Scraper.Plural, Resources.Object("Scraper", "owned", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "ws" },
            ["scrapeConfig"] = "scrape_configs:\n  - job_name: x\nremote_write:\n  - url: http://elsewhere/\n",
        }));
        var broken = await env.Client.WaitConditionAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "broken", Conditions.Valid, "False");
        Assert.Contains("spec.scrapeConfig: line 3:", Resources.ConditionOf(broken, Conditions.Valid)!.Message);
        var owned = await env.Client.WaitConditionAsync<V1Alpha1Scraper>(ns, V1Alpha1Scraper.Plural, "owned", Conditions.Valid, "False");
        Assert.Contains("line 3: remote_write is set by the operator", Resources.ConditionOf(owned, Conditions.Valid)!.Message);

        // A rule file with a PromQL error on line 7 and an Alertmanager configuration amtool refuses.
        await env.Client.CreateAsync(ns, V1Alpha1RuleGroupsNamespace.Plural, Resources.Object("RuleGroupsNamespace", "bad-rules", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "ws" },
            ["data"] = "groups:\n  - name: g\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Broken\n        expr: rate(up[5m]\n",
        }));
        var rules = await env.Client.WaitConditionAsync<V1Alpha1RuleGroupsNamespace>(ns, V1Alpha1RuleGroupsNamespace.Plural, "bad-rules", Conditions.Valid, "False");
        string message = Resources.ConditionOf(rules, Conditions.Valid)!.Message;
        Assert.Contains("spec.data: line 7: group \"g\", rule 2 (alert \"Broken\"): could not parse expression:", message);
        await env.Client.CreateAsync(ns, V1Alpha1AlertManagerDefinition.Plural, Resources.Object("AlertManagerDefinition", "bad-am", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "ws" },
            ["data"] = "route:\n  receiver: missing\nreceivers:\n  - name: other\n",
        }));
        var am = await env.Client.WaitConditionAsync<V1Alpha1AlertManagerDefinition>(ns, V1Alpha1AlertManagerDefinition.Plural, "bad-am", Conditions.Valid, "False");
        Assert.Contains("missing", Resources.ConditionOf(am, Conditions.Valid)!.Message);

        Assert.False(op.HasExited, "the operator must not crash on invalid resources:\n" + op.Output);
    }

    [SkippableFact]
    public async Task A_valid_rule_file_is_accepted_and_its_storage_state_is_reported_honestly()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-rules");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("ws", new JsonObject()));
        await env.Client.CreateAsync(ns, V1Alpha1RuleGroupsNamespace.Plural, Resources.Object("RuleGroupsNamespace", "rules", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "ws" },
            ["data"] = "groups:\n  - name: g\n    interval: 30s\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels: {severity: page}\n        annotations: {summary: '{{ $labels.job }} is down'}\n",
        }));
        var rules = await env.Client.WaitConditionAsync<V1Alpha1RuleGroupsNamespace>(ns, V1Alpha1RuleGroupsNamespace.Plural, "rules", Conditions.Valid);
        await env.Client.WaitConditionAsync<V1Alpha1RuleGroupsNamespace>(ns, V1Alpha1RuleGroupsNamespace.Plural, "rules", Conditions.WorkspaceReady);
        // Amphora's control plane serves rule groups namespaces: the file is stored in the workspace, as given.
        var stored = await WaitStoredDecidedAsync(ns, "rules");
        Assert.True(stored.Status == "True", $"Stored is {stored.Status}: {stored.Reason}: {stored.Message}");
        string? workspaceId = rules.Status!.WorkspaceId ?? (await env.Client.GetAsync<V1Alpha1RuleGroupsNamespace>(ns, V1Alpha1RuleGroupsNamespace.Plural, "rules"))!.Status!.WorkspaceId;
        Assert.NotNull(workspaceId);
        var (status, body) = await env.AmphoraGetAsync($"/workspaces/{workspaceId}/rulegroupsnamespaces/rules");
        Assert.Equal(200, status);
        string data = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(body!["ruleGroupsNamespace"]!["data"]!.GetValue<string>()));
        Assert.Contains("record: job:up:sum", data);
    }

    [SkippableFact]
    public async Task A_valid_Alertmanager_configuration_is_stored_as_AMP_s_definition()
    {
        env.RequireAssets();
        string ns = await env.NewNamespaceAsync();
        using var op = await env.StartOperatorAsync(ns, "op-am");
        await env.Client.CreateAsync(ns, V1Alpha1Workspace.Plural, Resources.Workspace("ws", new JsonObject()));
        const string config = "route:\n  receiver: hook\n  group_by: [alertname]\nreceivers:\n  - name: hook\n    webhook_configs:\n      - url: http://127.0.0.1:9/hook\n";
        await env.Client.CreateAsync(ns, V1Alpha1AlertManagerDefinition.Plural, Resources.Object("AlertManagerDefinition", "am", new JsonObject
        {
            ["workspaceRef"] = new JsonObject { ["name"] = "ws" },
            ["data"] = config,
        }));
        var stored = await WaitStoredDecidedAsync<V1Alpha1AlertManagerDefinition>(ns, V1Alpha1AlertManagerDefinition.Plural, "am");
        Assert.True(stored.Status == "True", $"Stored is {stored.Status}: {stored.Reason}: {stored.Message}");
        var am = await env.Client.GetAsync<V1Alpha1AlertManagerDefinition>(ns, V1Alpha1AlertManagerDefinition.Plural, "am");
        var (status, body) = await env.AmphoraGetAsync($"/workspaces/{am!.Status!.WorkspaceId}/alertmanager/definition");
        Assert.Equal(200, status);
        string data = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(body!["alertManagerDefinition"]!["data"]!.GetValue<string>()));
        Assert.StartsWith("alertmanager_config: |", data);
        Assert.Contains("      - url: http://127.0.0.1:9/hook", data);
    }

    private Task<Condition> WaitStoredDecidedAsync(string ns, string name) =>
        WaitStoredDecidedAsync<V1Alpha1RuleGroupsNamespace>(ns, V1Alpha1RuleGroupsNamespace.Plural, name);

    private async Task<Condition> WaitStoredDecidedAsync<T>(string ns, string plural, string name) where T : class, IWorkspaceDependent
    {
        Condition? stored = null;
        await Eventually.HoldsAsync(async () =>
        {
            var r = await env.Client.GetAsync<T>(ns, plural, name);
            stored = r is null ? null : Resources.ConditionOf(r, Conditions.Stored);
            return stored is not null;
        }, () => "the Stored condition");
        return stored!;
    }
}
