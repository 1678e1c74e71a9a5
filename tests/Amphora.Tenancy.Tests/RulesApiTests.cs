using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.State;

namespace Amphora.Tenancy.Tests;

/// <summary>AMP's rule groups namespaces API over a real Kestrel, as a client of AMP's API would use it.</summary>
public sealed class RulesApiTests : IAsyncLifetime
{
    internal const string RuleFile = """
        groups:
          - name: api
            interval: 30s
            rules:
              - record: job:requests:rate5m
                expr: sum by (job) (rate(requests_total[5m]))
              - alert: ApiDown
                expr: up{job="api"} == 0
                for: 5m
                labels: {severity: page}
                annotations: {summary: '{{ $labels.instance }} is down'}
        """;

    private AdminApi _api = null!;
    private TenancyFixture _f => _api.F;
    private string _ws => _api.Workspace;

    public async Task InitializeAsync() => _api = await AdminApi.StartAsync("rules");

    public async Task DisposeAsync() => await _api.DisposeAsync();

    internal static string B64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));

    private Task<(HttpStatusCode Status, JsonElement Body, HttpResponseMessage Response)> Send(HttpMethod method, string path, string? json = null,
        AuthenticationHeaderValue? auth = null) => _api.Send(method, path, json, auth);

    private string Create(string name, string rules, string extra = "") =>
        $$"""{"name":"{{name}}","data":"{{B64(rules)}}"{{extra}}}""";

    [Fact]
    public async Task A_namespace_is_created_described_listed_replaced_and_deleted()
    {
        var (status, created, _) = await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("prod", RuleFile, ""","tags":{"team":"a"}"""));
        Assert.Equal(HttpStatusCode.Accepted, status);
        Assert.Equal("prod", created.GetProperty("name").GetString());
        Assert.Equal($"arn:aws:aps:local:000000000000:rulegroupsnamespace/{_ws}/prod", created.GetProperty("arn").GetString());
        Assert.Equal("ACTIVE", created.GetProperty("status").GetProperty("statusCode").GetString());
        Assert.Equal("a", created.GetProperty("tags").GetProperty("team").GetString());

        var (describeStatus, described, _) = await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/prod");
        Assert.Equal(HttpStatusCode.OK, describeStatus);
        var ns = described.GetProperty("ruleGroupsNamespace");
        Assert.Equal(RuleFile, Encoding.UTF8.GetString(Convert.FromBase64String(ns.GetProperty("data").GetString()!)));
        Assert.Equal("ACTIVE", ns.GetProperty("status").GetProperty("statusCode").GetString());
        double createdAt = ns.GetProperty("createdAt").GetDouble();
        Assert.True(createdAt > 1.7e9);
        Assert.Equal(createdAt, ns.GetProperty("modifiedAt").GetDouble());

        await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("staging", RuleFile));
        var (listStatus, list, _) = await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces");
        Assert.Equal(HttpStatusCode.OK, listStatus);
        var summaries = list.GetProperty("ruleGroupsNamespaces").EnumerateArray().ToList();
        Assert.Equal(["prod", "staging"], summaries.Select(s => s.GetProperty("name").GetString()));
        Assert.False(summaries[0].TryGetProperty("data", out _));

        string replaced = RuleFile.Replace("interval: 30s", "interval: 1m", StringComparison.Ordinal);
        var (putStatus, put, _) = await Send(HttpMethod.Put, $"/workspaces/{_ws}/rulegroupsnamespaces/prod", $$"""{"data":"{{B64(replaced)}}"}""");
        Assert.Equal(HttpStatusCode.Accepted, putStatus);
        Assert.Equal("ACTIVE", put.GetProperty("status").GetProperty("statusCode").GetString());
        Assert.Equal("a", put.GetProperty("tags").GetProperty("team").GetString());
        Assert.Equal(replaced, Encoding.UTF8.GetString(_f.Rules.DescribeNamespace(_ws, "prod").Data));

        var (deleteStatus, _, deleteResponse) = await Send(HttpMethod.Delete, $"/workspaces/{_ws}/rulegroupsnamespaces/prod?clientToken=d1");
        Assert.Equal(HttpStatusCode.Accepted, deleteStatus);
        Assert.Equal(0, deleteResponse.Content.Headers.ContentLength ?? 0);
        var (goneStatus, gone, goneResponse) = await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/prod");
        Assert.Equal(HttpStatusCode.NotFound, goneStatus);
        Assert.Contains("prod", gone.GetProperty("message").GetString());
        Assert.Equal("ResourceNotFoundException", goneResponse.Headers.GetValues("x-amzn-ErrorType").Single());
    }

    [Fact]
    public async Task An_existing_name_is_a_conflict_unless_the_call_is_a_retry_with_the_same_client_token()
    {
        string body = Create("dup", RuleFile, ""","clientToken":"t1" """);
        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", body)).Status);
        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", body)).Status);
        var (status, conflict, response) = await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("dup", RuleFile));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("ConflictException", response.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Contains("already exists", conflict.GetProperty("message").GetString());
        Assert.Single(_f.Rules.ListNamespaces(_ws, null, null, null).Page);
    }

    [Fact]
    public async Task A_namespace_is_tagged_listed_and_untagged_by_its_ARN()
    {
        string arn = (await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("tagged", RuleFile, ""","tags":{"a":"1"}"""))).Body
            .GetProperty("arn").GetString()!;
        string path = "/tags/" + Uri.EscapeDataString(arn);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Post, path, """{"tags":{"b":"2"}}""")).Status);
        var tags = (await Send(HttpMethod.Get, path)).Body.GetProperty("tags");
        Assert.Equal(["a", "b"], tags.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Delete, path + "?tagKeys=a")).Status);
        Assert.Equal(["b"], _f.Rules.DescribeNamespace(_ws, "tagged").Tags.Keys);
        Assert.Equal("2", (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/tagged")).Body
            .GetProperty("ruleGroupsNamespace").GetProperty("tags").GetProperty("b").GetString());

        var (missing, _, _) = await Send(HttpMethod.Get, "/tags/" + Uri.EscapeDataString(arn + "x"));
        Assert.Equal(HttpStatusCode.NotFound, missing);
        var tagger = _f.Keys.Create(_ws, [ApsActions.TagResource, ApsActions.ListTagsForResource]);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, path, auth: Http.Basic(tagger.Key.AccessKeyId, tagger.SecretAccessKey))).Status);
        var other = (await _f.Registry.CreateAsync("other", null, null)).WorkspaceId;
        var stranger = _f.Keys.Create(other, [ApsActions.All]);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Post, path, """{"tags":{"c":"3"}}""", Http.Basic(stranger.Key.AccessKeyId, stranger.SecretAccessKey))).Status);
        Assert.Equal(["b"], _f.Rules.DescribeNamespace(_ws, "tagged").Tags.Keys);
    }

    [Fact]
    public async Task Missing_workspaces_and_namespaces_are_404()
    {
        const string missingWs = "ws-00000000-0000-0000-0000-000000000000";
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Post, $"/workspaces/{missingWs}/rulegroupsnamespaces", Create("a", RuleFile))).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/workspaces/{missingWs}/rulegroupsnamespaces")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/none")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Put, $"/workspaces/{_ws}/rulegroupsnamespaces/none", $$"""{"data":"{{B64(RuleFile)}}"}""")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Delete, $"/workspaces/{_ws}/rulegroupsnamespaces/none")).Status);
    }

    [Theory]
    [InlineData("groups: [a: b: c]", "invalid YAML")]
    [InlineData("groups:\n  - name: g\n    rules:\n      - record: r\n        expr: sum(rate(x[5m])", "line 5: group \"g\", rule 1 (record \"r\"): could not parse expression: 1:")]
    [InlineData("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        annotations: {s: '{{ if $value }}'}", "line 6: group \"g\", rule 1 (alert \"A\"): annotations: s: invalid template")]
    [InlineData("groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []", "line 4: group \"g\": the group name is repeated")]
    [InlineData("groups:\n  - name: g\n    interval: 5 minutes\n    rules: []", "line 3: group \"g\": interval: \"5 minutes\" is not a valid duration")]
    [InlineData("groups:\n  - name: g\n    rules:\n      - record: 1x\n        expr: up", "invalid recording rule name")]
    public async Task An_invalid_rule_file_is_a_400_naming_the_place_and_changes_nothing(string rules, string expected)
    {
        var (status, body, response) = await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("bad", rules));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("ValidationException", response.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Contains(expected, body.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/bad")).Status);

        await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("good", RuleFile));
        var (putStatus, putBody, _) = await Send(HttpMethod.Put, $"/workspaces/{_ws}/rulegroupsnamespaces/good", $$"""{"data":"{{B64(rules)}}"}""");
        Assert.Equal(HttpStatusCode.BadRequest, putStatus);
        Assert.Contains(expected, putBody.GetProperty("message").GetString());
        Assert.Equal(RuleFile, Encoding.UTF8.GetString(_f.Rules.DescribeNamespace(_ws, "good").Data));
    }

    [Theory]
    [InlineData("""{"name":"-leading","data":"Z3JvdXBzOiBbXQ=="}""", "name:")]
    [InlineData("""{"name":"a/b","data":"Z3JvdXBzOiBbXQ=="}""", "name:")]
    [InlineData("""{"data":"Z3JvdXBzOiBbXQ=="}""", "name:")]
    [InlineData("""{"name":"a"}""", "data: the rule file is required")]
    [InlineData("""{"name":"a","data":"not base64!"}""", "not valid JSON")]
    [InlineData("""{"name":"a","data":"//79"}""", "not UTF-8")]
    public async Task A_bad_request_body_is_a_400_naming_the_field(string json, string expected)
    {
        var (status, body, _) = await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", json);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains(expected, body.GetProperty("message").GetString());
        Assert.Empty(_f.Rules.ListNamespaces(_ws, null, null, null).Page);
    }

    [Fact]
    public async Task A_group_name_that_makes_the_pair_longer_than_AMP_allows_is_refused()
    {
        string rules = $"groups:\n  - name: {new string('g', 700)}\n    rules: []";
        var (status, body, _) = await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create(new string('n', 30), rules));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Contains("exceed 721 UTF-8 bytes", body.GetProperty("message").GetString());
    }

    [Fact]
    public async Task Listing_returns_pages_with_a_next_token_and_filters_by_name_prefix()
    {
        foreach (var name in new[] { "team-a", "team-b", "team-c", "other" })
            await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create(name, "groups: []"));
        var names = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            string url = $"/workspaces/{_ws}/rulegroupsnamespaces?name=team-&maxResults=2" + (token is null ? "" : "&nextToken=" + Uri.EscapeDataString(token));
            var (status, body, _) = await Send(HttpMethod.Get, url);
            Assert.Equal(HttpStatusCode.OK, status);
            foreach (var n in body.GetProperty("ruleGroupsNamespaces").EnumerateArray()) names.Add(n.GetProperty("name").GetString()!);
            token = body.TryGetProperty("nextToken", out var t) ? t.GetString() : null;
            pages++;
        } while (token is not null);
        Assert.Equal(["team-a", "team-b", "team-c"], names);
        Assert.Equal(2, pages);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces?maxResults=0")).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces?nextToken=garbage")).Status);
    }

    [Fact]
    public async Task Each_operation_needs_its_action_and_a_key_of_the_workspace()
    {
        await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("n", RuleFile));
        var reader = _f.Keys.Create(_ws, [ApsActions.DescribeRuleGroupsNamespace, ApsActions.ListRuleGroupsNamespaces]);
        var auth = Http.Basic(reader.Key.AccessKeyId, reader.SecretAccessKey);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/n", auth: auth)).Status);
        Assert.Equal(HttpStatusCode.OK, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces", auth: auth)).Status);
        var (createStatus, createBody, createResponse) = await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("m", RuleFile), auth);
        Assert.Equal(HttpStatusCode.Forbidden, createStatus);
        Assert.Equal("AccessDeniedException", createResponse.Headers.GetValues("x-amzn-ErrorType").Single());
        Assert.Contains(ApsActions.CreateRuleGroupsNamespace, createBody.GetProperty("message").GetString());
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Put, $"/workspaces/{_ws}/rulegroupsnamespaces/n", $$"""{"data":"{{B64(RuleFile)}}"}""", auth)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Delete, $"/workspaces/{_ws}/rulegroupsnamespaces/n", auth: auth)).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/alertmanager/definition", auth: auth)).Status);

        var writer = _f.Keys.Create(_ws, [ApsActions.PutRuleGroupsNamespace]);
        var (putStatus, _, _) = await Send(HttpMethod.Put, $"/workspaces/{_ws}/rulegroupsnamespaces/n", $$"""{"data":"{{B64(RuleFile)}}"}""",
            Http.Basic(writer.Key.AccessKeyId, writer.SecretAccessKey));
        Assert.Equal(HttpStatusCode.Accepted, putStatus);

        var other = (await _f.Registry.CreateAsync("other", null, null)).WorkspaceId;
        var otherKey = _f.Keys.Create(other, [ApsActions.All]);
        var (crossStatus, _, _) = await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/n", auth: Http.Basic(otherKey.Key.AccessKeyId, otherKey.SecretAccessKey));
        Assert.Equal(HttpStatusCode.Forbidden, crossStatus);
    }

    [Fact]
    public async Task Deleting_the_workspace_deletes_its_namespaces_and_its_Alertmanager_definition()
    {
        await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("a", RuleFile));
        await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("b", RuleFile));
        Assert.Equal(HttpStatusCode.Accepted, (await Send(HttpMethod.Post, $"/workspaces/{_ws}/alertmanager/definition",
            $$"""{"data":"{{B64(AlertManagerApiTests.Definition)}}"}""")).Status);
        string bucket = _f.Dir.File("bucket");
        Assert.Equal(3, Directory.GetFiles(Path.Combine(bucket, "tenancy"), "*.json", SearchOption.AllDirectories)
            .Count(f => f.Contains(_ws, StringComparison.Ordinal) && !f.Contains("workspaces", StringComparison.Ordinal)));

        // A namespace another component wrote that this one has not synced yet goes too.
        var elsewhereStore = _f.NewStore("elsewhere");
        await elsewhereStore.SyncAsync();
        await new Amphora.Tenancy.Rules.RulesRegistry(_f.Options, elsewhereStore).CreateNamespaceAsync(_ws, "c", Encoding.UTF8.GetBytes(RuleFile), null, null);
        Assert.Null(_f.Store.FindRuleGroupsNamespace(_ws, "c"));
        await _f.Registry.BeginDeleteAsync(_ws);
        await _f.Registry.WhenIdleAsync();

        Assert.Equal(HttpStatusCode.NotFound, (await Send(HttpMethod.Get, $"/workspaces/{_ws}/rulegroupsnamespaces/a")).Status);
        Assert.Empty(_f.Store.RuleGroupsNamespaces(_ws));
        Assert.Null(_f.Store.FindAlertManagerDefinition(_ws));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(bucket, "tenancy"), "*.json", SearchOption.AllDirectories), f => f.Contains(_ws, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Changes_are_refused_while_the_workspace_is_being_deleted()
    {
        var hooks = new BlockingHooks();
        using var f = new TenancyFixture(hooks: hooks);
        var ws = (await f.Registry.CreateAsync("x", null, null)).WorkspaceId;
        await f.Rules.CreateNamespaceAsync(ws, "n", Encoding.UTF8.GetBytes(RuleFile), null, null);
        await f.Registry.BeginDeleteAsync(ws);
        var e = await Assert.ThrowsAsync<TenancyException>(() => f.Rules.PutNamespaceAsync(ws, "n", Encoding.UTF8.GetBytes(RuleFile), null));
        Assert.Equal(409, e.HttpStatus);
        Assert.Contains("DELETING", e.Message);
        Assert.Equal("n", f.Rules.DescribeNamespace(ws, "n").Name);
        hooks.Release();
        await f.Registry.WhenIdleAsync();
        Assert.Empty(f.Store.RuleGroupsNamespaces(ws));
    }

    [Fact]
    public async Task Another_component_sees_a_namespace_after_its_next_sync()
    {
        await Send(HttpMethod.Post, $"/workspaces/{_ws}/rulegroupsnamespaces", Create("shared", RuleFile));
        var other = _f.NewStore("querier");
        await other.SyncAsync();
        var ns = other.FindRuleGroupsNamespace(_ws, "shared");
        Assert.NotNull(ns);
        Assert.Equal(RuleFile, Encoding.UTF8.GetString(ns.Data));
        Assert.Equal(TenancyLayout.RuleGroupsNamespace(_ws, "shared"), $"rulegroupsnamespaces/{_ws}/shared.json");
        Assert.Empty(other.Current.Invalid);
    }
}

/// <summary>Deletion hooks that hold a workspace in DELETING until the test releases them.</summary>
internal sealed class BlockingHooks : Amphora.Tenancy.Workspaces.IWorkspaceLifecycleHooks
{
    private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    public void Release() => _release.TrySetResult();
    public Task ProvisionAsync(Amphora.Tenancy.Workspaces.WorkspaceRecord workspace, CancellationToken ct) => Task.CompletedTask;
    public Task DeleteDataAsync(Amphora.Tenancy.Workspaces.WorkspaceRecord workspace, CancellationToken ct) => _release.Task;
}
