namespace Amphora.Bucket;

/// <summary>An object's bytes and its version: an opaque token that changes whenever the content does (S3's ETag, the
/// filesystem bucket's SHA-256 of the content). Two objects with the same content may have the same version.</summary>
public sealed record VersionedObject(byte[] Content, string Version);

/// <summary>
/// Read-modify-write of small objects guarded by a version, so two writers never lose each other's change: a write names
/// the version it was computed from and happens only if the object is still at that version. On S3 this is a conditional
/// PUT (<c>If-Match</c>, or <c>If-None-Match: *</c> to create) and a conditional DELETE; the filesystem bucket holds an
/// exclusive lock on a file beside the object across the check and the rename. The tenancy state uses it
/// (docs/format/tenancy.md). All members are safe to call concurrently, from several processes sharing the storage too.
/// </summary>
public interface IConditionalBucket : IBucket
{
    /// <summary>The object and its version, or null when it does not exist. Content and version always belong together.</summary>
    Task<VersionedObject?> GetVersionedAsync(string name, CancellationToken ct = default);

    /// <summary>
    /// Writes <paramref name="content"/> whole, only if the object is at <paramref name="expectedVersion"/> (null: only if it
    /// does not exist). Returns the new version; throws <see cref="VersionConflictException"/> when the object is at another
    /// version (someone else wrote it first), and then nothing was written.
    /// </summary>
    Task<string> PutIfVersionAsync(string name, ReadOnlyMemory<byte> content, string? expectedVersion, CancellationToken ct = default);

    /// <summary>Deletes the object only if it is at <paramref name="expectedVersion"/>; when it is at another version or
    /// absent, throws <see cref="VersionConflictException"/> and deletes nothing.</summary>
    Task DeleteIfVersionAsync(string name, string expectedVersion, CancellationToken ct = default);
}

/// <summary>A conditional write found the object at another version than expected: someone else changed it first.</summary>
public sealed class VersionConflictException(string name, string? expectedVersion)
    : Exception($"object {name} changed since it was read (expected {(expectedVersion is null ? "no object" : "version " + expectedVersion)})")
{
    public string Name { get; } = name;

    /// <summary>The version the write was computed from; null for a create.</summary>
    public string? ExpectedVersion { get; } = expectedVersion;
}

/// <summary>The bucket cannot make conditional writes at all (not a race: a configuration to change).</summary>
public sealed class ConditionalWritesUnsupportedException(string message) : NotSupportedException(message);

/// <summary>Which condition a bucket was found to ignore.</summary>
public enum ConditionalWriteCheck
{
    /// <summary>A create (<c>If-None-Match: *</c>) replaced an object that existed.</summary>
    CreateOverExisting,
    /// <summary>A write naming a version the object is not at (<c>If-Match</c>) replaced it.</summary>
    WriteAtWrongVersion,
    /// <summary>A delete naming a version the object is not at (<c>If-Match</c>) removed it.</summary>
    DeleteAtWrongVersion,
}

/// <summary>What <see cref="ConditionalWrites.ProbeAsync"/> found wrong: the condition ignored and a sentence saying so.</summary>
public sealed record ConditionalWriteDefect(ConditionalWriteCheck Check, string Message);

/// <summary>Checks that a bucket really honours conditional writes: some S3-compatible services accept the headers and
/// ignore them, and concurrent changes would then overwrite each other without anyone noticing.</summary>
public static class ConditionalWrites
{
    /// <summary>
    /// Creates a probe object under <paramref name="prefix"/> (which ends with '/'), then tries to create it again, to
    /// overwrite it and to delete it naming a wrong version: each must be refused. Returns null when the bucket honours
    /// every condition, else the first one it ignored. The probe object is removed afterwards.
    /// </summary>
    public static async Task<ConditionalWriteDefect?> ProbeAsync(IConditionalBucket bucket, string prefix, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        string name = $"{prefix}probe-{Guid.NewGuid():N}";
        string version = await bucket.PutIfVersionAsync(name, "probe"u8.ToArray(), null, ct);
        string wrong = version + "0";
        try
        {
            if (!await RefusedAsync(() => bucket.PutIfVersionAsync(name, "create again"u8.ToArray(), null, ct)))
                return new(ConditionalWriteCheck.CreateOverExisting, $"a create with If-None-Match: * replaced the existing object {name}");
            if (!await RefusedAsync(() => bucket.PutIfVersionAsync(name, "wrong version"u8.ToArray(), wrong, ct)))
                return new(ConditionalWriteCheck.WriteAtWrongVersion, $"a write of {name} with If-Match of a version it was not at replaced it");
            if (!await RefusedAsync(() => bucket.DeleteIfVersionAsync(name, wrong, ct)))
                return new(ConditionalWriteCheck.DeleteAtWrongVersion, $"a delete of {name} with If-Match of a version it was not at removed it");
            return null;
        }
        finally
        {
            await bucket.DeleteAsync(name, ct);
        }
    }

    private static async Task<bool> RefusedAsync(Func<Task> write)
    {
        try
        {
            await write();
            return false;
        }
        catch (VersionConflictException)
        {
            return true;
        }
    }
}
