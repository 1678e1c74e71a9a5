namespace Amphora.Bucket.Tests;

/// <summary>The bucket contract on <see cref="FilesystemBucket"/>, in a directory of its own that is removed afterwards.</summary>
public sealed class FilesystemBucketTests : BucketConformanceTests, IDisposable
{
    private readonly string _root = Path.Combine(Path.GetTempPath(), "amphora-bucket-tests-" + Guid.NewGuid().ToString("N"));

    public FilesystemBucketTests() => Bucket = new FilesystemBucket(_root);

    protected override IBucket Bucket { get; }

    public void Dispose() => Directory.Delete(_root, recursive: true);
}
