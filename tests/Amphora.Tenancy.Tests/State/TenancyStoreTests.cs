using Amphora.Bucket;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.State;
using Amphora.Tenancy.Workspaces;
using Xunit.Abstractions;

namespace Amphora.Tenancy.Tests.State;

/// <summary>
/// The shared tenancy state: stores of two components over one bucket, on every bucket kind (one subclass each). Each
/// store has a data dir of its own, as each component has.
/// </summary>
public abstract partial class TenancyStoreTests : IAsyncLifetime
{
    private readonly TempDir _dir = new();
    private readonly List<TenancyStore> _stores = [];

    /// <summary>A new client of the test's bucket, as another component would have.</summary>
    protected abstract IConditionalBucket NewClient();

    protected virtual string BucketName => "the test bucket";

    /// <summary>Where figures (races, conflicts) are printed.</summary>
    protected ITestOutputHelper? Output { get; init; }

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var store in _stores)
            if (store.State == Amphora.Services.ServiceState.Running) await store.StopAsync(CancellationToken.None);
        _dir.Dispose();
    }

    private TenancyStore Store(string component, IConditionalBucket? bucket = null, TimeSpan? interval = null, int maxAttempts = TenancyStore.DefaultMaxAttempts)
    {
        var store = new TenancyStore(bucket ?? NewClient(), BucketName, _dir.File(component), interval ?? TimeSpan.FromHours(1), maxAttempts);
        _stores.Add(store);
        return store;
    }

    private static WorkspaceRecord NewWorkspace(string id, string? alias = null) => new()
    {
        WorkspaceId = id,
        Arn = "arn:aws:aps:us-east-1:000000000000:workspace/" + id,
        Alias = alias,
        CreatedAt = DateTimeOffset.FromUnixTimeSeconds(1_700_000_000),
        Status = WorkspaceStatusCode.Active,
    };

    private static WorkspaceRecord WithTag(WorkspaceRecord ws, string key, string value) =>
        ws with { Tags = new Dictionary<string, string>(ws.Tags) { [key] = value } };

    [Fact]
    public async Task A_workspace_created_through_one_component_is_served_by_another_within_one_sync_interval()
    {
        var a = Store("a");
        var b = Store("b", interval: TimeSpan.FromMilliseconds(200));
        await a.StartAsync(CancellationToken.None);
        await b.StartAsync(CancellationToken.None);

        await a.UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1", "prod"));
        Assert.Equal("prod", a.FindWorkspace("ws-1")?.Alias); // the writer serves its own change at once

        await Eventually.HoldsAsync(() => b.FindWorkspace("ws-1")?.Alias == "prod", "component b to see ws-1");
        await a.UpdateWorkspaceAsync("ws-1", ws => ws! with { Configuration = ws.Configuration with { RetentionPeriodInDays = 30 } });
        await Eventually.HoldsAsync(() => b.FindWorkspace("ws-1")?.Configuration.RetentionPeriodInDays == 30, "component b to see the new retention");
        Assert.Equal(["ws-1"], b.Workspaces().Select(w => w.WorkspaceId));
    }

    [Fact]
    public async Task A_deleted_workspace_is_removed_from_the_bucket_and_forgotten_by_every_component()
    {
        var a = Store("a");
        var b = Store("b");
        await a.UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1"));
        await a.UpdateWorkspaceAsync("ws-2", _ => NewWorkspace("ws-2"));
        await b.SyncAsync();
        Assert.NotNull(b.FindWorkspace("ws-1"));

        Assert.Null(await b.UpdateWorkspaceAsync("ws-1", _ => null));
        Assert.Null(b.FindWorkspace("ws-1"));
        await a.SyncAsync();
        Assert.Null(a.FindWorkspace("ws-1"));
        Assert.Equal(["ws-2"], a.Workspaces().Select(w => w.WorkspaceId));
        Assert.Equal([TenancyStore.Prefix + "workspaces/ws-2.json"], await NewClient().ListAsync(TenancyStore.Prefix, recursive: true));
    }

    [Fact]
    public async Task Two_components_making_200_alternating_updates_of_one_workspace_lose_none_and_answer_each_lost_race_with_409()
    {
        var stores = new[] { Store("a"), Store("b") };
        await stores[0].UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1"));
        var applied = new int[2];
        var conflicts = new int[2];
        async Task RunAsync(int w)
        {
            string counter = "writer-" + w;
            for (int i = 0; i < 100; i++)
            {
                try
                {
                    // A read-modify-write: the new count depends on the count read.
                    await stores[w].UpdateWorkspaceAsync("ws-1", ws => WithTag(ws!, counter, (int.Parse(ws!.Tags.GetValueOrDefault(counter, "0")) + 1).ToString()));
                    applied[w]++;
                }
                catch (TenancyException e) when (e.Kind == TenancyErrorKind.Conflict)
                {
                    Assert.Equal((409, "ConflictException"), (e.HttpStatus, e.TypeName));
                    conflicts[w]++;
                }
            }
        }
        await Task.WhenAll(Task.Run(() => RunAsync(0)), Task.Run(() => RunAsync(1)));

        await stores[0].SyncAsync();
        var tags = stores[0].FindWorkspace("ws-1")!.Tags;
        Assert.Equal(applied[0].ToString(), tags["writer-0"]);
        Assert.Equal(applied[1].ToString(), tags["writer-1"]);
        Assert.Equal(200, applied.Sum() + conflicts.Sum());
        Output?.WriteLine($"applied {applied[0]} + {applied[1]}, answered 409: {conflicts[0]} + {conflicts[1]}, " +
                          $"changes computed again after a lost race: {stores[0].RacesLost} + {stores[1].RacesLost}");
    }

    [Fact]
    public async Task A_change_that_loses_every_race_is_answered_with_409_and_stores_nothing_of_it()
    {
        var plain = NewClient();
        var seed = Store("seed", plain);
        await seed.UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1", "before"));
        int n = 0;
        var overtaken = new OvertakenBucket(plain, TenancyStore.Prefix + "workspaces/ws-1.json", content =>
        {
            var ws = (WorkspaceRecord)TenancyLayout.Parse("workspaces/ws-1.json", TenancyObjectKind.Workspace, "ws-1", content);
            return TenancyLayout.Serialize(WithTag(ws, "other", (++n).ToString()));
        });
        var loser = Store("loser", overtaken);

        var e = await Assert.ThrowsAsync<TenancyException>(() => loser.UpdateWorkspaceAsync("ws-1", ws => ws! with { Alias = "mine" }));

        Assert.Equal((TenancyErrorKind.Conflict, 409), (e.Kind, e.HttpStatus));
        Assert.Contains("workspace ws-1", e.Message);
        Assert.Equal(TenancyStore.DefaultMaxAttempts, overtaken.Interferences);
        await seed.SyncAsync();
        var stored = seed.FindWorkspace("ws-1")!;
        Assert.Equal(("before", TenancyStore.DefaultMaxAttempts.ToString()), (stored.Alias, stored.Tags["other"]));
        Assert.Null(loser.FindWorkspace("ws-1")); // nothing of the refused change was published either
    }

    [Fact]
    public async Task A_change_refused_by_its_own_validation_stores_nothing()
    {
        var a = Store("a");
        await a.UpdateWorkspaceAsync("ws-1", _ => NewWorkspace("ws-1", "kept"));
        await Assert.ThrowsAsync<TenancyException>(() =>
            a.UpdateWorkspaceAsync("ws-1", _ => throw TenancyException.Validation("alias: too long")));
        var b = Store("b");
        await b.SyncAsync();
        Assert.Equal("kept", b.FindWorkspace("ws-1")?.Alias);
    }

    [Fact]
    public async Task An_access_key_and_its_disabling_reach_every_component_and_its_secret_stays_sealed()
    {
        using var master = new MasterKey(new byte[MasterKey.KeySize]);
        const string secret = "s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-40ch";
        var a = Store("a");
        var b = Store("b");
        var stored = new StoredAccessKey
        {
            Key = new AccessKeyInfo { AccessKeyId = "AKIATEST000000000001", WorkspaceId = "ws-1", Actions = ["aps:RemoteWrite"], CreatedAt = DateTimeOffset.UnixEpoch },
            SealedSecret = master.Seal(secret, "AKIATEST000000000001"),
        };
        await a.UpdateKeyAsync("AKIATEST000000000001", _ => stored);
        await b.SyncAsync();
        var seen = b.FindKey("AKIATEST000000000001")!;
        Assert.True(seen.Key.Enabled);
        Assert.Equal(secret, System.Text.Encoding.UTF8.GetString(master.Open(seen.SealedSecret, "AKIATEST000000000001")));

        await b.UpdateKeyAsync("AKIATEST000000000001", k => k! with { Key = k.Key with { Enabled = false } });
        await a.SyncAsync();
        Assert.False(a.FindKey("AKIATEST000000000001")!.Key.Enabled);

        byte[] inBucket = await NewClient().GetAsync(TenancyStore.Prefix + "access-keys/AKIATEST000000000001.json");
        Assert.DoesNotContain(secret, System.Text.Encoding.UTF8.GetString(inBucket));
        Assert.DoesNotContain(secret, await File.ReadAllTextAsync(a.CacheFile));
        if (!OperatingSystem.IsWindows())
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(a.CacheFile));
    }
}
