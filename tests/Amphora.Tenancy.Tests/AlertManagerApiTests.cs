using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Amphora.Tenancy.Keys;
using Amphora.Testing;

namespace Amphora.Tenancy.Tests;

/// <summary>
/// AMP's Alertmanager definition API over a real Kestrel, each definition checked by the real Alertmanager's
/// <c>amtool check-config</c> (Debian's prometheus-alertmanager; ./test.sh installs it, and a missing amtool fails these tests).
/// </summary>
public sealed class AlertManagerApiTests : IAsyncLifetime
{
    internal const string Definition = """
        template_files:
          default_template: |
            {{ define "custom.title" }}[{{ .Status }}] {{ .CommonLabels.alertname }}{{ end }}
        alertmanager_config: |
          templates:
            - default_template
          route:
            receiver: hook
            group_by: [alertname]
          receivers:
            - name: hook
              webhook_configs:
                - url: http://127.0.0.1:9/hook
        """;

    private AdminApi _api = null!;
    private TenancyFixture _f => _api.F;
    private string _ws => _api.Workspace;
    private string Path => $"/workspaces/{_ws}/alertmanager/definition";

    public async Task InitializeAsync()
    {
        DebianTool.Run("amtool", "prometheus-alertmanager", TimeSpan.FromSeconds(30), "--version");
        _api = await AdminApi.StartAsync("alerts");
    }

    public async Task DisposeAsync() => await _api.DisposeAsync();

    private static string Body(string definition) => $$"""{"data":"{{RulesApiTests.B64(definition)}}"}""";

    private Task<(HttpStatusCode Status, System.Text.Json.JsonElement Body, HttpResponseMessage Response)> Send(HttpMethod method, string path,
        string? json = null, AuthenticationHeaderValue? auth = null) => _api.Send(method, path, json, auth);

    [Fact]
    public async Task A_definition_is_created_described_replaced_and_deleted()
    {
        var (status, created, _) = await Send(HttpMethod.Post, Path, Body(Definition));
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("CREATING", created.GetProperty("status").GetProperty("statusCode").GetString());

        var (describeStatus, described, _) = await Send(HttpMethod.Get, Path);
        Assert.Equal(HttpStatusCode.OK, describeStatus);
        var am = described.GetProperty("alertManagerDefinition");
        Assert.Equal(Definition, Encoding.UTF8.GetString(Convert.FromBase64String(am.GetProperty("data").GetString()!)));
        Assert.Equal("CREATING", am.GetProperty("status").GetProperty("statusCode").GetString());
        Assert.True(am.GetProperty("createdAt").GetDouble() > 1.7e9);
        Assert.True(am.GetProperty("modifiedAt").GetDouble() >= am.GetProperty("createdAt").GetDouble());

        string replaced = Definition.Replace("group_by: [alertname]", "group_by: [alertname, job]", StringComparison.Ordinal);
        var (putStatus, put, _) = await Send(HttpMethod.Put, Path, Body(replaced));
        Assert.Equal(HttpStatusCode.Accepted, putStatus);
        Assert.Equal("UPDATING", put.GetProperty("status").GetProperty("statusCode").GetString());
        Assert.Equal(replaced, Encoding.UTF8.GetString(_f.Rules.DescribeAlertManagerDefinition(_ws).Data));

        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Delete, Path)).Status);
        var (goneStatus, _, goneResponse) = await Send(HttpMethod.Get, Path);
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
        Assert.Equal("ResourceNotFoundException", goneResponse.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Delete, Path)).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Put, Path, Body(Definition))).Status);
    }

    [Fact]
    public async Task A_second_definition_is_a_conflict_unless_the_call_is_a_retry_with_the_same_client_token()
    {
        string body = $$"""{"data":"{{RulesApiTests.B64(Definition)}}","clientToken":"c1"}""";
        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Post, Path, body)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Post, Path, body)).Status);
        var (status, conflict, _) = await Send(HttpMethod.Post, Path, Body(Definition));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Contains("already has an Alertmanager definition", conflict.GetProperty("message").GetString());
    }

    [Theory]
    // amtool's own verdicts
    [InlineData("alertmanager_config: |\n  route:\n    receiver: missing\n  receivers:\n    - name: hook\n", "amtool check-config refused it: undefined receiver \"missing\" used in route")]
    [InlineData("alertmanager_config: |\n  route:\n    receiver: hook\n    group_wait: soon\n  receivers:\n    - name: hook\n", "amtool check-config refused it")]
    [InlineData("template_files:\n  t: '{{ define \"x\" }}'\nalertmanager_config: |\n  templates: [t]\n  route:\n    receiver: hook\n  receivers:\n    - name: hook\n", "amtool check-config refused it")]
    // AMP's wrapper
    [InlineData("route:\n  receiver: hook\nreceivers:\n  - name: hook\n", "field route is not allowed in an Alertmanager definition")]
    [InlineData("template_files: {}\n", "alertmanager_config: the Alertmanager configuration is required")]
    [InlineData("template_files:\n  ../escape: x\nalertmanager_config: x\n", "template_files: \"../escape\"")]
    [InlineData("alertmanager_config: [1]\n", "line 1: alertmanager_config: must be a string")]
    [InlineData("alertmanager_config: |\n  templates: ['/etc/passwd']\n  route:\n    receiver: hook\n  receivers:\n    - name: hook\n", "alertmanager_config line 1: alertmanager_config: templates: \"/etc/passwd\" must name template_files")]
    [InlineData("alertmanager_config: |\n  templates: ['../*.tmpl']\n  route:\n    receiver: hook\n  receivers:\n    - name: hook\n", "templates: \"../*.tmpl\" must name template_files")]
    [InlineData("alertmanager_config: |\n  route: [\n", "alertmanager_config line 2: alertmanager_config: invalid YAML")]
    [InlineData("alertmanager_config: |\n  route:\n    receiver: hook\n  receivers:\n    - name: hook\n      webhook_configs:\n        - url: http://127.0.0.1:9/\n          http_config:\n            basic_auth: {username: u, password_file: /etc/shadow}\n",
        "alertmanager_config line 8: alertmanager_config: receivers[0].webhook_configs[0].http_config.basic_auth.password_file: settings that read a file are not allowed")]
    [InlineData("alertmanager_config: |\n  global:\n    http_config:\n      tls_config: {ca_file: /etc/ssl/private/x.pem}\n  route:\n    receiver: hook\n  receivers:\n    - name: hook\n",
        "global.http_config.tls_config.ca_file: settings that read a file are not allowed")]
    [InlineData("alertmanager_config: |\n  global:\n    slack_api_url_file: /var/run/secrets/token\n  route:\n    receiver: hook\n  receivers:\n    - name: hook\n",
        "global.slack_api_url_file: settings that read a file are not allowed")]
    // sigv4 without inline keys would sign with this server's own AWS identity (the default credential chain)
    [InlineData("alertmanager_config: |\n  route:\n    receiver: sns\n  receivers:\n    - name: sns\n      sns_configs:\n        - topic_arn: arn:aws:sns:us-east-1:123456789012:t\n          sigv4: {region: us-east-1}\n",
        "receivers[0].sns_configs[0].sigv4: sigv4 needs access_key and secret_key inline")]
    [InlineData("alertmanager_config: |\n  route:\n    receiver: sns\n  receivers:\n    - name: sns\n      sns_configs:\n        - topic_arn: arn:aws:sns:us-east-1:123456789012:t\n          sigv4: {region: us-east-1, profile: default}\n",
        "sigv4.profile is not allowed")]
    [InlineData("alertmanager_config: |\n  route:\n    receiver: sns\n  receivers:\n    - name: sns\n      sns_configs:\n        - topic_arn: arn:aws:sns:us-east-1:123456789012:t\n          sigv4: {region: us-east-1, access_key: AKIAEXAMPLE, secret_key: s, role_arn: 'arn:aws:iam::123456789012:role/x'}\n",
        "sigv4.role_arn is not allowed")]
    public async Task An_invalid_definition_is_a_400_with_the_reason_and_changes_nothing(string definition, string expected)
    {
        var (status, body, response) = await Send(HttpMethod.Post, Path, Body(definition));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("ValidationException", response.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Contains(expected, body.GetProperty("message").GetString());
        Assert.DoesNotContain(System.IO.Path.GetTempPath(), body.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, Path)).Status);

        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Post, Path, Body(Definition))).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Put, Path, Body(definition))).Status);
        Assert.Equal(Definition, Encoding.UTF8.GetString(_f.Rules.DescribeAlertManagerDefinition(_ws).Data));
    }

    [Fact]
    public async Task Without_amtool_a_definition_is_refused_with_503_naming_the_tool_and_nothing_is_stored()
    {
        await using var api = await AdminApi.StartAsync("x", o => o.AmtoolPath = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "no-such-dir", "amtool"));
        var (status, body, response) = await api.Send(HttpMethod.Post, $"/workspaces/{api.Workspace}/alertmanager/definition", Body(Definition));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("ServiceUnavailableException", response.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Contains("amtool", body.GetProperty("message").GetString());
        Assert.Contains("prometheus-alertmanager", body.GetProperty("message").GetString());
        Assert.Null(api.F.Store.FindAlertManagerDefinition(api.Workspace));
    }

    [Fact]
    public async Task Without_an_Alertmanager_binary_a_definition_is_refused_with_503_naming_the_option_and_nothing_is_stored()
    {
        await using var api = await AdminApi.StartAsync("x", o => o.AlertmanagerBinary = null);
        foreach (var method in new[] { HttpMethod.Post, HttpMethod.Put })
        {
            var (status, body, response) = await api.Send(method, $"/workspaces/{api.Workspace}/alertmanager/definition", Body(Definition));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
            Assert.Equal("ServiceUnavailableException", response.Headers.GetValues("x-amzn-ErrorType").Single());
            Assert.Contains("--alertmanager.binary", body.GetProperty("message").GetString());
            Assert.Contains("nothing was stored", body.GetProperty("message").GetString());
        }
        Assert.Null(api.F.Store.FindAlertManagerDefinition(api.Workspace));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")] // a shell script stands for the hanging amtool
    public async Task An_amtool_that_hangs_is_killed_at_the_timeout_and_the_definition_refused_with_503()
    {
        using var dir = new TempDir();
        string hanging = dir.File("amtool");
        File.WriteAllText(hanging, "#!/bin/sh\nsleep 60\n");
        File.SetUnixFileMode(hanging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var check = new Amphora.Tenancy.Rules.AmtoolCheck(hanging, TimeSpan.FromSeconds(1));
        var started = System.Diagnostics.Stopwatch.StartNew();
        var e = await Assert.ThrowsAsync<TenancyException>(() => check.CheckAsync(Encoding.UTF8.GetBytes(Definition), CancellationToken.None));
        Assert.Equal(503, e.HttpStatus);
        Assert.Contains("did not finish in 1s", e.Message);
        Assert.True(started.Elapsed < TimeSpan.FromSeconds(30), $"the check took {started.Elapsed}");
    }

    [Fact]
    public async Task Each_operation_needs_its_action()
    {
        var key = _f.Keys.Create(_ws, [ApsActions.DescribeAlertManagerDefinition]);
        var auth = Http.Basic(key.Key.AccessKeyId, key.SecretAccessKey);
        var (status, body, _) = await Send(HttpMethod.Post, Path, Body(Definition), auth);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains(ApsActions.CreateAlertManagerDefinition, body.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, Path, auth: auth)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Put, Path, Body(Definition), auth)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Delete, Path, auth: auth)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces", auth: auth)).Status);
    }

    [Fact]
    public async Task The_loading_component_can_record_a_failure_on_the_definition_it_loaded()
    {
        var created = await _f.Rules.CreateAlertManagerDefinitionAsync(_ws, Encoding.UTF8.GetBytes(Definition), null);
        var failed = new Amphora.Tenancy.Rules.RuleStatus(Amphora.Tenancy.Rules.RuleStatusCode.CreationFailed, "alertmanager exited with status 1");
        Assert.True(await _f.Rules.SetAlertManagerStatusAsync(_ws, created.ModifiedAt, failed));
        var status = (await Send(HttpMethod.Get, Path)).Body.GetProperty("alertManagerDefinition").GetProperty("status");
        Assert.Equal("CREATION_FAILED", status.GetProperty("statusCode").GetString());
        Assert.Equal("alertmanager exited with status 1", status.GetProperty("statusReason").GetString());
        Assert.False(await _f.Rules.SetAlertManagerStatusAsync(_ws, created.ModifiedAt.AddSeconds(-1), Amphora.Tenancy.Rules.RuleStatus.Active));
    }

    [Theory]
    [InlineData("POST", "alerts", ApsActions.CreateAlertManagerAlerts)]
    [InlineData("GET", "alerts", ApsActions.ListAlertManagerAlerts)]
    [InlineData("GET", "alerts/groups", ApsActions.ListAlertManagerAlertGroups)]
    [InlineData("GET", "silences", ApsActions.ListAlertManagerSilences)]
    [InlineData("POST", "silences", ApsActions.PutAlertManagerSilences)]
    [InlineData("GET", "silence/6e3e2a2c-0f4d-4a5e-9d0e-2a1b3c4d5e6f", ApsActions.GetAlertManagerSilence)]
    [InlineData("DELETE", "silence/6e3e2a2c-0f4d-4a5e-9d0e-2a1b3c4d5e6f", ApsActions.DeleteAlertManagerSilence)]
    [InlineData("GET", "status", ApsActions.GetAlertManagerStatus)]
    [InlineData("GET", "receivers", ApsActions.ListAlertManagerReceivers)]
    [InlineData("DELETE", "alerts", null)]
    [InlineData("GET", "silence", null)]
    public void The_Alertmanager_API_maps_to_AMPs_actions_of_its_workspace(string method, string path, string? action)
    {
        var access = Amphora.Tenancy.Auth.RequestActions.Resolve(method, $"/workspaces/ws-1/alertmanager/api/v2/{path}", null);
        Assert.Equal(action, access.Action);
        Assert.Equal("ws-1", access.Workspace);
        Assert.Equal(Amphora.Tenancy.Auth.ApiPlane.ControlPlane, access.Plane);
        if (action is not null) Assert.Contains(action, ApsActions.Known);
    }
}
