using System.Net;
using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Amphora.Bucket;

/// <summary>Where an <see cref="S3Bucket"/> keeps its objects.</summary>
/// <param name="BucketName">The S3 bucket; it must already exist.</param>
/// <param name="Endpoint">Base URL of an S3-compatible service ("http://127.0.0.1:4568"); null for AWS itself.</param>
/// <param name="Region">The region requests are signed for (and, on AWS, sent to).</param>
/// <param name="ForcePathStyle">Address the bucket as "endpoint/bucket/key" rather than "bucket.endpoint/key", which most
/// self-hosted services need because they have no wildcard DNS for bucket names.</param>
/// <param name="AccessKey">With <paramref name="SecretKey"/>, static credentials; when either is null the SDK's default
/// chain is used (AWS_ACCESS_KEY_ID and friends, profiles, instance roles), so secrets need not be in configuration.</param>
/// <param name="SecretKey">See <paramref name="AccessKey"/>.</param>
/// <param name="Prefix">A "directory" inside the bucket that holds every object, so several deployments can share one
/// bucket; object names passed to and returned by <see cref="S3Bucket"/> do not include it.</param>
/// <param name="ListPageSize">Keys per ListObjectsV2 request. S3 never returns more than 1000; smaller pages only make
/// the pagination path easy to exercise.</param>
public sealed record S3BucketOptions(
    string BucketName,
    string? Endpoint = null,
    string Region = "us-east-1",
    bool ForcePathStyle = false,
    string? AccessKey = null,
    string? SecretKey = null,
    string? Prefix = null,
    int ListPageSize = 1000);

/// <summary>
/// A bucket in any S3-compatible object store. A PUT replaces an object atomically for readers, so uploads need no
/// temporary object. Failures other than "not found" surface as the SDK's exceptions; wrap the bucket in a
/// <see cref="RetryingBucket"/> to ride out transient ones.
/// </summary>
public sealed partial class S3Bucket : IBucket, IDisposable
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string _prefix;
    private readonly int _pageSize;

    public S3Bucket(S3BucketOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.BucketName);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.ListPageSize);
        _bucket = options.BucketName;
        string prefix = options.Prefix?.Trim('/') ?? "";
        _prefix = prefix.Length == 0 ? "" : prefix + "/";
        _pageSize = options.ListPageSize;

        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // SDK v4 by default adds a CRC checksum to every upload and validates any checksum a response carries.
            // S3-compatible services vary in what they accept, and S3 requires checksums only for operations that this
            // class does not use.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (options.Endpoint is null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }
        else
        {
            config.ServiceURL = options.Endpoint;
            config.AuthenticationRegion = options.Region;
        }

        _client = options.AccessKey is null || options.SecretKey is null
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public async Task UploadAsync(string name, Stream content, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(content);
        string key = KeyOf(name);
        // A PUT declares its length and payload hash up front, so the SDK needs a stream it can measure and rewind, and it
        // always sends such a stream from its start. Anything else is buffered: from where it stands, like any reader.
        await using var buffered = content.CanSeek && content.Position == 0 ? null : await BufferRestAsync(content, ct);
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = key,
            InputStream = buffered ?? content,
            AutoCloseStream = false, // the caller owns the stream (and RetryingBucket rewinds it for another attempt)
            // The default aws-chunked body (streaming signatures, checksum trailer) is an AWS extension. A server that
            // does not know it may store the chunk framing as the object's content without any error, as s3rver does;
            // a plain body with a signed payload hash works everywhere.
            UseChunkEncoding = false,
        };
        await _client.PutObjectAsync(request, ct);
    }

    public async Task<byte[]> GetAsync(string name, CancellationToken ct = default)
    {
        var request = new GetObjectRequest { BucketName = _bucket, Key = KeyOf(name) };
        try
        {
            using var response = await _client.GetObjectAsync(request, ct);
            return await ReadBodyAsync(response, ct);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(name);
        }
    }

    public async Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        if (length == 0)
        {
            // An HTTP range cannot be empty; still report a missing object as the contract asks.
            await SizeAsync(name, ct);
            return [];
        }
        var request = new GetObjectRequest
        {
            BucketName = _bucket,
            Key = KeyOf(name),
            ByteRange = new ByteRange(offset, offset + length - 1), // inclusive; S3 clips it at the end of the object
        };
        try
        {
            using var response = await _client.GetObjectAsync(request, ct);
            return await ReadBodyAsync(response, ct);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(name);
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
        {
            return []; // the object exists (else 404) but ends at or before offset
        }
    }

    public async Task<bool> ExistsAsync(string name, CancellationToken ct = default)
    {
        try
        {
            await HeadAsync(name, ct);
            return true;
        }
        catch (ObjectNotFoundException)
        {
            return false;
        }
    }

    public async Task<long> SizeAsync(string name, CancellationToken ct = default) => (await HeadAsync(name, ct)).ContentLength;

    private async Task<GetObjectMetadataResponse> HeadAsync(string name, CancellationToken ct)
    {
        try
        {
            return await _client.GetObjectMetadataAsync(_bucket, KeyOf(name), ct);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            throw new ObjectNotFoundException(name);
        }
    }

    public async Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        if (prefix.Length > 0 && !prefix.EndsWith('/')) throw new ArgumentException("a prefix ends with '/'", nameof(prefix));
        var request = new ListObjectsV2Request
        {
            BucketName = _bucket,
            Prefix = _prefix + prefix,
            Delimiter = recursive ? null : "/",
            MaxKeys = _pageSize,
        };
        var result = new List<string>();
        ListObjectsV2Response response;
        do
        {
            response = await _client.ListObjectsV2Async(request, ct);
            // SDK v4 leaves collections null, not empty, when a response has none. Keys ending in '/' are the empty
            // "folder" markers that consoles create, not objects.
            foreach (var o in response.S3Objects ?? [])
                if (!o.Key.EndsWith('/')) result.Add(o.Key[_prefix.Length..]);
            foreach (var p in response.CommonPrefixes ?? []) result.Add(p[_prefix.Length..]);
            request.ContinuationToken = response.NextContinuationToken;
        } while (response.IsTruncated == true);
        result.Sort(StringComparer.Ordinal);
        return result;
    }

    public async Task DeleteAsync(string name, CancellationToken ct = default)
    {
        try
        {
            // S3 answers 204 for a missing key as well; some compatible services answer 404 instead.
            await _client.DeleteObjectAsync(_bucket, KeyOf(name), ct);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
        }
    }

    public void Dispose() => _client.Dispose();

    /// <summary>The key of an object; names are checked like <see cref="FilesystemBucket"/> does, so code that works against
    /// one bucket kind does not fail on the other.</summary>
    private string KeyOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (name.Length == 0 || name.StartsWith('/') || name.Split('/').Any(p => p is "" or "." or ".."))
            throw new ArgumentException($"invalid object name '{name}'", nameof(name));
        return _prefix + name;
    }

    private static async Task<MemoryStream> BufferRestAsync(Stream content, CancellationToken ct)
    {
        var buffer = new MemoryStream();
        await content.CopyToAsync(buffer, ct);
        buffer.Position = 0;
        return buffer;
    }

    private static async Task<byte[]> ReadBodyAsync(GetObjectResponse response, CancellationToken ct)
    {
        using var buffer = new MemoryStream(response.ContentLength is > 0 and <= int.MaxValue ? (int)response.ContentLength : 0);
        await response.ResponseStream.CopyToAsync(buffer, ct);
        return buffer.ToArray();
    }

    /// <summary>The object is missing. A missing bucket is a 404 as well, but a configuration error, not an absent object.
    /// HEAD answers carry no error body, hence the status code check.</summary>
    private static bool IsNotFound(AmazonS3Exception e) =>
        e.ErrorCode is "NoSuchKey" || (e.StatusCode == HttpStatusCode.NotFound && e.ErrorCode is not "NoSuchBucket");
}
