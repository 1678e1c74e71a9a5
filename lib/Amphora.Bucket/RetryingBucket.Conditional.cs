namespace Amphora.Bucket;

// Conditional writes are retried like every other operation when the wrapped bucket supports them. A retried write that
// meets a conflict may be meeting its own earlier attempt, which succeeded but whose answer was lost (a reset connection
// after S3 stored the object): when the object then holds exactly this write's content, that is this write's success,
// not someone else's change. Likewise a retried delete that finds the object gone. A conflict on the first attempt is
// never retried: the caller has to read the object again and compute its change anew.
public sealed partial class RetryingBucket : IConditionalBucket
{
    /// <summary>True when the wrapped bucket supports conditional writes (both <see cref="FilesystemBucket"/> and
    /// <see cref="S3Bucket"/> do).</summary>
    public bool SupportsConditionalWrites => _inner is IConditionalBucket;

    private IConditionalBucket Conditional => _inner as IConditionalBucket
        ?? throw new ConditionalWritesUnsupportedException($"{_inner.GetType().Name} does not support conditional writes");

    public Task<VersionedObject?> GetVersionedAsync(string name, CancellationToken ct = default) =>
        RunAsync($"get {name}", token => Conditional.GetVersionedAsync(name, token), ct);

    public Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default)
    {
        var inner = Conditional;
        int attempts = 0;
        return RunAsync($"conditional upload {name}", async token =>
        {
            try
            {
                attempts++;
                return await inner.PutIfVersionAsync(name, content, expectedVersion, token);
            }
            catch (VersionConflictException) when (attempts > 1)
            {
                var current = await inner.GetVersionedAsync(name, token);
                if (current is not null && current.Content.AsSpan().SequenceEqual(content.Span)) return current.Version;
                throw;
            }
        }, ct);
    }

    public Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default)
    {
        var inner = Conditional;
        int attempts = 0;
        return RunAsync($"conditional delete {name}", async token =>
        {
            try
            {
                attempts++;
                await inner.DeleteIfVersionAsync(name, expectedVersion, token);
            }
            catch (VersionConflictException) when (attempts > 1)
            {
                if (await inner.GetVersionedAsync(name, token) is not null) throw;
            }
            return true;
        }, ct);
    }
}
