namespace Amphora.Bucket;

/// <summary>
/// Object storage as blocks use it: whole-object uploads, ranged reads, listing by prefix, deletes. Object names use '/' as
/// the separator ("workspace/ULID/meta.json"). Implementations: <see cref="FilesystemBucket"/> (a directory tree) and
/// <see cref="S3Bucket"/> (any S3-compatible service).
/// </summary>
public interface IBucket
{
    /// <summary>Stores <paramref name="content"/> under <paramref name="name"/>, replacing an existing object. Readers see
    /// either the old object or the whole new one, never a part.</summary>
    Task UploadAsync(string name, Stream content, CancellationToken ct = default);

    /// <summary>The whole object; <see cref="ObjectNotFoundException"/> when absent.</summary>
    Task<byte[]> GetAsync(string name, CancellationToken ct = default);

    /// <summary><paramref name="length"/> bytes from <paramref name="offset"/> (fewer at the end of the object);
    /// <see cref="ObjectNotFoundException"/> when absent.</summary>
    Task<byte[]> GetRangeAsync(string name, long offset, int length, CancellationToken ct = default);

    Task<bool> ExistsAsync(string name, CancellationToken ct = default);

    /// <summary>Size in bytes; <see cref="ObjectNotFoundException"/> when absent.</summary>
    Task<long> SizeAsync(string name, CancellationToken ct = default);

    /// <summary>
    /// Names directly under <paramref name="prefix"/> (which ends with '/' or is empty): objects by full name, and "directories"
    /// (common prefixes) by full name ending in '/'. Sorted ordinally. With <paramref name="recursive"/>, every object below the
    /// prefix and no directory entries.
    /// </summary>
    Task<IReadOnlyList<string>> ListAsync(string prefix, bool recursive = false, CancellationToken ct = default);

    /// <summary>Deletes an object; deleting an absent object is not an error.</summary>
    Task DeleteAsync(string name, CancellationToken ct = default);
}

/// <summary>The named object does not exist.</summary>
public sealed class ObjectNotFoundException(string name) : Exception($"object {name} not found in the bucket")
{
    public string Name { get; } = name;
}
