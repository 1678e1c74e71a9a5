namespace Amphora.Bucket.Tests;

/// <summary>The bucket contract on <see cref="FilesystemBucket"/>, in a directory of its own that is removed afterwards.</summary>
public sealed class FilesystemBucketTests : BucketConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "amphora-bucket-tests-" + Guid.NewGuid().ToString("N"));

    public FilesystemBucketTests() => Bucket = new FilesystemBucket(_root);

    protected override IBucket Bucket { get; }

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
}
