using Amphora.Bucket;
using Amphora.Bucket.Tests;
using Xunit.Abstractions;

namespace Amphora.Tenancy.Tests.State;

/// <summary>The shared tenancy state in a filesystem bucket (a directory the components share, as --target=all has).</summary>
public sealed class FilesystemTenancyStoreTests : TenancyStoreTests, IDisposable
{
    private readonly TempDir _bucket = new();

    public FilesystemTenancyStoreTests(ITestOutputHelper output) => Output = output;

    protected override IConditionalBucket NewClient() => new FilesystemBucket(_bucket.Path);

    protected override string BucketName => _bucket.Path;

    public void Dispose() => _bucket.Dispose();
}

/// <summary>The shared tenancy state in S3 (s3rver with S3's conditional writes), under a key prefix of the test's own.</summary>
public sealed class S3TenancyStoreTests : TenancyStoreTests, IClassFixture<S3ServerFixture>, IDisposable
{
    private readonly S3ServerFixture _server;

    public S3TenancyStoreTests(S3ServerFixture server, ITestOutputHelper output)
    {
        _server = server;
        Output = output;
    }

    private readonly string _prefix = "tenancy-test-" + Guid.NewGuid().ToString("N");
    private readonly List<S3Bucket> _clients = [];

    protected override IConditionalBucket NewClient()
    {
        var client = _server.NewBucket(_prefix);
        lock (_clients) _clients.Add(client);
        return new RetryingBucket(client, baseDelay: TimeSpan.FromMilliseconds(10));
    }

    public void Dispose()
    {
        lock (_clients) foreach (var client in _clients) client.Dispose();
    }

    protected override string BucketName => $"s3://{S3ServerFixture.BucketName}/{_prefix}";
}
