using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Tests;

/// <summary>
/// Two workspaces, a key per action bound to workspace A, an admin key, and no or wrong credentials, against every data-plane
/// endpoint and the workspace control-plane endpoints (rule groups namespaces included): each answers exactly 2xx, 401 or 403, and no data crosses workspaces.
/// </summary>
public sealed class IsolationMatrixTests : IAsyncLifetime
{
    private readonly TenancyFixture _f = new();
    private TestServer _server = null!;
    private string _a = "", _b = "";
    private readonly Dictionary<string, AuthenticationHeaderValue?> _callers = new();

    private sealed record Endpoint(string Name, HttpMethod Method, string Path, string? OrgId, string Action, string Workspace);

    public async Task InitializeAsync()
    {
        _a = (await _f.Registry.CreateAsync("a", null, null)).WorkspaceId;
        _b = (await _f.Registry.CreateAsync("b", null, null)).WorkspaceId;
        foreach (var action in ApsActions.DataPlane.Append(ApsActions.DescribeWorkspace).Append(ApsActions.ListRuleGroupsNamespaces))
        {
            var k = _f.Keys.Create(_a, [action]);
            _callers[action] = Http.Basic(k.Key.AccessKeyId, k.SecretAccessKey);
        }
        var admin = _f.Keys.Create(null, [ApsActions.All]);
        _callers["admin"] = Http.Bearer(admin.Key.AccessKeyId, admin.SecretAccessKey);
        var reader = _f.Keys.Create(_a, [ApsActions.QueryMetrics]);
        _callers["wrong-secret"] = Http.Basic(reader.Key.AccessKeyId, "not-the-secret");
        _callers["none"] = null;
        _server = await TestServer.StartAsync(_f);
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        _f.Dispose();
    }

    private IEnumerable<Endpoint> Endpoints()
    {
        foreach (var ws in new[] { _a, _b })
        {
            yield return new("remote_write", HttpMethod.Post, $"/workspaces/{ws}/api/v1/remote_write", null, ApsActions.RemoteWrite, ws);
            yield return new("push", HttpMethod.Post, "/api/v1/push", ws, ApsActions.RemoteWrite, ws);
            yield return new("otlp", HttpMethod.Post, $"/workspaces/{ws}/api/v1/otlp/v1/metrics", null, ApsActions.RemoteWrite, ws);
            yield return new("otlp-org", HttpMethod.Post, "/otlp/v1/metrics", ws, ApsActions.RemoteWrite, ws);
            foreach (var (p, action) in new[]
            {
                ("query", ApsActions.QueryMetrics), ("query_range", ApsActions.QueryMetrics), ("series", ApsActions.GetSeries),
                ("labels", ApsActions.GetLabels), ("label/job/values", ApsActions.GetLabels), ("metadata", ApsActions.GetMetricMetadata),
                ("status/tsdb", ApsActions.GetSeries), ("cardinality/label_names", ApsActions.GetSeries),
                ("cardinality/label_values?label_names[]=job", ApsActions.GetSeries),
            })
            {
                yield return new(p, HttpMethod.Get, $"/workspaces/{ws}/api/v1/{p}", null, action, ws);
                yield return new("prometheus/" + p, HttpMethod.Get, $"/prometheus/api/v1/{p}", ws, action, ws);
            }
            yield return new("describe", HttpMethod.Get, $"/workspaces/{ws}", null, ApsActions.DescribeWorkspace, ws);
            yield return new("usage", HttpMethod.Get, $"/workspaces/{ws}/usage", null, ApsActions.DescribeWorkspace, ws);
            yield return new("configuration", HttpMethod.Get, $"/workspaces/{ws}/configuration", null, ApsActions.DescribeWorkspaceConfiguration, ws);
            yield return new("keys", HttpMethod.Get, $"/workspaces/{ws}/keys", null, ApsActions.ListAccessKeys, ws);
            yield return new("rulegroupsnamespaces", HttpMethod.Get, $"/workspaces/{ws}/rulegroupsnamespaces", null, ApsActions.ListRuleGroupsNamespaces, ws);
        }
        yield return new("create", HttpMethod.Post, "/workspaces", null, ApsActions.CreateWorkspace, "");
    }

    private int Expected(string caller, Endpoint e)
    {
        if (caller is "none" or "wrong-secret") return 401;
        if (caller == "admin") return e.Name == "create" ? 202 : e.Method == HttpMethod.Post ? 204 : 200;
        if (caller != e.Action || e.Workspace != _a) return 403;
        return e.Method == HttpMethod.Post ? 204 : 200;
    }

    [Fact]
    public async Task Every_endpoint_answers_exactly_the_expected_status_for_every_caller()
    {
        var failures = new List<string>();
        foreach (var (caller, auth) in _callers)
        {
            foreach (var e in Endpoints())
            {
                var req = Http.Request(e.Method, e.Path, auth, e.Method == HttpMethod.Post ? (e.Name == "create" ? "{}" : "sample") : null);
                if (e.OrgId is not null) req.Headers.Add("X-Scope-OrgID", e.OrgId);
                var response = await _server.Client.SendAsync(req);
                int expected = Expected(caller, e);
                if ((int)response.StatusCode != expected)
                    failures.Add($"{caller} {e.Method} {e.Path} (org {e.OrgId}): expected {expected}, got {(int)response.StatusCode}");
            }
        }
        Assert.True(failures.Count == 0, $"{failures.Count} cases differ:\n" + string.Join("\n", failures));
    }

    [Fact]
    public async Task Data_written_to_one_workspace_never_appears_in_the_other()
    {
        var writerA = _f.Keys.Create(_a, [ApsActions.RemoteWrite]);
        var writerB = _f.Keys.Create(_b, [ApsActions.RemoteWrite]);
        var readerB = _f.Keys.Create(_b, [ApsActions.QueryMetrics]);
        await _server.Client.SendAsync(Http.Request(HttpMethod.Post, "/api/v1/push", Http.Basic(writerA.Key.AccessKeyId, writerA.SecretAccessKey), "only_in_a"));
        await _server.Client.SendAsync(Http.Request(HttpMethod.Post, "/otlp/v1/metrics", Http.Basic(writerA.Key.AccessKeyId, writerA.SecretAccessKey), "otlp_only_in_a"));
        await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{_b}/api/v1/remote_write", Http.Basic(writerB.Key.AccessKeyId, writerB.SecretAccessKey), "only_in_b"));

        // A workspace-bound key without X-Scope-OrgID lands in its own workspace.
        Assert.Equal(["only_in_a", "otlp_only_in_a"], _server.WrittenTo(_a));
        var readB = await _server.Client.SendAsync(Http.Request(HttpMethod.Get, "/prometheus/api/v1/query", Http.Basic(readerB.Key.AccessKeyId, readerB.SecretAccessKey)));
        string body = await readB.Content.ReadAsStringAsync();
        Assert.Contains("only_in_b", body);
        Assert.DoesNotContain("only_in_a", body);

        var spoofed = Http.Request(HttpMethod.Get, "/prometheus/api/v1/query", Http.Basic(readerB.Key.AccessKeyId, readerB.SecretAccessKey));
        spoofed.Headers.Add("X-Scope-OrgID", _a);
        var denied = await _server.Client.SendAsync(spoofed);
        Assert.Equal(HttpStatusCode.Forbidden, denied.StatusCode);
        Assert.DoesNotContain("only_in_a", await denied.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Denials_use_Prometheus_JSON_on_the_query_API_and_on_remote_write()
    {
        var query = await _server.Client.SendAsync(Http.Request(HttpMethod.Get, $"/workspaces/{_b}/api/v1/query", _callers[ApsActions.QueryMetrics]));
        Assert.Equal(HttpStatusCode.Forbidden, query.StatusCode);
        var json = JsonDocument.Parse(await query.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", json.GetProperty("status").GetString());
        Assert.Equal("forbidden", json.GetProperty("errorType").GetString());
        Assert.Contains("aps:QueryMetrics", json.GetProperty("error").GetString());

        var write = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{_a}/api/v1/remote_write", null, "x"));
        Assert.Equal(HttpStatusCode.Unauthorized, write.StatusCode);
        Assert.StartsWith("application/json", write.Content.Headers.ContentType!.ToString());
        var denied = JsonDocument.Parse(await write.Content.ReadAsStringAsync()).RootElement;
        Assert.Equal("error", denied.GetProperty("status").GetString());
        Assert.Equal("unauthorized", denied.GetProperty("errorType").GetString());
    }

    [Fact]
    public async Task Data_for_a_workspace_that_does_not_exist_is_refused_with_404()
    {
        var response = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, "/workspaces/ws-nope/api/v1/remote_write", _callers["admin"], "x"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_workspace_key_may_change_its_retention_but_not_its_limits_which_only_a_key_of_every_workspace_sets()
    {
        var tenant = _f.Keys.Create(_a, [ApsActions.UpdateWorkspaceConfiguration]);
        var auth = Http.Basic(tenant.Key.AccessKeyId, tenant.SecretAccessKey);
        var retention = await _server.Client.SendAsync(Http.Request(HttpMethod.Patch, $"/workspaces/{_a}/configuration", auth, """{"retentionPeriodInDays":30}"""));
        Assert.Equal(HttpStatusCode.Accepted, retention.StatusCode);
        var raise = await _server.Client.SendAsync(Http.Request(HttpMethod.Patch, $"/workspaces/{_a}/configuration", auth, """{"limits":{"ingestionRate":1e12}}"""));
        Assert.Equal(HttpStatusCode.Forbidden, raise.StatusCode);
        Assert.Contains("only a key of every workspace (an admin key) may set a workspace", await raise.Content.ReadAsStringAsync());
        Assert.Null(_f.Registry.Describe(_a).Configuration.Limits);
        var admin = await _server.Client.SendAsync(Http.Request(HttpMethod.Patch, $"/workspaces/{_a}/configuration", _callers["admin"], """{"limits":{"ingestionRate":5000}}"""));
        Assert.Equal(HttpStatusCode.Accepted, admin.StatusCode);
        Assert.Equal(5000, _f.Registry.Describe(_a).Configuration.Limits!.IngestionRate);
    }

    [Fact]
    public async Task A_key_cannot_grant_actions_it_does_not_hold()
    {
        var keyAdmin = _f.Keys.Create(_a, [ApsActions.CreateAccessKey, ApsActions.QueryMetrics]);
        var auth = Http.Basic(keyAdmin.Key.AccessKeyId, keyAdmin.SecretAccessKey);
        var ok = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{_a}/keys", auth, """{"actions":["aps:QueryMetrics"]}"""));
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var escalate = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{_a}/keys", auth, """{"actions":["aps:*"]}"""));
        Assert.Equal(HttpStatusCode.Forbidden, escalate.StatusCode);
        var otherWs = await _server.Client.SendAsync(Http.Request(HttpMethod.Post, $"/workspaces/{_b}/keys", auth, """{"actions":["aps:QueryMetrics"]}"""));
        Assert.Equal(HttpStatusCode.Forbidden, otherWs.StatusCode);
    }
}
