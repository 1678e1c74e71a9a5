namespace Amphora.Bucket;

/// <summary>How much a prefix of the bucket holds.</summary>
public static class BucketUsage
{
    /// <summary>
    /// Bytes of every object under <paramref name="prefix"/> (ending with '/'), by listing it and asking each object's size: one
    /// request per object, so callers run it in the background or on an operator's request, never per write. An object deleted
    /// between the listing and its size (a compaction's cleanup) counts as gone.
    /// </summary>
    public static async Task<long> BytesUnderAsync(this IBucket bucket, string prefix, CancellationToken ct = default)
    {
        long bytes = 0;
        foreach (var name in await bucket.ListAsync(prefix, recursive: true, ct))
        {
            try
            {
                bytes += await bucket.SizeAsync(name, ct);
            }
            catch (ObjectNotFoundException)
            {
            }
        }
        return bytes;
    }
}
