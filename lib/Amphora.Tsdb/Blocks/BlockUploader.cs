using Amphora.Bucket;

namespace Amphora.Tsdb.Blocks;

/// <summary>Copies a local block directory into a bucket: chunk segments, index and tombstones first, meta.json last, so a
/// reader that finds meta.json finds a complete block, and an interrupted upload leaves a directory readers ignore.</summary>
public static class BlockUploader
{
    public static async Task<long> UploadAsync(IBucket bucket, string blockPrefix, string dir, CancellationToken ct = default)
    {
        var files = Directory.GetFiles(Path.Combine(dir, "chunks")).Order(StringComparer.Ordinal)
            .Select(f => "chunks/" + Path.GetFileName(f))
            .Concat(["index", "tombstones", BucketLayout.MetaFile]);
        long bytes = 0;
        foreach (var file in files)
        {
            await using var stream = File.OpenRead(Path.Combine(dir, file));
            bytes += stream.Length;
            await bucket.UploadAsync(blockPrefix + file, stream, ct);
        }
        return bytes;
    }

    /// <summary>Deletes a block from the bucket: meta.json first (it stops being a block for readers), then the rest; a
    /// deletion mark, if any, last, so an interrupted deletion is finished by the next pass.</summary>
    public static async Task DeleteAsync(IBucket bucket, string blockPrefix, CancellationToken ct = default)
    {
        await bucket.DeleteAsync(blockPrefix + BucketLayout.MetaFile, ct);
        foreach (var name in await bucket.ListAsync(blockPrefix, recursive: true, ct))
            if (!name.EndsWith("/" + BucketLayout.DeletionMarkFile, StringComparison.Ordinal)) await bucket.DeleteAsync(name, ct);
        await bucket.DeleteAsync(blockPrefix + BucketLayout.DeletionMarkFile, ct);
    }
}
