using Amphora.Bucket;

namespace Amphora.Tenancy.Tests.State;

/// <summary>A bucket that can be made unreachable: while <see cref="Down"/>, every operation fails as a refused connection does.</summary>
internal sealed class SwitchableBucket(IConditionalBucket inner) : IConditionalBucket
{
    public volatile bool Down;

    private T Up<T>(Func<T> operation) => Down ? throw new HttpRequestException("connection refused (bucket made unreachable by the test)") : operation();

    public Task UploadAsync(string name, Stream content, CancellationToken ct = default) => Up(() => inner.UploadAsync(name, content, ct));
    public Task<byte[]> GetAsync(string name, CancellationToken ct = default) => Up(() => inner.GetAsync(name, ct));
    public Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default) => Up(() => inner.GetRangeAsync(name, offset, length, ct));
    public Task<bool> ExistsAsync(string name, CancellationToken ct = default) => Up(() => inner.ExistsAsync(name, ct));
    public Task<long> SizeAsync(string name, CancellationToken ct = default) => Up(() => inner.SizeAsync(name, ct));
    public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default) => Up(() => inner.ListAsync(prefix, recursive, ct));
    public Task DeleteAsync(string name, CancellationToken ct = default) => Up(() => inner.DeleteAsync(name, ct));
    public Task<VersionedObject?> GetVersionedAsync(string name, CancellationToken ct = default) => Up(() => inner.GetVersionedAsync(name, ct));
    public Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default) =>
        Up(() => inner.PutIfVersionAsync(name, content, expectedVersion, ct));
    public Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default) =>
        Up(() => inner.DeleteIfVersionAsync(name, expectedVersion, ct));
}

/// <summary>
/// A bucket through which another writer always gets in first: after each versioned read of <c>name</c>, <c>interfere</c>
/// rewrites that object (through the same storage), so a write computed from the read meets a newer version.
/// </summary>
internal sealed class OvertakenBucket(IConditionalBucket inner, string name, Func<byte[], byte[]> interfere) : IConditionalBucket
{
    public int Interferences { get; private set; }

    public async Task<VersionedObject?> GetVersionedAsync(string objectName, CancellationToken ct = default)
    {
        var read = await inner.GetVersionedAsync(objectName, ct);
        if (objectName == name && read is not null)
        {
            await inner.PutIfVersionAsync(objectName, interfere(read.Content), read.Version, ct);
            Interferences++;
        }
        return read;
    }

    public Task UploadAsync(string objectName, Stream content, CancellationToken ct = default) => inner.UploadAsync(objectName, content, ct);
    public Task<byte[]> GetAsync(string objectName, CancellationToken ct = default) => inner.GetAsync(objectName, ct);
    public Task<byte[]> GetRangeAsync(string objectName, long offset, int length, CancellationToken ct = default) => inner.GetRangeAsync(objectName, offset, length, ct);
    public Task<bool> ExistsAsync(string objectName, CancellationToken ct = default) => inner.ExistsAsync(objectName, ct);
    public Task<long> SizeAsync(string objectName, CancellationToken ct = default) => inner.SizeAsync(objectName, ct);
    public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default) => inner.ListAsync(prefix, recursive, ct);
    public Task DeleteAsync(string objectName, CancellationToken ct = default) => inner.DeleteAsync(objectName, ct);
    public Task<string> PutIfVersionAsync(string objectName, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default) =>
        inner.PutIfVersionAsync(objectName, content, expectedVersion, ct);
    public Task DeleteIfVersionAsync(string objectName, string expectedVersion, CancellationToken ct = default) =>
        inner.DeleteIfVersionAsync(objectName, expectedVersion, ct);
}

/// <summary>Polls a condition that a background sync makes true, with a deadline.</summary>
internal static class Eventually
{
    public static async Task HoldsAsync(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(20));
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) Assert.Fail($"timed out waiting for {what}");
            await Task.Delay(20);
        }
    }
}
