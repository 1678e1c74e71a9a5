using Amphora.Bucket;
using Amphora.Tsdb.Blocks;

namespace Amphora.Compactor;

/// <summary>
/// What one workspace's prefix of the bucket holds, read by listing it (not from the bucket index): the complete blocks
/// (meta.json present), split into live ones and ones marked for deletion, and the live blocks whose time ranges overlap.
/// Once compaction has settled, the live blocks hold each sample once and <see cref="Overlaps"/> is empty.
/// </summary>
public sealed record BucketCensus(IReadOnlyList<BlockMeta> Live, IReadOnlyList<BlockMeta> Marked, IReadOnlyList<(BlockMeta A, BlockMeta B)> Overlaps)
{
    public static async Task<BucketCensus> TakeAsync(IBucket bucket, string workspace, CancellationToken ct = default)
    {
        var live = new List<BlockMeta>();
        var marked = new List<BlockMeta>();
        foreach (var (meta, isMarked) in await CompleteBlocksAsync(bucket, workspace, ct)) (isMarked ? marked : live).Add(meta);
        live.Sort(static (a, b) => a.MinTime != b.MinTime ? a.MinTime.CompareTo(b.MinTime) : string.CompareOrdinal(a.Ulid, b.Ulid));
        var overlaps = new List<(BlockMeta, BlockMeta)>();
        for (int i = 0; i < live.Count; i++)
            for (int j = i + 1; j < live.Count && live[j].MinTime < live[i].MaxTime; j++) overlaps.Add((live[i], live[j]));
        return new BucketCensus(live, marked, overlaps);
    }

    /// <summary>The workspace's blocks that hold no deletion mark.</summary>
    public static async Task<List<BlockMeta>> LiveAsync(IBucket bucket, string workspace, CancellationToken ct = default) =>
        (await CompleteBlocksAsync(bucket, workspace, ct)).Where(b => !b.Marked).Select(b => b.Meta).ToList();

    /// <summary>The blocks an ingester cut and uploaded (level 1, an ingester named), marked or not: unlike compacted blocks,
    /// each of their samples is in exactly one of them.</summary>
    public static async Task<List<BlockMeta>> IngesterUploadsAsync(IBucket bucket, string workspace, CancellationToken ct = default) =>
        (await CompleteBlocksAsync(bucket, workspace, ct)).Select(b => b.Meta)
            .Where(m => m.Compaction.Level == 1 && m.Amphora?.Ingester is not null).ToList();

    /// <summary>Bytes of a block's samples and index: its chunk segments and index file (not meta.json, tombstones or marks).</summary>
    public static async Task<long> DataBytesAsync(IBucket bucket, string workspace, string ulid, CancellationToken ct = default)
    {
        long bytes = 0;
        string prefix = BucketLayout.BlockPrefix(workspace, ulid);
        foreach (var name in await bucket.ListAsync(prefix, recursive: true, ct))
            if (name == prefix + "index" || name.StartsWith(prefix + "chunks/", StringComparison.Ordinal)) bytes += await bucket.SizeAsync(name, ct);
        return bytes;
    }

    private static async Task<List<(BlockMeta Meta, bool Marked)>> CompleteBlocksAsync(IBucket bucket, string workspace, CancellationToken ct)
    {
        var result = new List<(BlockMeta, bool)>();
        foreach (var entry in await bucket.ListAsync(workspace + "/", recursive: false, ct))
        {
            if (!entry.EndsWith('/')) continue;
            var files = await bucket.ListAsync(entry, recursive: false, ct);
            if (!files.Contains(entry + BucketLayout.MetaFile)) continue;
            result.Add((BlockMeta.Parse(await bucket.GetAsync(entry + BucketLayout.MetaFile, ct)), files.Contains(entry + BucketLayout.DeletionMarkFile)));
        }
        return result;
    }
}
