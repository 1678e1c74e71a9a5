using Amphora.Bucket;
using Amphora.Bucket.Tests;
using Amphora.Storage;
using Amphora.Tsdb.Blocks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Compactor.Tests;

public sealed class CompactorServiceTests(S3ServerFixture s3) : IClassFixture<S3ServerFixture>, IDisposable
{
    private const long M = 60_000;
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-compactor-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private CompactorService Compactor(IBucket bucket, Func<string, TimeSpan>? retention = null, TimeSpan? deletionDelay = null,
        string name = "compactor-0", params string[] members) =>
        new(bucket, new CompactorOptions
        {
            Ranges = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3)],
            ConsistencyDelay = TimeSpan.Zero,
            DeletionDelay = deletionDelay ?? TimeSpan.FromHours(1),
            WorkDir = Path.Combine(_dir, "work-" + name),
            Name = name,
            Members = members,
        }, retention ?? (_ => TimeSpan.FromDays(150)), NullLogger<CompactorService>.Instance);

    private static long Recent => (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60 * M) / M * M;

    [Fact]
    public async Task Each_pass_publishes_the_bytes_a_workspace_holds_in_the_bucket()
    {
        using var exporter = new Amphora.Metrics.MetricsExporter();
        string root = Path.Combine(_dir, "bucket"), ws = "stored-" + Guid.NewGuid().ToString("N")[..8];
        var bucket = new FilesystemBucket(root);
        long t0 = Recent;
        await TestBlocks.UploadAsync(bucket, ws, TestBlocks.Data(20, t0, t0 + M), t0, t0 + M, "ingester-0");
        await TestBlocks.UploadAsync(bucket, ws, TestBlocks.Data(20, t0, t0 + M), t0, t0 + M, "ingester-1");
        await Compactor(bucket).RunOnceAsync();

        // What the files under the workspace's folder weigh, read from the filesystem, not through the bucket.
        long expected = Directory.EnumerateFiles(Path.Combine(root, ws), "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        string prefix = $"amphora_compactor_stored_bytes{{workspace=\"{ws}\"}} ";
        string? line = exporter.Scrape().Split('\n').FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal));
        Assert.True(line is not null, "no stored-bytes series for the workspace");
        Assert.True(expected > 0);
        Assert.Equal(expected, long.Parse(line[prefix.Length..], System.Globalization.CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task A_workspace_deleted_in_the_tenancy_state_keeps_its_objects_through_the_grace_then_loses_them_and_its_record()
    {
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        long t0 = Recent;
        await TestBlocks.UploadAsync(bucket, "gone", TestBlocks.Data(5, t0, t0 + M), t0, t0 + M, "ingester-0");
        var clock = new ManualClock(DateTimeOffset.UtcNow);
        var completed = new List<string>();
        var compactor = new CompactorService(bucket, new CompactorOptions
        {
            Ranges = [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(3)],
            WorkDir = Path.Combine(_dir, "work"),
            WorkspaceDeletionGrace = TimeSpan.FromSeconds(30),
        }, _ => TimeSpan.FromDays(150), NullLogger<CompactorService>.Instance, clock)
        {
            DeletingWorkspaces = () => ["gone"],
            WorkspaceDeleted = (ws, _) => { completed.Add(ws); return Task.CompletedTask; },
        };

        // Within the grace: readers are told to stop (the deletion mark), the ingesters have time to drop it, nothing goes.
        await compactor.RunOnceAsync();
        clock.Advance(TimeSpan.FromSeconds(29));
        await compactor.RunOnceAsync();
        var objects = await bucket.ListAsync("gone/", recursive: true);
        Assert.Contains(BucketLayout.WorkspaceDeletionMark("gone"), objects);
        Assert.Contains(objects, o => o.EndsWith("/meta.json", StringComparison.Ordinal));
        Assert.Empty(completed);

        clock.Advance(TimeSpan.FromSeconds(1));
        await compactor.RunOnceAsync();
        Assert.Empty(await bucket.ListAsync("gone/", recursive: true));
        Assert.Equal(["gone"], completed);
    }

    [Fact]
    public async Task Three_replicas_become_one_block_with_each_sample_once_and_reads_agree_before_and_after()
    {
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        long t0 = Recent;
        var full = TestBlocks.Data(50, t0, t0 + M);
        // Replicas differ a little: one missed some samples (it was restarting), the union is the truth.
        await TestBlocks.UploadAsync(bucket, "ws", full, t0, t0 + M, "ingester-0");
        await TestBlocks.UploadAsync(bucket, "ws", full, t0, t0 + M, "ingester-1");
        await TestBlocks.UploadAsync(bucket, "ws", TestBlocks.Data(50, t0, t0 + M, skipEvery: 3), t0, t0 + M, "ingester-2");
        var before = await TestBlocks.ReadAsync(bucket, "ws");
        TestBlocks.AssertSame(full, before);

        var compactor = Compactor(bucket);
        await compactor.RunOnceAsync();
        var blocks = await TestBlocks.BlocksAsync(bucket, "ws");
        var output = Assert.Single(blocks, b => b.Compaction.Level == 2);
        Assert.Equal(3, output.Compaction.Sources.Count);
        Assert.Equal(full.Values.Sum(s => s.Count), output.Stats.NumSamples);
        Assert.Equal(3, (await bucket.ListAsync("ws/", recursive: true)).Count(n => n.EndsWith("/" + BucketLayout.DeletionMarkFile, StringComparison.Ordinal)));
        TestBlocks.AssertSame(full, await TestBlocks.ReadAsync(bucket, "ws"));

        // The bucket index lists all four blocks and the three marks; readers use it instead of listing.
        var index = BucketIndex.Parse(await bucket.GetAsync(BucketLayout.Index("ws")));
        Assert.Equal(4, index.Blocks.Count);
        Assert.Equal(3, index.DeletionMarks.Count);

        // After the deletion delay the inputs go; reads still agree.
        await Compactor(bucket, deletionDelay: TimeSpan.Zero).RunOnceAsync();
        Assert.Equal([output.Ulid], (await TestBlocks.BlocksAsync(bucket, "ws")).Select(b => b.Ulid));
        Assert.Equal(1, (await bucket.ListAsync("ws/")).Count(e => e.EndsWith('/')));
        TestBlocks.AssertSame(full, await TestBlocks.ReadAsync(bucket, "ws"));
    }

    [Fact]
    public async Task Adjacent_blocks_are_compacted_into_the_next_range()
    {
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        long t0 = Recent / (3 * M) * (3 * M);
        var expected = new SortedDictionary<Amphora.Model.Labels, List<(long, double)>>();
        for (int i = 0; i < 4; i++)
        {
            var data = TestBlocks.Data(20, t0 + i * M, t0 + (i + 1) * M);
            await TestBlocks.UploadAsync(bucket, "ws", data, t0 + i * M, t0 + (i + 1) * M, "ingester-0");
            foreach (var (l, s) in data) { if (!expected.TryGetValue(l, out var list)) expected[l] = list = new(); list.AddRange(s); }
        }
        await Compactor(bucket, deletionDelay: TimeSpan.Zero).RunOnceAsync();
        var blocks = (await TestBlocks.BlocksAsync(bucket, "ws")).OrderBy(b => b.MinTime).ToList();
        Assert.Equal([(t0, t0 + 3 * M, 2), (t0 + 3 * M, t0 + 4 * M, 1)], blocks.Select(b => (b.MinTime, b.MaxTime, b.Compaction.Level)));
        TestBlocks.AssertSame(expected, await TestBlocks.ReadAsync(bucket, "ws"));
    }

    [Fact]
    public async Task Retention_removes_old_blocks_and_hides_old_samples_while_a_longer_retention_keeps_them()
    {
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        long old = Recent - 180 * M, recent = Recent;
        foreach (var ws in new[] { "short", "long" })
        {
            await TestBlocks.UploadAsync(bucket, ws, TestBlocks.Data(10, old, old + M), old, old + M, "ingester-0");
            await TestBlocks.UploadAsync(bucket, ws, TestBlocks.Data(10, recent, recent + M), recent, recent + M, "ingester-0");
        }
        TimeSpan Retention(string ws) => ws == "short" ? TimeSpan.FromHours(1) : TimeSpan.FromDays(150);
        await Compactor(bucket, Retention, TimeSpan.Zero).RunOnceAsync();

        Assert.Equal([recent], (await TestBlocks.BlocksAsync(bucket, "short")).Select(b => b.MinTime));
        Assert.Equal([old, recent], (await TestBlocks.BlocksAsync(bucket, "long")).Select(b => b.MinTime).Order());
        var store = new BucketBlockStore(bucket, TimeSpan.Zero, NullLogger.Instance);
        var shortRead = await TestBlocks.ReadAsync(bucket, "short", new RetentionWorkspaceQueryable(store, Retention));
        Assert.All(shortRead.Values.SelectMany(s => s), s => Assert.True(s.T >= recent));
        var longRead = await TestBlocks.ReadAsync(bucket, "long", new RetentionWorkspaceQueryable(store, Retention));
        Assert.Contains(longRead.Values.SelectMany(s => s), s => s.T < old + M);
    }

    [Fact]
    public async Task Retention_hides_samples_older_than_it_even_before_their_block_is_deleted()
    {
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        long start = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / M * M - 90 * M; // 90 to 30 minutes ago
        await TestBlocks.UploadAsync(bucket, "ws", TestBlocks.Data(5, start, start + 60 * M), start, start + 60 * M, "ingester-0");
        var store = new BucketBlockStore(bucket, TimeSpan.Zero, NullLogger.Instance);
        var read = await TestBlocks.ReadAsync(bucket, "ws", new RetentionWorkspaceQueryable(store, _ => TimeSpan.FromHours(1)));
        long cutoff = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 60 * M;
        Assert.NotEmpty(read.Values.SelectMany(s => s));
        Assert.All(read.Values.SelectMany(s => s), s => Assert.True(s.T >= cutoff - 5_000, $"sample at {s.T} is older than the retention"));
    }

    [Fact]
    public async Task Deleting_a_workspace_removes_its_objects_from_a_filesystem_bucket_and_leaves_others_alone()
    {
        await DeleteWorkspaceAsync(new FilesystemBucket(Path.Combine(_dir, "bucket")));
    }

    [Fact]
    public async Task Deleting_a_workspace_removes_its_objects_from_an_S3_bucket_and_leaves_others_alone()
    {
        await DeleteWorkspaceAsync(s3.NewBucket());
    }

    private async Task DeleteWorkspaceAsync(IBucket bucket)
    {
        long t0 = Recent;
        foreach (var ws in new[] { "doomed", "other" })
        {
            await TestBlocks.UploadAsync(bucket, ws, TestBlocks.Data(10, t0, t0 + M), t0, t0 + M, "ingester-0");
            await TestBlocks.UploadAsync(bucket, ws, TestBlocks.Data(10, t0, t0 + M), t0, t0 + M, "ingester-1");
        }
        await Compactor(bucket).RunOnceAsync(); // both compacted and indexed
        int otherObjects = (await bucket.ListAsync("other/", recursive: true)).Count;

        await bucket.UploadAsync(BucketLayout.WorkspaceDeletionMark("doomed"), new MemoryStream("{}"u8.ToArray()));
        Assert.Empty(await TestBlocks.ReadAsync(bucket, "doomed")); // unqueryable as soon as it is marked
        await Compactor(bucket).RunOnceAsync();

        Assert.Empty(await bucket.ListAsync("doomed/", recursive: true));
        Assert.Equal(otherObjects, (await bucket.ListAsync("other/", recursive: true)).Count);
        Assert.Equal(10, (await TestBlocks.ReadAsync(bucket, "other")).Count);
    }

    [Fact]
    public async Task The_tenancy_state_beside_the_workspaces_is_never_taken_for_a_workspace()
    {
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        long t0 = Recent;
        await TestBlocks.UploadAsync(bucket, "ws-a", TestBlocks.Data(10, t0, t0 + M), t0, t0 + M, "ingester-0");
        await bucket.PutIfVersionAsync("tenancy/workspaces/ws-a.json", "{}"u8.ToArray(), null);
        Assert.Equal(["tenancy/", "ws-a/"], await bucket.ListAsync(""));

        await Compactor(bucket).RunOnceAsync();

        Assert.Equal(["tenancy/workspaces/ws-a.json"], await bucket.ListAsync("tenancy/", recursive: true)); // no index, no marks
        Assert.True(await bucket.ExistsAsync(BucketLayout.Index("ws-a")), "the workspace beside it was compacted and indexed");
        Assert.Throws<Amphora.Model.InvalidWorkspaceIdException>(() => BucketLayout.WorkspacePrefix("tenancy"));
    }

    [Fact]
    public async Task Two_replicas_split_the_workspaces_and_never_compact_the_same_one()
    {
        var bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));
        var a = Compactor(bucket, name: "compactor-a", members: ["compactor-a", "compactor-b"]);
        var b = Compactor(bucket, name: "compactor-b", members: ["compactor-a", "compactor-b"]);
        var workspaces = Enumerable.Range(0, 20).Select(i => "ws-" + i).ToList();
        Assert.All(workspaces, ws => Assert.True(a.Owns(ws) ^ b.Owns(ws), $"{ws} must have exactly one owner"));
        Assert.Contains(workspaces, a.Owns);
        Assert.Contains(workspaces, b.Owns);
    }
}
