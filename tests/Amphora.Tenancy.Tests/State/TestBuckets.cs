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

/// <summary>Passes every operation to <c>inner</c>; tests override the ones they change.</summary>
internal abstract class ForwardingBucket(IConditionalBucket inner) : IConditionalBucket
{
    protected IConditionalBucket Inner => inner;

    public virtual Task<VersionedObject?> GetVersionedAsync(string name, CancellationToken ct = default) => inner.GetVersionedAsync(name, ct);
    public virtual Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default) =>
        inner.PutIfVersionAsync(name, content, expectedVersion, ct);
    public virtual Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default) =>
        inner.DeleteIfVersionAsync(name, expectedVersion, ct);
    public Task UploadAsync(string name, Stream content, CancellationToken ct = default) => inner.UploadAsync(name, content, ct);
    public Task<byte[]> GetAsync(string name, CancellationToken ct = default) => inner.GetAsync(name, ct);
    public Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default) => inner.GetRangeAsync(name, offset, length, ct);
    public Task<bool> ExistsAsync(string name, CancellationToken ct = default) => inner.ExistsAsync(name, ct);
    public Task<long> SizeAsync(string name, CancellationToken ct = default) => inner.SizeAsync(name, ct);
    public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default) => inner.ListAsync(prefix, recursive, ct);
    public Task DeleteAsync(string name, CancellationToken ct = default) => inner.DeleteAsync(name, ct);
}

/// <summary>
/// A bucket through which another writer always gets in first: after each versioned read of <c>name</c>, <c>interfere</c>
/// rewrites that object (through the same storage), so a write computed from the read meets a newer version.
/// </summary>
internal sealed class OvertakenBucket(IConditionalBucket inner, string name, Func<byte[], byte[]> interfere) : ForwardingBucket(inner)
{
    public int Interferences { get; private set; }

    public override async Task<VersionedObject?> GetVersionedAsync(string objectName, CancellationToken ct = default)
    {
        var read = await Inner.GetVersionedAsync(objectName, ct);
        if (objectName == name && read is not null)
        {
            await Inner.PutIfVersionAsync(objectName, interfere(read.Content), read.Version, ct);
            Interferences++;
        }
        return read;
    }
}

/// <summary>A bucket that accepts the conditions of conditional writes and ignores them, as some S3-compatible services do.</summary>
internal sealed class IgnoringConditionsBucket(IConditionalBucket inner) : ForwardingBucket(inner)
{
    public override async Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default)
    {
        await Inner.UploadAsync(name, new MemoryStream(content.ToArray()), ct);
        return Guid.NewGuid().ToString("N");
    }

    public override Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default) => Inner.DeleteAsync(name, ct);
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
