using Amphora.Bucket;

namespace Amphora.Tsdb.Blocks;

/// <summary>Where a block's files are read from: a local directory or a prefix in a bucket. Paths are relative ("index",
/// "chunks/000001").</summary>
public interface IBlockFiles
{
    /// <summary>A short name for messages (the directory or object prefix).</summary>
    string Location { get; }
    Task<byte[]> ReadAllAsync(string path, CancellationToken ct = default);
    Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken ct = default);
}

public sealed class LocalBlockFiles(string dir) : IBlockFiles
{
    public string Location => dir;

    public Task<byte[]> ReadAllAsync(string path, CancellationToken ct = default) => File.ReadAllBytesAsync(Path.Combine(dir, path), ct);

    public async Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken ct = default)
    {
        using var handle = File.OpenHandle(Path.Combine(dir, path), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        long size = RandomAccess.GetLength(handle);
        var buffer = new byte[(int)Math.Clamp(size - offset, 0, length)];
        int read = 0;
        while (read < buffer.Length)
        {
            int n = await RandomAccess.ReadAsync(handle, buffer.AsMemory(read), offset + read, ct);
            if (n == 0) break;
            read += n;
        }
        return read == buffer.Length ? buffer : buffer[..read];
    }
}

/// <summary>A block stored in a bucket under "&lt;prefix&gt;/&lt;ulid&gt;/".</summary>
public sealed class BucketBlockFiles(IBucket bucket, string blockPrefix) : IBlockFiles
{
    public string Location => blockPrefix;

    public Task<byte[]> ReadAllAsync(string path, CancellationToken ct = default) => bucket.GetAsync(blockPrefix + path, ct);

    public Task<byte[]> ReadRangeAsync(string path, long offset, int length, CancellationToken ct = default) =>
        bucket.GetRangeAsync(blockPrefix + path, offset, length, ct);
}
