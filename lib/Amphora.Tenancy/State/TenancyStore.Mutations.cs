using Amphora.Bucket;
using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.State;

// Read-modify-write of one object, guarded by its version.
public sealed partial class TenancyStore
{
    /// <summary>
    /// Changes the object <paramref name="name"/> (relative to the prefix) of <paramref name="kind"/>. <paramref name="change"/>
    /// gets its current content, read fresh from the bucket (null when absent), and returns the new content: null deletes the
    /// object, the same reference changes nothing. It may throw a <see cref="TenancyException"/> to refuse, and must have
    /// no other effect, as it runs again when another component replaced the object between the read and the write. After
    /// <see cref="MaxAttempts"/> such races in a row the caller gets 409 ConflictException and nothing of the change is
    /// stored; an unreachable bucket is 500 naming it, and nothing is stored either. When this returns, the change is in
    /// <see cref="Current"/>. Returns what <paramref name="change"/> returned last.
    /// </summary>
    internal async Task<T?> UpdateAsync<T>(string name, TenancyObjectKind kind, Func<T?, T?> change, CancellationToken ct) where T : class
    {
        var (actualKind, id) = TenancyLayout.Classify(name);
        if (actualKind != kind) throw new ArgumentException($"{name} is not a {kind} object", nameof(name));
        for (int attempt = 1; ; attempt++)
        {
            VersionedObject? current;
            try
            {
                current = await _bucket.GetVersionedAsync(Prefix + name, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (IsBucketFailure(e, ct))
            {
                throw Unavailable(name, e);
            }
            T? before;
            try
            {
                before = current is null ? null : (T)TenancyLayout.Parse(name, kind, id, current.Content);
            }
            catch (InvalidDataException e)
            {
                throw TenancyException.Unavailable($"{e.Message} (in bucket {BucketName}); it cannot be changed until it is repaired", e);
            }
            T? after = change(before);
            if (ReferenceEquals(after, before)) return after;
            try
            {
                if (after is null)
                {
                    if (current is not null) await _bucket.DeleteIfVersionAsync(Prefix + name, current.Version, ct).ConfigureAwait(false);
                    PublishOwnWrite(name, null);
                }
                else
                {
                    byte[] bytes = TenancyLayout.Serialize(after);
                    string version = await _bucket.PutIfVersionAsync(Prefix + name, bytes, current?.Version, ct).ConfigureAwait(false);
                    PublishOwnWrite(name, new TenancyObject(name, bytes, version));
                }
                return after;
            }
            catch (VersionConflictException) when (attempt < MaxAttempts)
            {
                Interlocked.Increment(ref _racesLost);
                LogRaced(_logger, name, attempt, MaxAttempts);
            }
            catch (VersionConflictException)
            {
                Interlocked.Increment(ref _racesLost);
                LogConflict(_logger, name, MaxAttempts);
                throw TenancyException.Conflict($"{Describe(kind, id)} was changed by another request {MaxAttempts} times while this " +
                                                "change was being applied, and this change was not stored; read it again and retry");
            }
            catch (Exception e) when (IsBucketFailure(e, ct))
            {
                throw Unavailable(name, e);
            }
        }
    }

    private long _racesLost;

    /// <summary>Changes this store had to compute again because another writer replaced the object first (the last
    /// race of a change answered with 409 included).</summary>
    public long RacesLost => Interlocked.Read(ref _racesLost);

    private static bool IsBucketFailure(Exception e, CancellationToken ct) =>
        e is not TenancyException and not VersionConflictException and not ArgumentException &&
        (e is not OperationCanceledException || !ct.IsCancellationRequested);

    private static string Describe(TenancyObjectKind kind, string id) => kind switch
    {
        TenancyObjectKind.Workspace => $"workspace {id}",
        TenancyObjectKind.AccessKey => $"access key {id}",
        TenancyObjectKind.RuleGroupsNamespace => $"rule groups namespace {id}",
        TenancyObjectKind.AlertManagerDefinition => $"the Alertmanager definition of workspace {id}",
        _ => id,
    };

    private TenancyException Unavailable(string name, Exception e) => TenancyException.Unavailable(
        $"the tenancy state in bucket {BucketName} cannot be changed now ({name}: {e.Message}); nothing was changed, " +
        "retry when the bucket is reachable", e);

    [LoggerMessage(Level = LogLevel.Debug, Message = "tenancy object {Name} changed concurrently (attempt {Attempt} of {MaxAttempts}); computing the change again")]
    private static partial void LogRaced(ILogger logger, string name, int attempt, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "tenancy object {Name} changed concurrently {MaxAttempts} times in a row; the change was answered with 409")]
    private static partial void LogConflict(ILogger logger, string name, int maxAttempts);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot read the tenancy state from bucket {Bucket}; serving the last state seen until it answers")]
    private static partial void LogSyncFailed(ILogger logger, string bucket, Exception e);

    [LoggerMessage(Level = LogLevel.Information, Message = "the tenancy state in bucket {Bucket} is readable again")]
    private static partial void LogSyncRecovered(ILogger logger, string bucket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "bucket {Bucket} unreachable at start: serving the tenancy state cached in {CacheFile} ({Workspaces} workspaces, {Keys} access keys, synced {SyncedAt})")]
    private static partial void LogServingFromCache(ILogger logger, string bucket, string cacheFile, int workspaces, int keys, DateTimeOffset? syncedAt);

    [LoggerMessage(Level = LogLevel.Warning, Message = "the tenancy cache {CacheFile} is unreadable; starting from the bucket alone")]
    private static partial void LogCacheUnreadable(ILogger logger, string cacheFile, Exception e);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot write the tenancy cache {CacheFile}; a restart while the bucket is unreachable would start from an older state")]
    private static partial void LogCacheSaveFailed(ILogger logger, string cacheFile, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "tenancy object {Name} in bucket {Bucket} is ignored: {Reason}")]
    private static partial void LogInvalidObject(ILogger logger, string name, string bucket, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "bucket {Bucket} does not honour conditional writes ({Defect}): two components changing the same workspace or access key at the same moment can lose one of the changes; use a bucket that honours If-Match and If-None-Match on PUT and DELETE (AWS S3 does)")]
    private static partial void LogConditionalWritesIgnored(ILogger logger, string bucket, string defect);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not check whether bucket {Bucket} honours conditional writes")]
    private static partial void LogProbeFailed(ILogger logger, string bucket, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "a tenancy change handler failed")]
    private static partial void LogChangedHandlerFailed(ILogger logger, Exception e);
}
