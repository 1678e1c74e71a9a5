using Amphora.Bucket;
using Amphora.Compactor;
using Amphora.Tsdb.Blocks;

namespace Amphora.BenchRunner;

/// <summary>
/// Storage after replication and compaction. The disk run's single ingester uploaded its level-1 blocks (its all-in-one
/// compactor may since have compacted or marked some: they are not what an ingester uploads and are left out). Those blocks
/// go into a fresh bucket three times, as the three ingesters of replication factor 3 upload them: the same samples cut into
/// the same ranges, each ingester's copy under its own ULID and name. The compactor then runs pass after pass until a pass
/// changes nothing, and the live blocks (those without a deletion mark) are measured: bytes per sample (chunks + index) of
/// one copy, of the three copies, and of the compacted blocks, and whether they hold each sample exactly once.
/// </summary>
public static class CompactionScenario
{
    private const int MaxPasses = 10;

    public sealed record Figures(double SingleCopy, double ThreeCopies, double Compacted, long Samples, long CompactedSamples, int Passes, string? Failure)
    {
        public static Figures Failed(string failure) => new(double.NaN, double.NaN, double.NaN, 0, 0, 0, failure);
    }

    /// <summary>Measures the blocks of the bucket in <paramref name="diskBucketDir"/> (not changed); works under <paramref name="workDir"/>.
    /// The compactor reads <paramref name="time"/> (tests pass a clock that moves on with every reading, as a compaction of
    /// many series takes seconds).</summary>
    public static async Task<Figures> RunAsync(string diskBucketDir, string workDir, TimeProvider? time = null)
    {
        var source = new FilesystemBucket(diskBucketDir);
        var bucket = new FilesystemBucket(Path.Combine(workDir, "bucket"));
        long singleBytes = 0, samples = 0;
        foreach (var workspace in await WorkspacesAsync(source))
            foreach (var meta in await BucketCensus.IngesterUploadsAsync(source, workspace))
            {
                singleBytes += await BucketCensus.DataBytesAsync(source, workspace, meta.Ulid);
                samples += meta.Stats.NumSamples;
                for (int replica = 0; replica < 3; replica++) await UploadReplicaAsync(source, bucket, workspace, meta, replica);
            }
        if (samples == 0) return Figures.Failed("the disk run left no ingester block in the bucket");
        long threeBytes = 0;
        foreach (var workspace in await WorkspacesAsync(bucket))
            foreach (var meta in await BucketCensus.LiveAsync(bucket, workspace))
                threeBytes += await BucketCensus.DataBytesAsync(bucket, workspace, meta.Ulid);

        var logger = new CollectingLogger<CompactorService>();
        var compactor = new CompactorService(bucket, new CompactorOptions
        {
            Ranges = [TimeSpan.FromHours(2), TimeSpan.FromHours(12), TimeSpan.FromHours(24)],
            ConsistencyDelay = TimeSpan.Zero,
            DeletionDelay = TimeSpan.Zero,
            WorkDir = Path.Combine(workDir, "compactor"),
        }, _ => TimeSpan.FromDays(150), logger, time);
        int passes = await CompactToFixedPointAsync(compactor, bucket);

        long compactedBytes = 0, compactedSamples = 0;
        var problems = new List<string>();
        if (passes > MaxPasses) problems.Add($"the compactor still changed the bucket after {MaxPasses} passes");
        foreach (var workspace in await WorkspacesAsync(bucket))
        {
            var census = await BucketCensus.TakeAsync(bucket, workspace);
            foreach (var meta in census.Live)
            {
                compactedBytes += await BucketCensus.DataBytesAsync(bucket, workspace, meta.Ulid);
                compactedSamples += meta.Stats.NumSamples;
            }
            if (census.Marked.Count > 0) problems.Add($"{census.Marked.Count} blocks of {workspace} are still marked for deletion");
            foreach (var (a, b) in census.Overlaps) problems.Add($"live blocks {a.Ulid} and {b.Ulid} of {workspace} overlap");
        }
        if (compactedSamples != samples) problems.Add($"the live blocks hold {compactedSamples:N0} samples, one copy {samples:N0}");
        problems.AddRange(logger.Errors);
        return new Figures((double)singleBytes / samples, (double)threeBytes / samples, (double)compactedBytes / samples, samples,
            compactedSamples, passes, problems.Count == 0 ? null : string.Join("; ", problems));
    }

    /// <summary>Passes until one leaves every object but the bucket index as it was; returns the number of passes run (one more
    /// than <see cref="MaxPasses"/> when none settled).</summary>
    private static async Task<int> CompactToFixedPointAsync(CompactorService compactor, IBucket bucket)
    {
        var before = await ObjectsAsync(bucket);
        for (int pass = 1; pass <= MaxPasses; pass++)
        {
            await compactor.RunOnceAsync();
            var after = await ObjectsAsync(bucket);
            if (after.SequenceEqual(before)) return pass;
            before = after;
        }
        return MaxPasses + 1;
    }

    private static async Task<List<string>> ObjectsAsync(IBucket bucket) =>
        (await bucket.ListAsync("", recursive: true)).Where(n => !n.EndsWith("/" + BucketLayout.IndexFile, StringComparison.Ordinal)).ToList();

    private static async Task<List<string>> WorkspacesAsync(IBucket bucket) =>
        (await bucket.ListAsync("")).Where(e => e.EndsWith('/')).Select(e => e[..^1]).ToList();

    /// <summary>Uploads one ingester's copy of a block, meta.json last: replica 0 is the disk run's own upload, the others the
    /// same chunks and index cut by ingester-1 and ingester-2, each a level-1 block under its own ULID.</summary>
    private static async Task UploadReplicaAsync(IBucket source, IBucket target, string workspace, BlockMeta meta, int replica)
    {
        string ulid = replica == 0 ? meta.Ulid : Ulid.New(DateTimeOffset.UtcNow).ToString();
        string from = BucketLayout.BlockPrefix(workspace, meta.Ulid), to = BucketLayout.BlockPrefix(workspace, ulid);
        foreach (var name in await source.ListAsync(from, recursive: true))
        {
            string file = name[from.Length..];
            if (file is BucketLayout.MetaFile or BucketLayout.DeletionMarkFile) continue;
            await target.UploadAsync(to + file, new MemoryStream(await source.GetAsync(name)));
        }
        var copy = meta with
        {
            Ulid = ulid,
            Compaction = new BlockCompaction { Level = 1, Sources = [ulid] },
            Amphora = new AmphoraBlockInfo { Workspace = workspace, Ingester = $"ingester-{replica}" },
        };
        await target.UploadAsync(to + BucketLayout.MetaFile, new MemoryStream(copy.ToJson()));
    }
}
