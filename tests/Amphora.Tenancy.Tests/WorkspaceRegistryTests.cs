using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.Tests;

public sealed class WorkspaceRegistryTests : IDisposable
{
    private readonly TenancyFixture _f = new(o => { o.Region = "eu-west-1"; o.Account = "123456789012"; });
    public void Dispose() => _f.Dispose();

    [Fact]
    public async Task A_new_workspace_is_created_then_active_with_an_AMP_style_id_and_arn()
    {
        var ws = await _f.Registry.CreateAsync("prod", new Dictionary<string, string> { ["team"] = "a" }, null);
        Assert.Matches("^ws-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", ws.WorkspaceId);
        Assert.Equal($"arn:aws:aps:eu-west-1:123456789012:workspace/{ws.WorkspaceId}", ws.Arn);
        Assert.Equal(WorkspaceStatusCode.Creating, ws.Status);
        var now = _f.Registry.Describe(ws.WorkspaceId);
        Assert.Equal(WorkspaceStatusCode.Active, now.Status);
        Assert.Equal(150, now.Configuration.RetentionPeriodInDays);
    }

    [Fact]
    public async Task A_retry_with_the_same_client_token_returns_the_same_workspace_and_different_parameters_conflict()
    {
        var first = await _f.Registry.CreateAsync("a", null, "token-1");
        var again = await _f.Registry.CreateAsync("a", null, "token-1");
        Assert.Equal(first.WorkspaceId, again.WorkspaceId);
        Assert.Single(_f.Registry.All());
        var e = await Assert.ThrowsAsync<TenancyException>(() => _f.Registry.CreateAsync("b", null, "token-1"));
        Assert.Equal(409, e.HttpStatus);
    }

    [Fact]
    public async Task Workspaces_survive_a_restart_and_another_component_sees_them_after_a_sync()
    {
        var ws = await _f.Registry.CreateAsync("kept", null, null);
        _f.Registry.UpdateConfiguration(ws.WorkspaceId, 30, null, null);
        var store = _f.NewStore("restarted");
        await store.StartAsync(CancellationToken.None);
        try
        {
            var loaded = new WorkspaceRegistry(_f.Options, store).Describe(ws.WorkspaceId);
            Assert.Equal("kept", loaded.Alias);
            Assert.Equal(30, loaded.Configuration.RetentionPeriodInDays);
            Assert.Equal(WorkspaceStatusCode.Active, loaded.Status);
        }
        finally
        {
            await store.StopAsync(CancellationToken.None);
        }
    }

    [Fact]
    public async Task The_workspaces_json_of_an_earlier_version_is_migrated_once_on_start_and_kept_as_migrated()
    {
        var present = await _f.Registry.CreateAsync("already shared", null, null);
        File.WriteAllText(_f.Registry.LegacyFilePath, $$$"""
            {"workspaces": [{"workspaceId": "team-x", "alias": "from the operator", "createdAt": "2026-01-01T00:00:00Z",
              "status": "ACTIVE", "configuration": {"retentionPeriodInDays": 7, "limitsPerLabelSet": []}},
              {"workspaceId": "{{{present.WorkspaceId}}}", "alias": "an older copy", "createdAt": "2026-01-01T00:00:00Z"}]}
            """);
        bool changed = false;
        _f.Registry.Changed += () => changed = true;
        await _f.Registry.StartAsync(CancellationToken.None);
        await _f.Registry.StopAsync(CancellationToken.None);
        Assert.True(changed);
        var ws = _f.Registry.Describe("team-x");
        Assert.Equal("arn:aws:aps:eu-west-1:123456789012:workspace/team-x", ws.Arn);
        Assert.Equal(7, ws.Configuration.RetentionPeriodInDays);
        Assert.Equal("already shared", _f.Registry.Describe(present.WorkspaceId).Alias); // what the shared state holds wins
        Assert.False(File.Exists(_f.Registry.LegacyFilePath));
        Assert.True(File.Exists(_f.Registry.LegacyFilePath + ".migrated"));
    }

    [Fact]
    public async Task A_broken_workspaces_json_of_an_earlier_version_stops_the_start_naming_the_file()
    {
        File.WriteAllText(_f.Registry.LegacyFilePath, "{ not json");
        var e = await Assert.ThrowsAsync<InvalidDataException>(() => _f.Registry.StartAsync(CancellationToken.None));
        Assert.Contains("workspaces.json: cannot migrate the workspaces of an earlier version", e.Message);
        Assert.True(File.Exists(_f.Registry.LegacyFilePath));
    }

    [Fact]
    public async Task Listing_pages_through_every_workspace_and_filters_by_alias_prefix()
    {
        for (int i = 0; i < 7; i++) await _f.Registry.CreateAsync(i % 2 == 0 ? $"prod-{i}" : $"dev-{i}", null, null);
        var seen = new List<string>();
        string? token = null;
        int pages = 0;
        do
        {
            var (page, next) = _f.Registry.List(null, 3, token);
            Assert.True(page.Count <= 3);
            seen.AddRange(page.Select(w => w.WorkspaceId));
            token = next;
            pages++;
        } while (token is not null);
        Assert.Equal(3, pages);
        Assert.Equal(7, seen.Distinct().Count());
        Assert.Equal(4, _f.Registry.List("prod-", null, null).Page.Count);
        Assert.Throws<TenancyException>(() => _f.Registry.List(null, 0, null));
        Assert.Throws<TenancyException>(() => _f.Registry.List(null, null, "garbage"));
    }

    [Fact]
    public async Task Configuration_updates_are_validated_as_AMP_does()
    {
        var id = (await _f.Registry.CreateAsync(null, null, null)).WorkspaceId;
        Assert.Equal(400, Assert.Throws<TenancyException>(() => _f.Registry.UpdateConfiguration(id, 0, null, null)).HttpStatus);
        Assert.Throws<TenancyException>(() => _f.Registry.UpdateConfiguration(id, 1096, null, null));
        Assert.Throws<TenancyException>(() => _f.Registry.UpdateConfiguration(id, null, null, null));
        Assert.Throws<TenancyException>(() => _f.Registry.UpdateConfiguration(id, null,
            [new LimitsPerLabelSet { LabelSet = new Dictionary<string, string> { ["bad-name"] = "x" }, Limits = new() { MaxSeries = 1 } }], null));
        Assert.Throws<TenancyException>(() => _f.Registry.UpdateConfiguration(id, null,
            [new LimitsPerLabelSet { LabelSet = new Dictionary<string, string> { ["team"] = "a" }, Limits = new() { MaxSeries = -1 } }], null));
        var ok = _f.Registry.UpdateConfiguration(id, 1095,
            [new LimitsPerLabelSet { LabelSet = new Dictionary<string, string> { ["team"] = "a" }, Limits = new() { MaxSeries = 10 } }], 600);
        Assert.Equal(1095, ok.RetentionPeriodInDays);
        Assert.Equal(600, ok.OutOfOrderTimeWindowInSeconds);
        Assert.Single(ok.LimitsPerLabelSet);
    }

    private sealed class RecordingHooks : IWorkspaceLifecycleHooks
    {
        public readonly TaskCompletionSource Release = new();
        public readonly List<string> Deleted = [];
        public Task ProvisionAsync(WorkspaceRecord workspace, CancellationToken ct) => Task.CompletedTask;
        public async Task DeleteDataAsync(WorkspaceRecord workspace, CancellationToken ct)
        {
            await Release.Task;
            lock (Deleted) Deleted.Add(workspace.WorkspaceId);
        }
    }

    [Fact]
    public async Task Deleting_marks_the_workspace_DELETING_until_its_data_is_removed()
    {
        var hooks = new RecordingHooks();
        using var f = new TenancyFixture(hooks: hooks);
        var id = (await f.Registry.CreateAsync("doomed", null, null)).WorkspaceId;
        f.Registry.BeginDelete(id);
        Assert.Equal(WorkspaceStatusCode.Deleting, f.Registry.Describe(id).Status);
        Assert.Equal(409, Assert.Throws<TenancyException>(() => f.Registry.UpdateAlias(id, "x")).HttpStatus);
        Assert.False(f.Registry.AcceptsData(id));
        hooks.Release.SetResult();
        await f.Registry.WhenIdleAsync();
        Assert.Equal([id], hooks.Deleted);
        Assert.Null(f.Registry.Find(id));
        Assert.Equal(404, Assert.Throws<TenancyException>(() => f.Registry.Describe(id)).HttpStatus);
    }

    [Fact]
    public async Task Where_another_component_completes_deletions_the_workspace_stays_DELETING_until_it_does()
    {
        var hooks = new RecordingHooks();
        hooks.Release.SetResult();
        using var f = new TenancyFixture(o => o.CompletesDeletion = false, hooks);
        var id = (await f.Registry.CreateAsync("doomed", null, null)).WorkspaceId;
        f.Registry.BeginDelete(id);
        await f.Registry.WhenIdleAsync();
        Assert.Equal([id], hooks.Deleted); // the deletion was requested (in a cluster: the bucket's workspace deletion mark)
        Assert.Equal(WorkspaceStatusCode.Deleting, f.Registry.Describe(id).Status);
        Assert.Equal([id], f.Registry.Deleting());
        await f.Registry.CompleteDeletionAsync(id); // the compactor, once the workspace's objects are gone
        Assert.Null(f.Registry.Find(id));
        await f.Registry.CompleteDeletionAsync(id); // again: nothing to do
    }

    [Fact]
    public async Task Tags_are_added_listed_and_removed_by_arn()
    {
        var ws = await _f.Registry.CreateAsync(null, new Dictionary<string, string> { ["a"] = "1" }, null);
        _f.Registry.TagResource(ws.Arn, new Dictionary<string, string> { ["b"] = "2" });
        Assert.Equal(2, _f.Registry.ListTags(ws.Arn).Count);
        _f.Registry.UntagResource(ws.Arn, ["a"]);
        Assert.Equal(["b"], _f.Registry.ListTags(ws.Arn).Keys);
        Assert.Throws<TenancyException>(() => _f.Registry.TagResource(ws.Arn, new Dictionary<string, string> { ["aws:x"] = "1" }));
        Assert.Equal(404, Assert.Throws<TenancyException>(() => _f.Registry.ListTags("arn:aws:aps:eu-west-1:123456789012:workspace/nope")).HttpStatus);
    }
}
