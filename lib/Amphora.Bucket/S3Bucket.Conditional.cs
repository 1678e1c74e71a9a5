using System.Net;
using Amazon.S3;
using Amazon.S3.Model;

namespace Amphora.Bucket;

// Conditional writes with S3's If-Match / If-None-Match on PutObject and If-Match on DeleteObject, the version being the
// object's ETag. S3 answers 412 PreconditionFailed when a condition does not hold, 409 ConditionalRequestConflict when two
// conditional writes of one key race, and 404 to a conditional delete of a missing key: each means someone else changed
// the object first. A service that ignores the headers is found by ConditionalWrites.ProbeAsync.
public sealed partial class S3Bucket : IConditionalBucket
{
    public async Task<VersionedObject?> GetVersionedAsync(string name, CancellationToken ct = default)
    {
        var request = new GetObjectRequest { BucketName = _bucket, Key = KeyOf(name) };
        try
        {
            using var response = await _client.GetObjectAsync(request, ct);
            return new VersionedObject(await ReadBodyAsync(response, ct), response.ETag);
        }
        catch (AmazonS3Exception e) when (IsNotFound(e))
        {
            return null;
        }
    }

    public async Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default)
    {
        using var body = new MemoryStream(content.ToArray(), writable: false);
        var request = new PutObjectRequest
        {
            BucketName = _bucket,
            Key = KeyOf(name),
            InputStream = body,
            AutoCloseStream = false,
            UseChunkEncoding = false, // as in UploadAsync
        };
        if (expectedVersion is null) request.IfNoneMatch = "*";
        else request.IfMatch = expectedVersion;
        try
        {
            var response = await _client.PutObjectAsync(request, ct);
            return response.ETag;
        }
        catch (AmazonS3Exception e) when (IsConditionFailed(e))
        {
            throw new VersionConflictException(name, expectedVersion);
        }
    }

    public async Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(expectedVersion);
        var request = new DeleteObjectRequest { BucketName = _bucket, Key = KeyOf(name), IfMatch = expectedVersion };
        try
        {
            await _client.DeleteObjectAsync(request, ct);
        }
        catch (AmazonS3Exception e) when (IsConditionFailed(e) || IsNotFound(e))
        {
            throw new VersionConflictException(name, expectedVersion);
        }
    }

    private static bool IsConditionFailed(AmazonS3Exception e) =>
        e.StatusCode is HttpStatusCode.PreconditionFailed || e.ErrorCode is "PreconditionFailed" or "ConditionalRequestConflict";
}
