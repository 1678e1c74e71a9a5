namespace Amphora.Bucket;

/// <summary>
/// A bucket in a directory tree. Uploads go to a temporary file that is fsynced and renamed over the target, so a reader
/// never sees half an object and a crash leaves either the old object or the new one.
/// </summary>
public sealed partial class FilesystemBucket : IBucket
{
    private const string TempSuffix = ".uploading";
    private readonly string _root;

    public FilesystemBucket(string root)
    {
        _root = Path.GetFullPath(root);
        Directory.CreateDirectory(_root);
    }

    private string PathOf(string name)
    {
        if (name.Length == 0 || name.StartsWith('/') || name.Split('/').Any(p => p is "" or "." or ".."))
            throw new ArgumentException($"invalid object name '{name}'", nameof(name));
        return Path.Combine(_root, name.Replace('/', Path.DirectorySeparatorChar));
    }

    public async Task UploadAsync(string name, Stream content, CancellationToken ct = default)
    {
        string path = PathOf(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        string temp = path + "." + Guid.NewGuid().ToString("N") + TempSuffix;
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
            {
                await content.CopyToAsync(file, ct);
                await file.FlushAsync(ct);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    public async Task<byte[]> GetAsync(string name, CancellationToken ct = default)
    {
        try
        {
            return await File.ReadAllBytesAsync(PathOf(name), ct);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(name);
        }
    }

    public async Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        try
        {
            await using var file = new FileStream(PathOf(name), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, useAsync: true);
            long available = Math.Max(0, file.Length - offset);
            var buffer = new byte[(int)Math.Min(length, available)];
            int read = 0;
            while (read < buffer.Length)
            {
                int n = await RandomAccess.ReadAsync(file.SafeFileHandle, buffer.AsMemory(read), offset + read, ct);
                if (n == 0) break;
                read += n;
            }
            return read == buffer.Length ? buffer : buffer[..read];
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new ObjectNotFoundException(name);
        }
    }

    public Task<bool> ExistsAsync(string name, CancellationToken ct = default) => Task.FromResult(File.Exists(PathOf(name)));

    public Task<long> SizeAsync(string name, CancellationToken ct = default)
    {
        var info = new FileInfo(PathOf(name));
        if (!info.Exists) throw new ObjectNotFoundException(name);
        return Task.FromResult(info.Length);
    }

    public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default)
    {
        if (prefix.Length > 0 && !prefix.EndsWith('/')) throw new ArgumentException("a prefix ends with '/'", nameof(prefix));
        string dir = prefix.Length == 0 ? _root : PathOf(prefix.TrimEnd('/'));
        var result = new List<string>();
        if (Directory.Exists(dir))
        {
            if (recursive)
            {
                foreach (var f in Directory.EnumerateFiles(dir, "*", SearchOption.AllDirectories))
                    if (!f.EndsWith(TempSuffix, StringComparison.Ordinal)) result.Add(NameOf(f));
            }
            else
            {
                foreach (var f in Directory.EnumerateFiles(dir))
                    if (!f.EndsWith(TempSuffix, StringComparison.Ordinal)) result.Add(NameOf(f));
                // A directory is listed when it holds an object; the temporary file of an upload that was interrupted
                // (the process was killed before the rename) is not one.
                foreach (var d in Directory.EnumerateDirectories(dir))
                    if (Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories).Any(f => !f.EndsWith(TempSuffix, StringComparison.Ordinal)))
                        result.Add(NameOf(d) + "/");
            }
        }
        result.Sort(StringComparer.Ordinal);
        return Task.FromResult<IReadOnlyList<string>>(result);
    }

    private string NameOf(string path) => Path.GetRelativePath(_root, path).Replace(Path.DirectorySeparatorChar, '/');

    public Task DeleteAsync(string name, CancellationToken ct = default)
    {
        string path = PathOf(name);
        if (!Directory.Exists(Path.GetDirectoryName(path))) return Task.CompletedTask;
        File.Delete(path);
        // Remove directories left empty, so listings do not show workspaces or blocks that are gone.
        for (var dir = Path.GetDirectoryName(path); dir is not null && dir.Length > _root.Length; dir = Path.GetDirectoryName(dir))
        {
            try
            {
                if (Directory.EnumerateFileSystemEntries(dir).Any()) break;
                Directory.Delete(dir);
            }
            catch (IOException)
            {
                break;
            }
        }
        return Task.CompletedTask;
    }
}
