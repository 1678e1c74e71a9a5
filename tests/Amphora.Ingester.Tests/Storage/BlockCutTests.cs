using Amphora.Bucket;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Blocks;
using Amphora.Ingester.Storage;
using Amphora.Tsdb.Tests.Blocks;
using Microsoft.Extensions.Logging.Abstractions;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Ingester.Tests.Storage;

/// <summary>Blocks cut from the head: same answers before and after, WAL checkpointed, restart-safe, uploaded to the bucket.</summary>
public sealed class BlockCutTests : IDisposable
{
    private const long Range = 600_000; // 10-minute blocks
    private readonly string _dir = Directory.CreateTempSubdirectory("amphora-cut-").FullName;
    private string DataDir => Path.Combine(_dir, "data");
    private readonly FilesystemBucket _bucket;

    public BlockCutTests() => _bucket = new FilesystemBucket(Path.Combine(_dir, "bucket"));

    public void Dispose()
    {
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    private Task<TsdbStorage> OpenAsync(TimeSpan? localRetention = null) => TsdbStorage.OpenAsync(DataDir, new TsdbOptions
    {
        BlockRange = TimeSpan.FromMilliseconds(Range),
        CutInterval = TimeSpan.Zero,
        Bucket = _bucket,
        LocalBlockRetention = localRetention ?? TimeSpan.FromHours(1),
        IngesterName = "ingester-test",
        WalSegmentSize = 64 << 10,
    }, NullLogger.Instance);

    private static readonly LabelMatcher All = LabelMatcher.Create(MatchType.Regex, "__name__", ".+");

    private static async Task<Dictionary<Labels, List<(long T, double V)>>> ReadAsync(IQueryable queryable)
    {
        using var q = queryable.Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [All]);
        var result = new Dictionary<Labels, List<(long, double)>>();
        while (set.Next()) result[set.At().Labels] = BlockTestData.Samples(set.At().Iterator());
        Assert.Null(set.Err);
        return result;
    }

    private static void AssertSame(Dictionary<Labels, List<(long T, double V)>> expected, Dictionary<Labels, List<(long T, double V)>> actual)
    {
        Assert.Equal(expected.Count, actual.Count);
        foreach (var (labels, samples) in expected) BlockTestData.AssertSameSamples(samples, actual[labels], labels.ToString());
    }

    /// <summary>50 series over 40 minutes at 15 s, written in 30 s batches as Prometheus would, plus out-of-order samples
    /// (inside the 1-minute window) at the half-minute points of one series.</summary>
    private static async Task WriteAsync(TsdbStorage storage, string workspace, long from, long to)
    {
        for (long t = from; t < to; t += 30_000)
        {
            var appender = storage.Appender(workspace);
            for (int s = 0; s < 50; s++)
            {
                var labels = Labels.FromStrings("__name__", "m" + (s % 5), "instance", "i" + s);
                for (long u = t; u < t + 30_000; u += 15_000)
                {
                    ulong r = 0;
                    Assert.Equal(AppendStatus.Ok, appender.Append(ref r, labels, u, s * 1000 + u / 15_000 % 97));
                }
            }
            await appender.CommitAsync();
            if (t > from)
            {
                var late = storage.Appender(workspace);
                ulong r = 0;
                Assert.Equal(AppendStatus.Ok, late.Append(ref r, Labels.FromStrings("__name__", "m0", "instance", "i0"), t - 7_500, -1));
                await late.CommitAsync();
            }
        }
    }

    [Fact]
    public async Task Cutting_blocks_keeps_every_answer_and_a_restart_gives_the_same_again()
    {
        const long start = 1_700_000_400_000; // a multiple of the range
        Dictionary<Labels, List<(long, double)>> before;
        using (var storage = await OpenAsync())
        {
            await WriteAsync(storage, "ws", start, start + 40 * 60_000);
            before = await ReadAsync(storage.ForWorkspace("ws"));
            Assert.Equal(50, before.Count);
            Assert.Equal(160 + 79, before[Labels.FromStrings("__name__", "m0", "instance", "i0")].Count);

            // The head spans 40 minutes: [0,10), [10,20) and [20,30) start at least 1.5 ranges before the newest sample.
            Assert.Equal(3, await storage.CutBlocksAsync());
            Assert.Equal(0, await storage.CutBlocksAsync());
            AssertSame(before, await ReadAsync(storage.ForWorkspace("ws")));

            // The head forgot the cut ranges and refuses samples in them.
            var appender = storage.Appender("ws");
            ulong r = 0;
            Assert.Equal(AppendStatus.TooOld, appender.Append(ref r, Labels.FromStrings("__name__", "m0", "instance", "i0"), start + 3 * Range - 1, 1));
            appender.Rollback();

            // Uploaded: complete blocks in the bucket, and readable from there.
            var store = new BucketBlockStore(_bucket, TimeSpan.Zero, NullLogger.Instance);
            var blocks = await store.BlocksAsync("ws");
            Assert.Equal([start, start + Range, start + 2 * Range], blocks.Select(b => b.Meta.MinTime));
            Assert.All(blocks, b => Assert.Equal("ingester-test", b.Meta.Amphora!.Ingester));
            var fromBucket = await ReadAsync(store.ForWorkspace("ws"));
            var expectedInBlocks = before.ToDictionary(kv => kv.Key, kv => kv.Value.Where(s => s.Item1 < start + 3 * Range).ToList());
            AssertSame(expectedInBlocks, fromBucket);
            AssertSame(before, await ReadAsync(new MergeQueryable(storage.ForWorkspace("ws"), store.ForWorkspace("ws"))));
        }

        // The WAL was checkpointed: old segments are gone, and a restart neither loses nor duplicates anything.
        var walDir = Path.Combine(DataDir, "wal");
        Assert.Single(Directory.GetDirectories(walDir, "checkpoint.*"));
        using (var storage = await OpenAsync())
        {
            AssertSame(before, await ReadAsync(storage.ForWorkspace("ws")));
            var appender = storage.Appender("ws");
            ulong r = 0;
            Assert.Equal(AppendStatus.TooOld, appender.Append(ref r, Labels.FromStrings("__name__", "m0", "instance", "i0"), start + 3 * Range - 1, 1));
            appender.Rollback();
            // More data, another cut, another checkpoint, another restart.
            await WriteAsync(storage, "ws", start + 40 * 60_000, start + 50 * 60_000);
            before = await ReadAsync(storage.ForWorkspace("ws"));
            Assert.Equal(1, await storage.CutBlocksAsync());
        }
        using (var storage = await OpenAsync())
            AssertSame(before, await ReadAsync(storage.ForWorkspace("ws")));
    }

    [Fact]
    public async Task A_cut_block_is_what_promtool_dumps_and_uploaded_blocks_leave_local_disk_after_their_retention()
    {
        const long start = 1_700_000_400_000;
        using var storage = await OpenAsync(localRetention: TimeSpan.Zero);
        await WriteAsync(storage, "ws", start, start + 16 * 60_000);
        var expected = (await ReadAsync(storage.ForWorkspace("ws")))
            .ToDictionary(kv => BlockTestData.DumpKey(kv.Key), kv => kv.Value.Where(s => s.Item1 < start + Range).ToList());
        Assert.Equal(1, await storage.CutBlocksAsync());

        var localBlock = Directory.GetDirectories(Path.Combine(DataDir, "blocks", "ws")).Single();
        var copy = Path.Combine(_dir, "promtool", Path.GetFileName(localBlock));
        Directory.CreateDirectory(Path.Combine(_dir, "promtool", "wal"));
        Directory.CreateDirectory(Path.Combine(copy, "chunks"));
        foreach (var f in Directory.GetFiles(localBlock, "*", SearchOption.AllDirectories))
            File.Copy(f, Path.Combine(copy, Path.GetRelativePath(localBlock, f)));
        var dumped = BlockTestData.ParseDump(BlockTestData.Promtool("tsdb", "dump", Path.Combine(_dir, "promtool")));
        Assert.Equal(expected.Keys.Order(), dumped.Keys.Order());
        foreach (var (key, samples) in expected) BlockTestData.AssertSameSamples(samples, dumped[key], key);

        // Uploaded on the cut; the next cycle finds the retention (zero here) passed and removes the local copy, while the
        // bucket keeps answering.
        await storage.CutBlocksAsync();
        Assert.False(Directory.Exists(localBlock));
        var store = new BucketBlockStore(_bucket, TimeSpan.Zero, NullLogger.Instance);
        var merged = await ReadAsync(new MergeQueryable(storage.ForWorkspace("ws"), store.ForWorkspace("ws")));
        Assert.Equal(expected.Values.Sum(s => s.Count), merged.Values.Sum(s => s.Count(x => x.Item1 < start + Range)));
    }

    [Fact]
    public async Task A_corrupt_block_in_the_bucket_is_skipped_with_a_warning_and_never_fails_the_query()
    {
        const long start = 1_700_000_400_000;
        using (var storage = await OpenAsync())
        {
            await WriteAsync(storage, "ws", start, start + 26 * 60_000);
            Assert.Equal(2, await storage.CutBlocksAsync());
        }
        var names = await _bucket.ListAsync("ws/");
        // First block: index damaged (found when queried). Second block: meta.json damaged (found when listed).
        var index = await _bucket.GetAsync(names[0] + "index");
        index[10] ^= 0xFF; // in the symbol table
        await _bucket.UploadAsync(names[0] + "index", new MemoryStream(index));
        await _bucket.UploadAsync(names[1] + "meta.json", new MemoryStream("{not json"u8.ToArray()));

        var store = new BucketBlockStore(_bucket, TimeSpan.Zero, NullLogger.Instance);
        using var q = store.ForWorkspace("ws").Querier(long.MinValue, long.MaxValue);
        var set = await q.SelectAsync(true, null, [All]);
        Assert.False(set.Next());
        Assert.Null(set.Err);
        Assert.Contains(set.Warnings, w => w.Contains(names[0].Split('/')[1], StringComparison.Ordinal));
        Assert.Empty(await store.BlocksAsync("ws")); // both are skipped from now on
    }

    [Fact]
    public async Task Deleting_a_workspace_removes_its_local_blocks_and_a_restart_does_not_bring_them_back()
    {
        const long start = 1_700_000_400_000;
        using (var storage = await OpenAsync())
        {
            await WriteAsync(storage, "gone", start, start + 16 * 60_000);
            await WriteAsync(storage, "kept", start, start + 16 * 60_000);
            Assert.Equal(2, await storage.CutBlocksAsync());
            await storage.DropAsync("gone");
            Assert.Empty(await ReadAsync(storage.ForWorkspace("gone")));
            Assert.False(Directory.Exists(Path.Combine(DataDir, "blocks", "gone")));
        }
        using (var storage = await OpenAsync())
        {
            Assert.Empty(await ReadAsync(storage.ForWorkspace("gone")));
            Assert.Equal(50, (await ReadAsync(storage.ForWorkspace("kept"))).Count);
        }
    }
}
