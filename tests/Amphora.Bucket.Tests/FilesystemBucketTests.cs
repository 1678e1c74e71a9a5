namespace Amphora.Bucket.Tests;

/// <summary>The bucket contract on <see cref="FilesystemBucket"/>, in a directory of its own that is removed afterwards.</summary>
public sealed class FilesystemBucketTests : BucketConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "amphora-bucket-tests-" + Guid.NewGuid().ToString("N"));

    public FilesystemBucketTests() => Bucket = new FilesystemBucket(_root);

    protected override IBucket Bucket { get; }

    /// <summary>A second instance on the same directory, as a second process sharing a volume would have.</summary>
    protected override IConditionalBucket SecondWriter() => new FilesystemBucket(_root);

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task An_upload_interrupted_before_its_rename_leaves_nothing_readers_can_see()
    {
        await Bucket.UploadAsync("ws/kept/meta.json", new MemoryStream([1]));
        // What a process killed in the middle of UploadAsync leaves: the temporary file, never renamed.
        Directory.CreateDirectory(Path.Combine(_root, "ws", "block", "chunks"));
        File.WriteAllBytes(Path.Combine(_root, "ws", "block", "chunks", "000001.0123456789abcdef.uploading"), [1, 2, 3]);

        Assert.Equal(["ws/kept/"], await Bucket.ListAsync("ws/"));
        Assert.Empty(await Bucket.ListAsync("ws/block/", recursive: true));
        Assert.False(await Bucket.ExistsAsync("ws/block/chunks/000001"));
    }

    [Fact]
    public async Task A_conditional_write_waits_while_another_writer_holds_the_objects_lock()
    {
        var bucket = (IConditionalBucket)Bucket;
        string v1 = await bucket.PutIfVersionAsync("tenancy/ws.json", "one"u8.ToArray(), null);
        string lockFile = Path.Combine(_root, "tenancy", "ws.json.lock.uploading");
        Task<string> write;
        // What another process does between its version check and its rename.
        using (new FileStream(lockFile, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
        {
            write = bucket.PutIfVersionAsync("tenancy/ws.json", "two"u8.ToArray(), v1);
            await Task.Delay(200);
            Assert.False(write.IsCompleted, "the write went ahead while another writer held the lock");
            Assert.Equal("one"u8.ToArray(), await Bucket.GetAsync("tenancy/ws.json"));
        }
        string v2 = await write;
        Assert.Equal(v2, (await bucket.GetVersionedAsync("tenancy/ws.json"))!.Version);
    }

    [Fact]
    public async Task A_lock_file_left_by_a_killed_writer_does_not_block_and_lock_files_are_never_listed()
    {
        var bucket = (IConditionalBucket)Bucket;
        // A killed process leaves its lock file; the operating system has dropped its lock.
        Directory.CreateDirectory(Path.Combine(_root, "tenancy"));
        File.WriteAllBytes(Path.Combine(_root, "tenancy", "ws.json.lock.uploading"), []);

        string v1 = await bucket.PutIfVersionAsync("tenancy/ws.json", "one"u8.ToArray(), null);
        Assert.Equal(["tenancy/ws.json"], await Bucket.ListAsync("tenancy/"));
        await bucket.DeleteIfVersionAsync("tenancy/ws.json", v1);
        Assert.Empty(await Bucket.ListAsync("tenancy/"));
        Assert.Empty(await Bucket.ListAsync(""));
        Assert.Empty(await Bucket.ListAsync("", recursive: true));
    }
}
