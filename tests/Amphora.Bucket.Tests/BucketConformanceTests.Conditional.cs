using System.Text;
using System.Text.Json;

namespace Amphora.Bucket.Tests;

// The IConditionalBucket contract (read-modify-write guarded by a version), on every implementation.
public abstract partial class BucketConformanceTests
{
    /// <summary>Another client of the same storage, as a second component of a cluster would have.</summary>
    protected abstract IConditionalBucket SecondWriter();

    private IConditionalBucket Conditional => (IConditionalBucket)Bucket;

    private static string Text(VersionedObject? o) => Encoding.UTF8.GetString(o!.Content);

    [Fact]
    public async Task A_conditional_write_happens_only_at_the_version_it_was_computed_from()
    {
        string v1 = await Conditional.PutIfVersionAsync("tenancy/ws.json", "one"u8.ToArray(), null);
        var conflict = await Assert.ThrowsAsync<VersionConflictException>(() => Conditional.PutIfVersionAsync("tenancy/ws.json", "again"u8.ToArray(), null));
        Assert.Equal("tenancy/ws.json", conflict.Name);
        Assert.Null(conflict.ExpectedVersion);
        string v2 = await Conditional.PutIfVersionAsync("tenancy/ws.json", "two"u8.ToArray(), v1);
        Assert.NotEqual(v1, v2);
        await Assert.ThrowsAsync<VersionConflictException>(() => Conditional.PutIfVersionAsync("tenancy/ws.json", "stale"u8.ToArray(), v1));

        var read = await Conditional.GetVersionedAsync("tenancy/ws.json");
        Assert.Equal("two", Text(read));
        Assert.Equal(v2, read!.Version);
        Assert.Equal("two"u8.ToArray(), await Bucket.GetAsync("tenancy/ws.json")); // an ordinary object to every other reader
        Assert.Equal(["tenancy/ws.json"], await Bucket.ListAsync("tenancy/", recursive: true));
    }

    [Fact]
    public async Task A_conditional_delete_happens_only_at_the_version_it_was_computed_from()
    {
        string v1 = await Conditional.PutIfVersionAsync("tenancy/keys/a.json", "one"u8.ToArray(), null);
        string v2 = await Conditional.PutIfVersionAsync("tenancy/keys/a.json", "two"u8.ToArray(), v1);

        await Assert.ThrowsAsync<VersionConflictException>(() => Conditional.DeleteIfVersionAsync("tenancy/keys/a.json", v1));
        Assert.Equal("two", Text(await Conditional.GetVersionedAsync("tenancy/keys/a.json")));
        await Conditional.DeleteIfVersionAsync("tenancy/keys/a.json", v2);

        Assert.Null(await Conditional.GetVersionedAsync("tenancy/keys/a.json"));
        Assert.False(await Bucket.ExistsAsync("tenancy/keys/a.json"));
        Assert.Empty(await Bucket.ListAsync("tenancy/", recursive: true));
        Assert.Empty(await Bucket.ListAsync(""));
        await Assert.ThrowsAsync<VersionConflictException>(() => Conditional.DeleteIfVersionAsync("tenancy/keys/a.json", v2));
        await Assert.ThrowsAsync<VersionConflictException>(() => Conditional.DeleteIfVersionAsync("tenancy/never.json", v2));
    }

    [Fact]
    public async Task A_missing_object_reads_as_null_and_can_be_created_again_after_a_delete()
    {
        Assert.Null(await Conditional.GetVersionedAsync("tenancy/missing.json"));
        Assert.Null(await Conditional.GetVersionedAsync("nowhere/at/all.json"));
        string v1 = await Conditional.PutIfVersionAsync("tenancy/x.json", "first"u8.ToArray(), null);
        await Conditional.DeleteIfVersionAsync("tenancy/x.json", v1);
        await Conditional.PutIfVersionAsync("tenancy/x.json", "second"u8.ToArray(), null);
        Assert.Equal("second", Text(await Conditional.GetVersionedAsync("tenancy/x.json")));
    }

    [Fact]
    public async Task A_write_of_another_client_is_seen_and_a_write_computed_before_it_is_refused()
    {
        var other = SecondWriter();
        string v1 = await Conditional.PutIfVersionAsync("tenancy/ws.json", "mine"u8.ToArray(), null);
        var seen = await other.GetVersionedAsync("tenancy/ws.json");
        Assert.Equal(v1, seen!.Version);
        string v2 = await other.PutIfVersionAsync("tenancy/ws.json", "theirs"u8.ToArray(), v1);

        await Assert.ThrowsAsync<VersionConflictException>(() => Conditional.PutIfVersionAsync("tenancy/ws.json", "mine again"u8.ToArray(), v1));
        var now = await Conditional.GetVersionedAsync("tenancy/ws.json");
        Assert.Equal(("theirs", v2), (Text(now), now!.Version));
    }

    [Fact]
    public async Task The_bucket_passes_the_conditional_write_probe_and_the_probe_leaves_nothing_behind()
    {
        Assert.Null(await ConditionalWrites.ProbeAsync(Conditional, "tenancy/"));
        Assert.Empty(await Bucket.ListAsync("tenancy/", recursive: true));
    }

    [Fact]
    public async Task Two_writers_making_200_alternating_read_modify_writes_of_one_object_lose_no_update()
    {
        var writers = new[] { Conditional, SecondWriter() };
        async Task RunAsync(int writer)
        {
            for (int i = writer; i < 200; i += 2)
            {
                while (true)
                {
                    var current = await writers[writer].GetVersionedAsync("tenancy/counter.json");
                    var list = current is null ? new List<int>() : JsonSerializer.Deserialize<List<int>>(current.Content)!;
                    list.Add(i);
                    try
                    {
                        await writers[writer].PutIfVersionAsync("tenancy/counter.json", JsonSerializer.SerializeToUtf8Bytes(list), current?.Version);
                        break;
                    }
                    catch (VersionConflictException)
                    {
                        // The other writer got there first: read again and compute the change from its version.
                    }
                }
            }
        }
        await Task.WhenAll(Task.Run(() => RunAsync(0)), Task.Run(() => RunAsync(1)));

        var final = JsonSerializer.Deserialize<List<int>>((await Conditional.GetVersionedAsync("tenancy/counter.json"))!.Content)!;
        final.Sort();
        Assert.Equal(Enumerable.Range(0, 200), final);
    }
}
