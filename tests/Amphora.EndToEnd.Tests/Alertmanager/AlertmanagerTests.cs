using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Access;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Testing;
using Xunit;

namespace Amphora.EndToEnd.Tests.Alertmanager;

/// <summary>
/// amphora (--auth=keys) runs Debian's prometheus-alertmanager 0.25 per workspace with a definition: alerts posted
/// through /workspaces/{id}/alertmanager/api/v2 reach the test's webhook, silences suppress them, a changed definition is
/// reloaded, a killed process comes back, a process that cannot start marks the definition CREATION_FAILED with its own
/// error, keys reach only their workspace's Alertmanager, and deleting the definition stops the process.
/// </summary>
public sealed class AlertmanagerTests : IAsyncLifetime
{
    private static readonly TimeSpan Within = TimeSpan.FromSeconds(30);
    private static readonly Key FileAdmin = new("RULERADMIN", "admin-secret-the-ruler-uses-in-a-cluster");
    private AmphoraProcess _amphora = null!;
    private AccessClient _client = null!;
    private Key _admin = null!;
    private WebhookReceiver _hook = null!;

    public async Task InitializeAsync()
    {
        DebianTool.Run("prometheus-alertmanager", "prometheus-alertmanager", TimeSpan.FromSeconds(30), "--version");
        string dataDir = RepoPaths.NewTempDir("amphora-alertmanager");
        string adminKeyFile = Path.Combine(dataDir, "admin-key.json");
        File.WriteAllText(adminKeyFile, $$"""{"accessKeyId": "{{FileAdmin.Id}}", "secretAccessKey": "{{FileAdmin.Secret}}"}""");
        _amphora = AmphoraProcess.Start(dataDir, null, "--auth=keys", $"--auth.admin-key-file={adminKeyFile}",
            $"--audit.log-file={Path.Combine(dataDir, "audit.log")}");
        await _amphora.WaitReadyAsync();
        _client = new AccessClient(_amphora.BaseAddress);
        _admin = AccessClient.BootstrapKey(dataDir);
        _hook = new WebhookReceiver();
    }

    public async Task DisposeAsync()
    {
        _hook.Dispose();
        _client.Dispose();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
    }

    // templates: ['*'] matches the files amtool checked the definition with, so it must match the same ones where the
    // Alertmanager runs (not its storage directory or pid file, which are no templates).
    private string Definition(string secondPath = "hook2") => $$$"""
        template_files:
          title.tmpl: '{{ define "amphora.title" }}[{{ .Status }}] {{ .CommonLabels.alertname }}{{ end }}'
        alertmanager_config: |
          templates: ['*']
          route:
            receiver: hook
            group_by: [alertname]
            group_wait: 0s
            group_interval: 1s
            repeat_interval: 1h
            routes:
              - matchers: ['team="b"']
                receiver: second
          receivers:
            - name: hook
              webhook_configs:
                - url: {{{_hook.Url}}}/hook
            - name: second
              webhook_configs:
                - url: {{{_hook.Url}}}/{{{secondPath}}}
        """;

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");
    private static StringContent Data(string definition) =>
        Json(new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(definition)) });

    private static string Api(string ws, string path) => $"/workspaces/{ws}/alertmanager/api/v2/{path}";

    private static StringContent Alert(string name, string team = "a") => Json(new JsonArray(new JsonObject
    {
        ["labels"] = new JsonObject { ["alertname"] = name, ["team"] = team },
        ["annotations"] = new JsonObject { ["summary"] = $"{name} fired" },
    }));

    private async Task<string> WorkspaceWithDefinitionAsync(string alias, string? definition = null)
    {
        string ws = await _client.CreateWorkspaceAsync(_admin, alias);
        var (status, body) = await _client.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/alertmanager/definition", _admin, Data(definition ?? Definition()));
        Assert.True(status == HttpStatusCode.Accepted, $"{status} {body}");
        Assert.Contains("\"CREATING\"", body);
        return ws;
    }

    /// <summary>Waits until the definition's status is <paramref name="code"/>; returns the status object.</summary>
    private async Task<JsonNode> StatusAsync(string ws, string code)
    {
        JsonNode? status = null;
        await Eventually.HoldsAsync(async () =>
        {
            var (_, body) = await _client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/alertmanager/definition", _admin);
            status = JsonNode.Parse(body)?["alertManagerDefinition"]?["status"];
            return status?["statusCode"]?.GetValue<string>() == code;
        }, () => $"the definition of {ws} is {status?.ToJsonString()}, not {code}\n{_amphora.Output}", Within);
        return status!;
    }

    /// <summary>The pid of the workspace's Alertmanager process (found by its storage path), or null.</summary>
    private int? AlertmanagerPid(string ws) => AlertmanagerPidUnder(_amphora.DataDir, ws);

    private static int? AlertmanagerPidUnder(string dataDir, string ws)
    {
        string storage = $"--storage.path={Path.Combine(dataDir, "alertmanager", ws, "data")}";
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid)) continue;
            try
            {
                if (File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0').Contains(storage)) return pid;
            }
            catch (IOException) { }
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    [Fact]
    public async Task In_one_process_the_ruler_sends_a_firing_alert_to_the_workspace_s_own_Alertmanager()
    {
        // --target=all without --ruler.alertmanager-url: the ruler posts to the workspace's Alertmanager process directly.
        string ws = await WorkspaceWithDefinitionAsync("am-ruler");
        await StatusAsync(ws, "ACTIVE");

        // The tenant's process gets none of Amphora's environment (bucket credentials would be signed with otherwise).
        int pid = AlertmanagerPid(ws) ?? throw new InvalidOperationException("no Alertmanager process for " + ws);
        var environment = File.ReadAllText($"/proc/{pid}/environ").Split('\0', StringSplitOptions.RemoveEmptyEntries)
            .Select(e => e[..e.IndexOf('=')]).Order().ToList();
        Assert.True(environment.All(name => name is "PATH" or "HOME" or "TZ"), "the Alertmanager's environment: " + string.Join(", ", environment));
        const string rules = """
            groups:
              - name: always
                interval: 1s
                rules:
                  - alert: RulerToAlertmanager
                    expr: vector(42)
                    labels: { team: a }
                    annotations: { summary: 'value {{ $value }}' }
            """;
        var (created, body) = await _client.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/rulegroupsnamespaces", _admin,
            Json(new JsonObject { ["name"] = "ns", ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(rules)) }));
        Assert.True(created == HttpStatusCode.Accepted, $"{created} {body}");
        var delivered = await _hook.WaitForAsync("/hook", "RulerToAlertmanager", Within);
        var alert = delivered.Body.GetProperty("alerts")[0];
        Assert.Equal("value 42", alert.GetProperty("annotations").GetProperty("summary").GetString());
        Assert.Equal("firing", alert.GetProperty("status").GetString());
    }

    [Fact]
    public async Task An_alert_posted_through_amphora_reaches_the_webhook_and_a_silence_suppresses_the_next()
    {
        string ws = await WorkspaceWithDefinitionAsync("am-deliver");
        await StatusAsync(ws, "ACTIVE");

        // The admin key of --auth.admin-key-file (what the ruler uses in a cluster) posts alerts.
        var (posted, postedBody) = await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), FileAdmin, Alert("Delivered"));
        Assert.True(posted == HttpStatusCode.OK, $"{posted} {postedBody}");
        var delivered = await _hook.WaitForAsync("/hook", "Delivered", Within);
        Assert.Equal("Delivered fired", delivered.Body.GetProperty("alerts")[0].GetProperty("annotations").GetProperty("summary").GetString());
        Assert.EndsWith($"/workspaces/{ws}/alertmanager", delivered.Body.GetProperty("externalURL").GetString());

        var silence = new JsonObject
        {
            ["matchers"] = new JsonArray(new JsonObject { ["name"] = "alertname", ["value"] = "Silenced", ["isRegex"] = false, ["isEqual"] = true }),
            ["startsAt"] = DateTime.UtcNow.AddMinutes(-1).ToString("O"),
            ["endsAt"] = DateTime.UtcNow.AddHours(1).ToString("O"),
            ["createdBy"] = "test",
            ["comment"] = "maintenance",
        };
        var (silenced, silenceBody) = await _client.SendAsync(HttpMethod.Post, Api(ws, "silences"), _admin, Json(silence));
        Assert.True(silenced == HttpStatusCode.OK, $"{silenced} {silenceBody}");
        string id = JsonNode.Parse(silenceBody)!["silenceID"]!.GetValue<string>();
        var (got, gotBody) = await _client.SendAsync(HttpMethod.Get, Api(ws, $"silence/{id}"), _admin);
        Assert.True(got == HttpStatusCode.OK && gotBody.Contains("\"active\""), $"{got} {gotBody}");
        Assert.Contains(id, (await _client.SendAsync(HttpMethod.Get, Api(ws, "silences"), _admin)).Body);

        // The silenced alert is posted first; once the later one is delivered, the silenced one would have been too.
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), _admin, Alert("Silenced"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), _admin, Alert("After"))).Status);
        await _hook.WaitForAsync("/hook", "After", Within);
        await Task.Delay(TimeSpan.FromSeconds(2)); // two more group intervals
        Assert.False(_hook.Got("Silenced"), "a silenced alert was delivered");
        var alerts = JsonNode.Parse((await _client.SendAsync(HttpMethod.Get, Api(ws, "alerts?filter=alertname%3D%22Silenced%22"), _admin)).Body)!.AsArray();
        Assert.Equal("suppressed", alerts.Single()!["status"]!["state"]!.GetValue<string>());
        Assert.Equal(id, alerts.Single()!["status"]!["silencedBy"]![0]!.GetValue<string>());

        Assert.Contains("\"Delivered\"", (await _client.SendAsync(HttpMethod.Get, Api(ws, "alerts/groups"), _admin)).Body);
        Assert.Contains("\"second\"", (await _client.SendAsync(HttpMethod.Get, Api(ws, "receivers"), _admin)).Body);
        Assert.Contains("\"disabled\"", (await _client.SendAsync(HttpMethod.Get, Api(ws, "status"), _admin)).Body); // clustering off
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Delete, Api(ws, $"silence/{id}"), _admin)).Status);

        // Changes of silences are audited as control-plane calls are.
        string audit = Path.Combine(_amphora.DataDir, "audit.log");
        bool Audited(string action)
        {
            try
            {
                return File.ReadAllLines(audit).Select(l => JsonDocument.Parse(l).RootElement).Any(l =>
                    l.GetProperty("action").GetString() == action && l.GetProperty("workspace").GetString() == ws && l.GetProperty("status").GetInt32() == 200);
            }
            catch (Exception e) when (e is IOException or JsonException) // not written yet, or a line being written
            {
                return false;
            }
        }
        await Eventually.HoldsAsync(() => Task.FromResult(Audited("aps:PutAlertManagerSilences") && Audited("aps:DeleteAlertManagerSilence")),
            () => "the silence's creation and deletion were not audited", Within);
    }

    [Fact]
    public async Task A_changed_definition_is_reloaded_and_a_killed_process_is_restarted()
    {
        string ws = await WorkspaceWithDefinitionAsync("am-reload");
        await StatusAsync(ws, "ACTIVE");
        int pid = AlertmanagerPid(ws) ?? throw new InvalidOperationException("no Alertmanager process for " + ws);

        var (put, putBody) = await _client.SendAsync(HttpMethod.Put, $"/workspaces/{ws}/alertmanager/definition", _admin, Data(Definition("moved")));
        Assert.True(put == HttpStatusCode.Accepted && putBody.Contains("\"UPDATING\""), $"{put} {putBody}");
        await StatusAsync(ws, "ACTIVE");
        Assert.Equal(pid, AlertmanagerPid(ws)); // reloaded, not restarted
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), _admin, Alert("Rerouted", team: "b"))).Status);
        await _hook.WaitForAsync("/moved", "Rerouted", Within);

        System.Diagnostics.Process.GetProcessById(pid).Kill();
        await Eventually.HoldsAsync(async () => AlertmanagerPid(ws) is { } again && again != pid
            && (await _client.SendAsync(HttpMethod.Get, Api(ws, "status"), _admin)).Status == HttpStatusCode.OK,
            () => $"the Alertmanager of {ws} was not restarted\n{_amphora.Output}", Within);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), _admin, Alert("AfterRestart", team: "b"))).Status);
        await _hook.WaitForAsync("/moved", "AfterRestart", Within);
        Assert.Single(_amphora.Output.Split('\n'), l => l.Contains($"alertmanager of workspace {ws} is not running, restarting it", StringComparison.Ordinal));
        await StatusAsync(ws, "ACTIVE");
    }

    [Fact]
    public async Task A_process_that_cannot_start_shows_CREATION_FAILED_with_its_error_and_a_later_definition_recovers()
    {
        string ws = await _client.CreateWorkspaceAsync(_admin, "am-fail");
        // A file where the Alertmanager's --storage.path must be created: amtool accepts the definition, the process cannot run.
        string dir = Path.Combine(_amphora.DataDir, "alertmanager", ws);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "data"), "in the way");
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/alertmanager/definition", _admin, Data(Definition()))).Status);
        var failed = await StatusAsync(ws, "CREATION_FAILED");
        string reason = failed["statusReason"]!.GetValue<string>();
        Assert.Contains("Unable to create data directory", reason);
        Assert.Contains("not a directory", reason);
        Assert.DoesNotContain(_amphora.DataDir, reason);
        var (status, body) = await _client.SendAsync(HttpMethod.Get, Api(ws, "alerts"), _admin);
        Assert.True(status == HttpStatusCode.ServiceUnavailable && body.Contains("not running"), $"{status} {body}");

        File.Delete(Path.Combine(dir, "data"));
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Put, $"/workspaces/{ws}/alertmanager/definition", _admin, Data(Definition("fixed")))).Status);
        var active = await StatusAsync(ws, "ACTIVE");
        Assert.Null(active["statusReason"]);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Get, Api(ws, "alerts"), _admin)).Status);
    }

    [Fact]
    public async Task A_definition_that_cannot_be_loaded_shows_UPDATE_FAILED_while_the_old_one_keeps_running()
    {
        string ws = await WorkspaceWithDefinitionAsync("am-update-fail");
        await StatusAsync(ws, "ACTIVE");
        // A directory where the new configuration is written first: the new definition cannot be put in place.
        string blocker = Path.Combine(_amphora.DataDir, "alertmanager", ws, "alertmanager.yml.tmp");
        Directory.CreateDirectory(blocker);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Put, $"/workspaces/{ws}/alertmanager/definition", _admin, Data(Definition("blocked")))).Status);
        var failed = await StatusAsync(ws, "UPDATE_FAILED");
        string reason = failed["statusReason"]!.GetValue<string>();
        Assert.Contains("alertmanager.yml.tmp", reason);
        Assert.DoesNotContain(_amphora.DataDir, reason);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), _admin, Alert("StillServed", team: "b"))).Status);
        await _hook.WaitForAsync("/hook2", "StillServed", Within); // the old definition's route

        Directory.Delete(blocker);
        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Put, $"/workspaces/{ws}/alertmanager/definition", _admin, Data(Definition("unblocked")))).Status);
        await StatusAsync(ws, "ACTIVE");
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), _admin, Alert("Unblocked", team: "b"))).Status);
        await _hook.WaitForAsync("/unblocked", "Unblocked", Within);
    }

    [Fact]
    public async Task A_key_reaches_only_its_workspaces_Alertmanager_and_a_workspace_without_a_definition_is_404()
    {
        string ws = await WorkspaceWithDefinitionAsync("am-mine");
        string other = await _client.CreateWorkspaceAsync(_admin, "am-other");
        await StatusAsync(ws, "ACTIVE");
        var otherKey = await _client.CreateKeyAsync(_admin, other, "aps:*");
        var reader = await _client.CreateKeyAsync(_admin, ws, "aps:ListAlertManagerAlerts");

        var (denied, deniedBody) = await _client.SendAsync(HttpMethod.Get, Api(ws, "alerts"), otherKey);
        Assert.True(denied == HttpStatusCode.Forbidden, $"{denied} {deniedBody}");
        Assert.Equal(HttpStatusCode.Forbidden, (await _client.SendAsync(HttpMethod.Post, Api(ws, "alerts"), otherKey, Alert("Foreign"))).Status);
        Assert.Equal(HttpStatusCode.OK, (await _client.SendAsync(HttpMethod.Get, Api(ws, "alerts"), reader)).Status);
        var (noAction, noActionBody) = await _client.SendAsync(HttpMethod.Post, Api(ws, "silences"), reader, Json(new JsonObject()));
        Assert.True(noAction == HttpStatusCode.Forbidden && noActionBody.Contains("aps:PutAlertManagerSilences"), $"{noAction} {noActionBody}");

        var (missing, missingBody) = await _client.SendAsync(HttpMethod.Get, Api(other, "alerts"), otherKey);
        Assert.True(missing == HttpStatusCode.NotFound, $"{missing} {missingBody}");
        Assert.Equal($"workspace {other} has no Alertmanager definition", JsonNode.Parse(missingBody)!["message"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await _client.SendAsync(HttpMethod.Get, Api(ws, "nothing-here"), _admin)).Status);
    }

    [Fact]
    public async Task Deleting_the_definition_stops_the_process_and_removes_its_directory()
    {
        string ws = await WorkspaceWithDefinitionAsync("am-delete");
        await StatusAsync(ws, "ACTIVE");
        string dir = Path.Combine(_amphora.DataDir, "alertmanager", ws);
        Assert.True(File.Exists(Path.Combine(dir, "config", "alertmanager.yml")));
        Assert.True(File.Exists(Path.Combine(dir, "config", "title.tmpl")));
        Assert.NotNull(AlertmanagerPid(ws));

        Assert.Equal(HttpStatusCode.Accepted, (await _client.SendAsync(HttpMethod.Delete, $"/workspaces/{ws}/alertmanager/definition", _admin)).Status);
        await Eventually.HoldsAsync(() => Task.FromResult(AlertmanagerPid(ws) is null && !Directory.Exists(dir)),
            () => $"the Alertmanager of {ws} still runs or its directory is there\n{_amphora.Output}", Within);
        Assert.Equal(HttpStatusCode.NotFound, (await _client.SendAsync(HttpMethod.Get, Api(ws, "alerts"), _admin)).Status);
    }

    /// <summary>With --auth=none: a new workspace whose definition is ACTIVE.</summary>
    private async Task<string> ActiveDefinitionWithoutAuthAsync(HttpClient http, AmphoraProcess amphora)
    {
        var created = await http.PostAsync("/workspaces", Json(new JsonObject { ["alias"] = "no-auth" }));
        string ws = JsonNode.Parse(await created.Content.ReadAsStringAsync())!["workspaceId"]!.GetValue<string>();
        // Accepted once the new workspace is ACTIVE (409 while it is CREATING).
        await Eventually.HoldsAsync(async () => (await http.PostAsync($"/workspaces/{ws}/alertmanager/definition", Data(Definition()))).StatusCode == HttpStatusCode.Accepted,
            () => "the definition was not accepted\n" + amphora.Output, Within);
        await Eventually.HoldsAsync(async () => (await http.GetStringAsync($"/workspaces/{ws}/alertmanager/definition")).Contains("\"ACTIVE\""),
            () => "the definition did not become ACTIVE\n" + amphora.Output, Within);
        return ws;
    }

    [Fact]
    public async Task The_alertmanager_target_alone_runs_the_definitions_and_serves_their_API()
    {
        using var alertmanager = AmphoraProcess.Start(null, null, "--target=alertmanager");
        await alertmanager.WaitReadyAsync();
        using var http = new HttpClient { BaseAddress = alertmanager.BaseAddress };
        string ws = await ActiveDefinitionWithoutAuthAsync(http, alertmanager);
        var posted = await http.PostAsync(Api(ws, "alerts"), Alert("FromTheTarget"));
        Assert.True(posted.IsSuccessStatusCode, await posted.Content.ReadAsStringAsync());
        await _hook.WaitForAsync("/hook", "FromTheTarget", Within);
        Assert.Contains("alertmanager", alertmanager.Output);
        await alertmanager.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.Null(AlertmanagerPidUnder(alertmanager.DataDir, ws));
    }

    [Fact]
    public async Task Silences_outlive_a_restart_of_amphora()
    {
        // Its own amphora (--auth=none), stopped with SIGTERM and started again on the same data directory and port.
        string dataDir = RepoPaths.NewTempDir("amphora-alertmanager-restart");
        var first = AmphoraProcess.Start(dataDir);
        string ws, id;
        try
        {
            await first.WaitReadyAsync();
            using var http = new HttpClient { BaseAddress = first.BaseAddress };
            ws = await ActiveDefinitionWithoutAuthAsync(http, first);
            var silence = new JsonObject
            {
                ["matchers"] = new JsonArray(new JsonObject { ["name"] = "alertname", ["value"] = "Kept", ["isRegex"] = false }),
                ["startsAt"] = DateTime.UtcNow.ToString("O"),
                ["endsAt"] = DateTime.UtcNow.AddHours(1).ToString("O"),
                ["createdBy"] = "test",
                ["comment"] = "kept across a restart",
            };
            var response = await http.PostAsync(Api(ws, "silences"), Json(silence));
            string body = await response.Content.ReadAsStringAsync();
            Assert.True(response.IsSuccessStatusCode, body);
            id = JsonNode.Parse(body)!["silenceID"]!.GetValue<string>();
            Assert.Equal(0, await first.TerminateAsync(TimeSpan.FromSeconds(30)));
            Assert.Null(AlertmanagerPidUnder(dataDir, ws)); // stopped with amphora
        }
        finally
        {
            first.Dispose();
        }

        using var second = AmphoraProcess.Start(dataDir, first.Port);
        await second.WaitReadyAsync();
        using var client = new HttpClient { BaseAddress = second.BaseAddress };
        await Eventually.HoldsAsync(async () => (await client.GetAsync(Api(ws, $"silence/{id}"))).StatusCode == HttpStatusCode.OK,
            () => $"silence {id} is not there after the restart (or the Alertmanager did not come back)\n" + second.Output, Within);
        Assert.Contains("kept across a restart", await client.GetStringAsync(Api(ws, $"silence/{id}")));
        await second.TerminateAsync(TimeSpan.FromSeconds(30));
    }
}
