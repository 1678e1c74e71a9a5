using System.Text;
using Amazon.S3;
using Amazon.S3.Model;

namespace Amphora.Bucket.Tests;

/// <summary>
/// The bucket contract on <see cref="S3Bucket"/> against a real S3 server, and what only S3 has: key prefixes, paginated
/// listings, credentials from the environment. Each instance works under a key prefix of its own.
/// </summary>
public sealed class S3BucketTests(S3ServerFixture server) : BucketConformanceTests, IClassFixture<S3ServerFixture>, IDisposable
{
    private readonly string _prefix = "test-" + Guid.NewGuid().ToString("N");
    private readonly List<S3Bucket> _others = [];
    private S3Bucket? _bucket;

    protected override IBucket Bucket => _bucket ??= server.NewBucket(_prefix);

    /// <summary>Another client of the same bucket and prefix, as a second component would have.</summary>
    protected override IConditionalBucket SecondWriter()
    {
        var other = server.NewBucket(_prefix);
        _others.Add(other);
        return other;
    }

    public void Dispose()
    {
        _bucket?.Dispose();
        foreach (var other in _others) other.Dispose();
    }

    [Fact]
    public async Task Objects_live_under_the_configured_prefix()
    {
        string prefix = "prefix-" + Guid.NewGuid().ToString("N");
        using var prefixed = server.NewBucket(prefix: "/" + prefix + "/");
        using var whole = server.NewBucket(prefix: "");
        await prefixed.UploadAsync("dir/a", new MemoryStream("a"u8.ToArray()));

        Assert.Equal(["dir/a"], await prefixed.ListAsync("", recursive: true));
        Assert.Equal(["dir/"], await prefixed.ListAsync(""));
        Assert.Equal([prefix + "/dir/a"], await whole.ListAsync(prefix + "/", recursive: true));
        Assert.Equal("a", Encoding.UTF8.GetString(await whole.GetAsync(prefix + "/dir/a")));
    }

    [Fact]
    public async Task Folder_markers_are_not_listed_as_objects()
    {
        string prefix = "markers-" + Guid.NewGuid().ToString("N");
        using var bucket = server.NewBucket(prefix: prefix);
        await bucket.UploadAsync("dir/a", new MemoryStream([1]));
        using var client = new AmazonS3Client(S3ServerFixture.Key, S3ServerFixture.Key,
            new AmazonS3Config { ServiceURL = server.Endpoint, ForcePathStyle = true });
        await client.PutObjectAsync(new PutObjectRequest
        {
            BucketName = S3ServerFixture.BucketName, Key = prefix + "/dir/", InputStream = new MemoryStream(), UseChunkEncoding = false,
        });

        Assert.Equal(["dir/a"], await bucket.ListAsync("dir/"));
        Assert.Equal(["dir/a"], await bucket.ListAsync("", recursive: true));
    }

    [Fact]
    public async Task Listings_follow_every_page()
    {
        using var paged = server.NewBucket(listPageSize: 2);
        string[] names = ["a", "b", "c", "d/1", "d/2", "e/1", "f/1", "f/g/1", "h"];
        foreach (var name in names) await paged.UploadAsync(name, new MemoryStream([1]));

        Assert.Equal(names, await paged.ListAsync("", recursive: true));
        Assert.Equal(["a", "b", "c", "d/", "e/", "f/", "h"], await paged.ListAsync(""));
        Assert.Equal(["f/1", "f/g/"], await paged.ListAsync("f/"));
    }

    [Fact]
    public async Task Without_keys_in_the_options_credentials_come_from_the_environment()
    {
        const string keyVariable = "AWS_ACCESS_KEY_ID", secretVariable = "AWS_SECRET_ACCESS_KEY";
        string? savedKey = Environment.GetEnvironmentVariable(keyVariable), savedSecret = Environment.GetEnvironmentVariable(secretVariable);
        Environment.SetEnvironmentVariable(keyVariable, S3ServerFixture.Key);
        Environment.SetEnvironmentVariable(secretVariable, S3ServerFixture.Key);
        try
        {
            using var bucket = new S3Bucket(new S3BucketOptions(S3ServerFixture.BucketName, server.Endpoint, ForcePathStyle: true,
                Prefix: "env-" + Guid.NewGuid().ToString("N")));
            await bucket.UploadAsync("x", new MemoryStream("env"u8.ToArray()));
            Assert.Equal("env"u8.ToArray(), await bucket.GetAsync("x"));
        }
        finally
        {
            Environment.SetEnvironmentVariable(keyVariable, savedKey);
            Environment.SetEnvironmentVariable(secretVariable, savedSecret);
        }
    }

    [Fact]
    public async Task A_missing_bucket_is_an_error_not_a_missing_object()
    {
        using var missing = new S3Bucket(new S3BucketOptions("no-such-bucket", server.Endpoint, ForcePathStyle: true,
            AccessKey: S3ServerFixture.Key, SecretKey: S3ServerFixture.Key));
        var e = await Assert.ThrowsAsync<AmazonS3Exception>(() => missing.GetAsync("x"));
        Assert.Equal("NoSuchBucket", e.ErrorCode);
    }

    [Fact]
    public async Task An_unknown_access_key_is_refused()
    {
        using var intruder = new S3Bucket(new S3BucketOptions(S3ServerFixture.BucketName, server.Endpoint, ForcePathStyle: true,
            AccessKey: "INTRUDER", SecretKey: S3ServerFixture.Key));
        var e = await Assert.ThrowsAsync<AmazonS3Exception>(() => intruder.UploadAsync("x", new MemoryStream([1])));
        Assert.Equal("InvalidAccessKeyId", e.ErrorCode);
    }
}
