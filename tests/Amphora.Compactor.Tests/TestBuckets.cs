using Amphora.Bucket;

namespace Amphora.Compactor.Tests;

/// <summary>A bucket in memory with the semantics of <see cref="IBucket"/> (whole-object writes, ordinal listing with common
/// prefixes), so property tests run hundreds of bucket histories without touching the disk.</summary>
internal sealed class MemoryBucket : IBucket
{
    private readonly SortedDictionary<string, byte[]> _objects = new(StringComparer.Ordinal);

    public async Task UploadAsync(string name, Stream content, CancellationToken ct = default)
    {
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy, ct);
        lock (_objects) _objects[name] = copy.ToArray();
    }

    public Task<byte[]> GetAsync(string name, CancellationToken ct = default)
    {
        lock (_objects) return Task.FromResult(_objects.TryGetValue(name, out var b) ? b : throw new ObjectNotFoundException(name));
    }

    public async Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default)
    {
        var all = await GetAsync(name, ct);
        long start = Math.Min(offset, all.Length);
        return all[(int)start..(int)Math.Min(all.Length, start + length)];
    }

    public Task<bool> ExistsAsync(string name, CancellationToken ct = default)
    {
        lock (_objects) return Task.FromResult(_objects.ContainsKey(name));
    }

    public async Task<long> SizeAsync(string name, CancellationToken ct = default) => (await GetAsync(name, ct)).Length;

    public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default)
    {
        var result = new SortedSet<string>(StringComparer.Ordinal);
        lock (_objects)
            foreach (var name in _objects.Keys)
            {
                if (!name.StartsWith(prefix, StringComparison.Ordinal)) continue;
                int slash = name.IndexOf('/', prefix.Length);
                result.Add(recursive || slash < 0 ? name : name[..(slash + 1)]);
            }
        return Task.FromResult<IReadOnlyList<string>>(result.ToList());
    }

    public Task DeleteAsync(string name, CancellationToken ct = default)
    {
        lock (_objects) _objects.Remove(name);
        return Task.CompletedTask;
    }
}

/// <summary>The process using the bucket died (a simulated crash): nothing after it happens.</summary>
internal sealed class SimulatedCrashException() : IOException("simulated crash");

/// <summary>A bucket whose user crashes after a number of writes (uploads and deletes): that write and every call after it
/// fail, so the bucket is left exactly as a process killed at that point leaves it.</summary>
internal sealed class CrashingBucket(IBucket inner, int writesBeforeCrash) : IBucket
{
    private int _writes;
    private bool _crashed;

    public bool Crashed => _crashed;

    private void Check()
    {
        if (_crashed) throw new SimulatedCrashException();
    }

    private void Write()
    {
        Check();
        if (_writes++ >= writesBeforeCrash)
        {
            _crashed = true;
            throw new SimulatedCrashException();
        }
    }

    public Task UploadAsync(string name, Stream content, CancellationToken ct = default)
    {
        Write();
        return inner.UploadAsync(name, content, ct);
    }

    public Task DeleteAsync(string name, CancellationToken ct = default)
    {
        Write();
        return inner.DeleteAsync(name, ct);
    }

    public Task<byte[]> GetAsync(string name, CancellationToken ct = default)
    {
        Check();
        return inner.GetAsync(name, ct);
    }

    public Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default)
    {
        Check();
        return inner.GetRangeAsync(name, offset, length, ct);
    }

    public Task<bool> ExistsAsync(string name, CancellationToken ct = default)
    {
        Check();
        return inner.ExistsAsync(name, ct);
    }

    public Task<long> SizeAsync(string name, CancellationToken ct = default)
    {
        Check();
        return inner.SizeAsync(name, ct);
    }

    public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default)
    {
        Check();
        return inner.ListAsync(prefix, recursive, ct);
    }
}
