namespace Amphora.Bucket.Tests;

/// <summary>The bucket contract, conditional writes included, through <see cref="RetryingBucket"/> over a filesystem bucket.</summary>
public sealed class RetryingFilesystemBucketTests : BucketConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "amphora-bucket-tests-" + Guid.NewGuid().ToString("N"));

    public RetryingFilesystemBucketTests() => Bucket = new RetryingBucket(new FilesystemBucket(_root), baseDelay: TimeSpan.FromMilliseconds(1));

    protected override IBucket Bucket { get; }

    protected override IConditionalBucket SecondWriter() => new RetryingBucket(new FilesystemBucket(_root), baseDelay: TimeSpan.FromMilliseconds(1));

    public void Dispose() => Directory.Delete(_root, recursive: true);
}

/// <summary>What <see cref="RetryingBucket"/> adds to conditional writes: a lost answer is not mistaken for a conflict.</summary>
public sealed class RetryingConditionalBucketTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("amphora-retrying-conditional-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private RetryingBucket Retrying(IBucket inner) => new(inner, baseDelay: TimeSpan.FromMilliseconds(1));

    [Fact]
    public async Task A_conditional_write_whose_answer_was_lost_is_retried_and_succeeds_rather_than_conflicting_with_itself()
    {
        var inner = new LostAnswerBucket(new FilesystemBucket(_root), lostAnswers: 1);
        var bucket = Retrying(inner);

        string version = await bucket.PutIfVersionAsync("tenancy/ws.json", "one"u8.ToArray(), null);

        Assert.Equal(2, inner.Writes);
        var stored = await bucket.GetVersionedAsync("tenancy/ws.json");
        Assert.Equal("one"u8.ToArray(), stored!.Content);
        Assert.Equal(version, stored.Version);
    }

    [Fact]
    public async Task A_conditional_delete_whose_answer_was_lost_is_retried_and_succeeds()
    {
        var plain = new FilesystemBucket(_root);
        string v1 = await plain.PutIfVersionAsync("tenancy/ws.json", "one"u8.ToArray(), null);
        var inner = new LostAnswerBucket(plain, lostAnswers: 1);

        await Retrying(inner).DeleteIfVersionAsync("tenancy/ws.json", v1);

        Assert.Equal(2, inner.Writes);
        Assert.Null(await plain.GetVersionedAsync("tenancy/ws.json"));
    }

    [Fact]
    public async Task A_conflict_is_answered_at_once_and_a_retried_write_meeting_another_content_is_still_a_conflict()
    {
        var plain = new FilesystemBucket(_root);
        string v1 = await plain.PutIfVersionAsync("tenancy/ws.json", "one"u8.ToArray(), null);
        await plain.PutIfVersionAsync("tenancy/ws.json", "theirs"u8.ToArray(), v1);

        var once = new LostAnswerBucket(plain, lostAnswers: 0);
        await Assert.ThrowsAsync<VersionConflictException>(() => Retrying(once).PutIfVersionAsync("tenancy/ws.json", "mine"u8.ToArray(), v1));
        Assert.Equal(1, once.Writes);

        // The first attempt fails before writing (its connection broke), the second finds another writer's content.
        var broken = new LostAnswerBucket(plain, lostAnswers: 0, failuresBeforeWrite: 1);
        await Assert.ThrowsAsync<VersionConflictException>(() => Retrying(broken).PutIfVersionAsync("tenancy/ws.json", "mine"u8.ToArray(), v1));
        Assert.Equal("theirs"u8.ToArray(), await plain.GetAsync("tenancy/ws.json"));
    }

    [Fact]
    public async Task A_bucket_without_conditional_writes_says_so()
    {
        var bucket = Retrying(new OrdinaryBucket(new FilesystemBucket(_root)));
        Assert.False(bucket.SupportsConditionalWrites);
        Assert.True(Retrying(new FilesystemBucket(_root)).SupportsConditionalWrites);
        await Assert.ThrowsAsync<ConditionalWritesUnsupportedException>(() => bucket.PutIfVersionAsync("tenancy/x", "x"u8.ToArray(), null));
    }

    /// <summary>
    /// A conditional bucket whose first <c>failuresBeforeWrite</c> conditional writes fail before writing, and whose next
    /// <c>lostAnswers</c> ones write and then fail, as when a connection breaks after S3 stored the object.
    /// </summary>
    private sealed class LostAnswerBucket(IConditionalBucket inner, int lostAnswers, int failuresBeforeWrite = 0) : OrdinaryBucket(inner), IConditionalBucket
    {
        private readonly IConditionalBucket _conditional = inner;

        public int Writes { get; private set; }

        public Task<VersionedObject?> GetVersionedAsync(string name, CancellationToken ct = default) => _conditional.GetVersionedAsync(name, ct);

        public async Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default)
        {
            int write = ++Writes;
            if (write <= failuresBeforeWrite) throw new IOException("connection reset before the request was sent");
            string version = await _conditional.PutIfVersionAsync(name, content, expectedVersion, ct);
            if (write <= failuresBeforeWrite + lostAnswers) throw new IOException("connection reset before the answer arrived");
            return version;
        }

        public async Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default)
        {
            int write = ++Writes;
            if (write <= failuresBeforeWrite) throw new IOException("connection reset before the request was sent");
            await _conditional.DeleteIfVersionAsync(name, expectedVersion, ct);
            if (write <= failuresBeforeWrite + lostAnswers) throw new IOException("connection reset before the answer arrived");
        }
    }

    /// <summary>Only the plain <see cref="IBucket"/> operations of another bucket.</summary>
    private class OrdinaryBucket(IBucket inner) : IBucket
    {
        public Task UploadAsync(string name, Stream content, CancellationToken ct = default) => inner.UploadAsync(name, content, ct);
        public Task<byte[]> GetAsync(string name, CancellationToken ct = default) => inner.GetAsync(name, ct);
        public Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default) => inner.GetRangeAsync(name, offset, length, ct);
        public Task<bool> ExistsAsync(string name, CancellationToken ct = default) => inner.ExistsAsync(name, ct);
        public Task<long> SizeAsync(string name, CancellationToken ct = default) => inner.SizeAsync(name, ct);
        public Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default) => inner.ListAsync(prefix, recursive, ct);
        public Task DeleteAsync(string name, CancellationToken ct = default) => inner.DeleteAsync(name, ct);
    }
}
