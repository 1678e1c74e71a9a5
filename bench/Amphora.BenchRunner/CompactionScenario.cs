using Amphora.Bucket;
using Amphora.Compactor;
using Amphora.Tsdb.Blocks;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.BenchRunner;

/// <summary>
/// Storage after replication and compaction: Amphora's blocks from the disk run are uploaded twice more under new ULIDs, as
/// the other two ingesters of replication factor 3 upload the same samples, and the compactor merges each range's three
/// copies. Reports bytes per sample (chunks + index) of one copy, of the three copies, and of the compacted blocks.
/// </summary>
public static class CompactionScenario
{
    public sealed record Figures(double SingleCopy, double ThreeCopies, double Compacted, long Samples);

    public static async Task<Figures> RunAsync(string bucketDir, string workDir)
    {
        var bucket = new FilesystemBucket(bucketDir);
        var workspaces = (await bucket.ListAsync("")).Where(e => e.EndsWith('/')).Select(e => e[..^1]).ToList();
        long singleBytes = 0, samples = 0;
        foreach (var workspace in workspaces)
        {
            foreach (var meta in await MetasAsync(bucket, workspace))
            {
                singleBytes += await BytesAsync(bucket, workspace, meta.Ulid);
                samples += meta.Stats.NumSamples;
                for (int replica = 1; replica <= 2; replica++) await CopyAsync(bucket, workspace, meta);
            }
        }
        long threeBytes = 0;
        foreach (var workspace in workspaces)
            foreach (var meta in await MetasAsync(bucket, workspace)) threeBytes += await BytesAsync(bucket, workspace, meta.Ulid);

        var compactor = new CompactorService(bucket, new CompactorOptions
        {
            Ranges = [TimeSpan.FromHours(2), TimeSpan.FromHours(12), TimeSpan.FromHours(24)],
            ConsistencyDelay = TimeSpan.Zero,
            DeletionDelay = TimeSpan.Zero,
            WorkDir = workDir,
        }, _ => TimeSpan.FromDays(150), NullLogger<CompactorService>.Instance);
        await compactor.RunOnceAsync(); // merges and marks
        await compactor.RunOnceAsync(); // deletes the replicas

        long compactedBytes = 0, compactedSamples = 0;
        foreach (var workspace in workspaces)
            foreach (var meta in await MetasAsync(bucket, workspace))
            {
                compactedBytes += await BytesAsync(bucket, workspace, meta.Ulid);
                compactedSamples += meta.Stats.NumSamples;
            }
        if (compactedSamples != samples)
            throw new InvalidOperationException($"compaction changed the number of samples: {samples} before, {compactedSamples} after");
        return new Figures((double)singleBytes / samples, (double)threeBytes / samples, (double)compactedBytes / samples, samples);
    }

    private static async Task<List<BlockMeta>> MetasAsync(IBucket bucket, string workspace)
    {
        var result = new List<BlockMeta>();
        foreach (var entry in await bucket.ListAsync(workspace + "/"))
            if (entry.EndsWith('/') && await bucket.ExistsAsync(entry + BucketLayout.MetaFile))
                result.Add(BlockMeta.Parse(await bucket.GetAsync(entry + BucketLayout.MetaFile)));
        return result;
    }

    private static async Task<long> BytesAsync(IBucket bucket, string workspace, string ulid)
    {
        long bytes = 0;
        foreach (var name in await bucket.ListAsync(BucketLayout.BlockPrefix(workspace, ulid), recursive: true))
            if (name.EndsWith("/index", StringComparison.Ordinal) || name.Contains("/chunks/", StringComparison.Ordinal))
                bytes += await bucket.SizeAsync(name);
        return bytes;
    }

    /// <summary>Uploads a block's files again under a new ULID with its own meta, as another ingester would.</summary>
    private static async Task CopyAsync(IBucket bucket, string workspace, BlockMeta meta)
    {
        var ulid = Ulid.New(DateTimeOffset.UtcNow).ToString();
        string source = BucketLayout.BlockPrefix(workspace, meta.Ulid), target = BucketLayout.BlockPrefix(workspace, ulid);
        foreach (var name in await bucket.ListAsync(source, recursive: true))
        {
            string file = name[source.Length..];
            if (file == BucketLayout.MetaFile) continue;
            await bucket.UploadAsync(target + file, new MemoryStream(await bucket.GetAsync(name)));
        }
        var copy = meta with { Ulid = ulid, Compaction = new BlockCompaction { Level = 1, Sources = [ulid] } };
        await bucket.UploadAsync(target + BucketLayout.MetaFile, new MemoryStream(copy.ToJson()));
    }
}
