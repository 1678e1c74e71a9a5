using System.Security.Cryptography;

namespace Amphora.Bucket;

// Conditional writes on a directory tree. A writer holds an exclusive lock on a lock file beside the object
// ("<object>.lock.uploading", opened with FileShare.None, which .NET takes as flock(LOCK_EX) on Unix and as a sharing lock on
// Windows) across reading the current version and renaming the new content into place, so two writers, in one process or in
// several sharing the directory, cannot both pass the check. The operating system drops the lock when its holder dies, so a
// killed writer never leaves a lock behind. Lock files are never deleted: a writer that opened one just before it was
// deleted would lock a file no later writer sees. Like the temporary files of uploads, they are never listed. The version
// is the SHA-256 of the content: written with it, and read with it, so the two always belong together.
public sealed partial class FilesystemBucket : IConditionalBucket
{
    private const string LockSuffix = ".lock" + TempSuffix;

    /// <summary>How long a writer waits for another one to release an object's lock before it gives up with an
    /// <see cref="IOException"/> (which <see cref="RetryingBucket"/> retries). A holder keeps it for one small write.</summary>
    private static readonly TimeSpan LockWait = TimeSpan.FromSeconds(10);

    private volatile bool _lockingChecked;

    public async Task<VersionedObject?> GetVersionedAsync(string name, CancellationToken ct = default)
    {
        try
        {
            byte[] content = await File.ReadAllBytesAsync(PathOf(name), ct);
            return new VersionedObject(content, VersionOf(content));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    public async Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default)
    {
        string path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using (await LockAsync(path, ct))
        {
            await CheckVersionAsync(name, path, expectedVersion, ct);
            await UploadAsync(name, new MemoryStream(content.ToArray(), writable: false), ct);
        }
        return VersionOf(content.Span);
    }

    public async Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(expectedVersion);
        string path = PathOf(name);
        if (!File.Exists(path)) throw new VersionConflictException(name, expectedVersion);
        await using (await LockAsync(path, ct))
        {
            await CheckVersionAsync(name, path, expectedVersion, ct);
            File.Delete(path);
        }
    }

    private static async Task CheckVersionAsync(string name, string path, string? expected, CancellationToken ct)
    {
        string? current;
        try
        {
            current = VersionOf(await File.ReadAllBytesAsync(path, ct));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            current = null;
        }
        if (current != expected) throw new VersionConflictException(name, expected);
    }

    private static string VersionOf(ReadOnlySpan<byte> content) => Convert.ToHexStringLower(SHA256.HashData(content));

    /// <summary>Takes the exclusive lock of the object at <paramref name="path"/>; disposing the stream releases it.</summary>
    private async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        CheckLockingWorks();
        string lockPath = path + LockSuffix;
        long deadline = Environment.TickCount64 + (long)LockWait.TotalMilliseconds;
        int delayMs = 1;
        while (true)
        {
            try
            {
                return OpenExclusive(lockPath);
            }
            catch (IOException) when (Environment.TickCount64 < deadline)
            {
                // Held by another writer for the few milliseconds of its write.
                await Task.Delay(delayMs, ct);
                delayMs = Math.Min(delayMs * 2, 20);
            }
            catch (IOException e)
            {
                throw new IOException($"the lock file {lockPath} stayed held by another writer for {LockWait.TotalSeconds:0} s", e);
            }
        }
    }

    private static FileStream OpenExclusive(string path) =>
        new(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, bufferSize: 1, FileOptions.None);

    /// <summary>
    /// Fails when a second exclusive open of a file succeeds, i.e. when this process does not lock files
    /// (DOTNET_SYSTEM_IO_DISABLEFILELOCKING is set): conditional writes would then not exclude each other. Checked once.
    /// </summary>
    private void CheckLockingWorks()
    {
        if (_lockingChecked) return;
        string probe = Path.Combine(_root, $".locking-check-{Guid.NewGuid():N}{LockSuffix}");
        try
        {
            using var first = OpenExclusive(probe);
            try
            {
                using var second = OpenExclusive(probe);
            }
            catch (IOException)
            {
                _lockingChecked = true;
                return;
            }
            throw new ConditionalWritesUnsupportedException(
                $"the filesystem bucket {_root} cannot make conditional writes: this process does not lock files (is " +
                "DOTNET_SYSTEM_IO_DISABLEFILELOCKING set?), so two writers could overwrite each other's change");
        }
        finally
        {
            File.Delete(probe);
        }
    }
}
