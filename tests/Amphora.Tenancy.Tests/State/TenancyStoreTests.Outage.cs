using Amphora.Tenancy.State;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.Tests.State;

// The bucket unreachable: start from the cache file, keep serving, refuse changes with 500 naming the bucket, recover.
public abstract partial class TenancyStoreTests
{
    [Fact]
    public async Task A_component_starts_from_its_cache_while_the_bucket_is_unreachable_refuses_changes_naming_it_and_recovers()
    {
        var first = Store("component");
        await first.StartAsync(CancellationToken.None);
        await first.UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1", "cached"));
        await first.SyncAsync(); // the cache file now holds ws-1
        await first.StopAsync(CancellationToken.None);

        var bucket = new SwitchableBucket(NewClient()) { Down = true };
        var restarted = Store("component", bucket, interval: TimeSpan.FromMilliseconds(100));
        await restarted.StartAsync(CancellationToken.None);

        Assert.Equal("cached", restarted.FindWorkspace("ws-1")?.Alias);
        Assert.IsType<HttpRequestException>(restarted.LastSyncError);
        var e = await Assert.ThrowsAsync<TenancyException>(() => restarted.UpdateWorkspaceAsync("ws-1", ws => ws! with { Alias = "changed" }));
        Assert.Equal((TenancyErrorKind.Unavailable, 500, "InternalServerException"), (e.Kind, e.HttpStatus, e.TypeName));
        Assert.Contains(BucketName, e.Message);
        Assert.Contains("nothing was changed", e.Message);

        // Meanwhile another component changes the state; once the bucket answers again, the restarted one catches up.
        var other = Store("other");
        await other.UpdateWorkspaceAsync("ws-2", _ => NewWorkspace("ws-2"));
        bucket.Down = false;
        await Eventually.HoldsAsync(() => restarted.FindWorkspace("ws-2") is not null && restarted.LastSyncError is null, "the restarted component to sync");
        Assert.Equal("cached", restarted.FindWorkspace("ws-1")?.Alias);
    }

    [Fact]
    public async Task A_component_without_a_cache_starts_empty_while_the_bucket_is_unreachable()
    {
        var store = Store("fresh", new SwitchableBucket(NewClient()) { Down = true });
        await store.StartAsync(CancellationToken.None);
        Assert.Empty(store.Workspaces());
        Assert.NotNull(store.LastSyncError);
    }

    [Fact]
    public async Task An_unreadable_cache_file_is_set_aside_and_the_state_comes_from_the_bucket()
    {
        var a = Store("a");
        await a.UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1"));
        Directory.CreateDirectory(_dir.File("b"));
        await File.WriteAllTextAsync(Path.Combine(_dir.File("b"), TenancyStore.CacheFileName), "{ not json");
        var b = Store("b");
        await b.StartAsync(CancellationToken.None);
        Assert.NotNull(b.FindWorkspace("ws-1"));
    }

    [Fact]
    public async Task An_object_that_is_not_a_valid_workspace_is_ignored_and_named_while_the_others_are_served()
    {
        var a = Store("a");
        await a.UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1"));
        await NewClient().UploadAsync(TenancyStore.Prefix + "workspaces/ws-broken.json", new MemoryStream("{ not json"u8.ToArray()));
        await NewClient().UploadAsync(TenancyStore.Prefix + "workspaces/ws-other.json", new MemoryStream(TenancyLayout.Serialize(NewWorkspace("ws-1"))));

        await a.SyncAsync();

        Assert.Equal(["ws-1"], a.Workspaces().Select(w => w.WorkspaceId));
        Assert.Equal(["workspaces/ws-broken.json", "workspaces/ws-other.json"], a.Current.Invalid.Select(i => i.Name).Order(StringComparer.Ordinal));
        var e = await Assert.ThrowsAsync<TenancyException>(() => a.UpdateWorkspaceAsync("ws-broken", ws => ws));
        Assert.Equal(TenancyErrorKind.Unavailable, e.Kind);
        Assert.Contains("workspaces/ws-broken.json", e.Message);
    }
}
