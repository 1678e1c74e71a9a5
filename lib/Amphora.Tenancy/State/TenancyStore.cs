using System.Threading.Channels;
using Amphora.Bucket;
using Amphora.Model;
using Amphora.Services;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Tenancy.State;

/// <summary>
/// The tenancy state every component of a cluster shares, kept in the bucket they already share under <c>tenancy/</c>
/// (docs/format/tenancy.md): one JSON object per workspace, per access key, per rule groups namespace and per Alertmanager
/// definition, each written whole. A change is a
/// read-modify-write guarded by the object's version (<see cref="IConditionalBucket"/>): computed from a version another
/// component replaced in the meantime, it is computed again from the new one, and after <see cref="MaxAttempts"/> such
/// races in a row the caller gets 409 ConflictException. No change is ever lost silently.
/// <para>Requests read <see cref="Current"/>, an immutable snapshot swapped whole: no lock, no I/O. It is refreshed from
/// the bucket every sync interval and right after this component's own writes, and kept in the data dir
/// (<c>tenancy-cache.json</c>) so that a component starts and serves while the bucket is unreachable. A component may be
/// one sync interval (plus the time of one sync) behind a change made elsewhere; while the bucket is unreachable it serves
/// the last state it saw, and changes are refused with 500 naming the bucket.</para>
/// </summary>
public sealed partial class TenancyStore : ServiceBase
{
    public const string Prefix = WorkspaceIds.Tenancy + "/";
    public const string CacheFileName = "tenancy-cache.json";
    public const int DefaultMaxAttempts = 4;
    public static readonly TimeSpan DefaultSyncInterval = TimeSpan.FromSeconds(10);

    private readonly IConditionalBucket _bucket;
    private readonly TenancyCacheFile _cache;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _publish = new(); // only swaps snapshots in memory: never held across I/O
    private readonly SemaphoreSlim _syncing = new(1, 1);
    private readonly Channel<bool> _syncNow = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
    private volatile TenancySnapshot _current = TenancySnapshot.Empty;
    private TenancySnapshot? _saved; // the snapshot last written to the cache file (sync only)
    private readonly HashSet<(string Name, string Version)> _reportedInvalid = []; // sync only
    private long _ownWrites;
    private volatile Exception? _lastSyncError;

    /// <param name="bucket">The shared bucket (a <see cref="RetryingBucket"/> in production).</param>
    /// <param name="bucketName">How errors and logs name the bucket (<c>s3://amphora/prefix</c>, a directory).</param>
    /// <param name="dataDir">Where <see cref="CacheFileName"/> is kept.</param>
    /// <param name="syncInterval">How often the whole state is read again from the bucket.</param>
    /// <param name="maxAttempts">How many times a change is computed before a run of races is answered with 409.</param>
    public TenancyStore(IConditionalBucket bucket, string bucketName, string dataDir, TimeSpan syncInterval,
        int maxAttempts = DefaultMaxAttempts, TimeProvider? time = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(bucket);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(syncInterval, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxAttempts, 1);
        _bucket = bucket;
        BucketName = bucketName;
        _cache = new TenancyCacheFile(Path.Combine(dataDir, CacheFileName));
        _interval = syncInterval;
        MaxAttempts = maxAttempts;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
    }

    public override string Name => "tenancy-store";

    /// <summary>The state as of the last sync or own write. Lock-free; never null.</summary>
    public TenancySnapshot Current => _current;

    public string BucketName { get; }
    public string CacheFile => _cache.Path;
    public int MaxAttempts { get; }

    /// <summary>The error of the last sync, or null when it succeeded.</summary>
    public Exception? LastSyncError => _lastSyncError;

    /// <summary>Raised after the snapshot changed (a sync or an own write), outside any lock, with the new snapshot.</summary>
    public event Action<TenancySnapshot>? Changed;

    /// <summary>Serves the cached state at once, then reads the bucket; an unreachable bucket is logged, not fatal.</summary>
    protected override async Task StartingAsync(CancellationToken ct)
    {
        TenancySnapshot? cached = null;
        try
        {
            cached = _cache.Load();
        }
        catch (Exception e) when (e is InvalidDataException or IOException or UnauthorizedAccessException)
        {
            LogCacheUnreadable(_logger, _cache.Path, e);
        }
        if (cached is not null)
        {
            _saved = cached;
            Publish(cached, ownWritesBefore: null);
        }
        if (!await TrySyncAsync(ct).ConfigureAwait(false))
        {
            if (cached is not null)
                LogServingFromCache(_logger, BucketName, _cache.Path, cached.Workspaces.Count, cached.Keys.Count, cached.SyncedAt);
            return;
        }
        await ProbeConditionalWritesAsync(ct).ConfigureAwait(false);
    }

    /// <summary>What the start-up check found when the bucket ignores a conditional write, or null.</summary>
    public ConditionalWriteDefect? ConditionalWriteDefect { get; private set; }

    /// <summary>Checks once, on start, that the bucket refuses writes at the wrong version (some S3-compatible services
    /// accept the headers and ignore them); logs an error naming the bucket when it does not.</summary>
    private async Task ProbeConditionalWritesAsync(CancellationToken ct)
    {
        try
        {
            ConditionalWriteDefect = await ConditionalWrites.ProbeAsync(_bucket, Prefix + TenancyLayout.ProbesDir, ct).ConfigureAwait(false);
            if (ConditionalWriteDefect is { } defect) LogConditionalWritesIgnored(_logger, BucketName, defect.Message);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            LogProbeFailed(_logger, BucketName, e);
        }
    }

    /// <summary>Syncs every interval, and at once when an own write asked for it.</summary>
    protected override async Task RunningAsync(CancellationToken stopping)
    {
        Task<bool>? signalled = null;
        while (!stopping.IsCancellationRequested)
        {
            using var tick = CancellationTokenSource.CreateLinkedTokenSource(stopping);
            signalled ??= _syncNow.Reader.WaitToReadAsync(stopping).AsTask();
            var delay = Task.Delay(_interval, _time, tick.Token);
            await Task.WhenAny(delay, signalled).ConfigureAwait(false);
            await tick.CancelAsync().ConfigureAwait(false);
            if (stopping.IsCancellationRequested) break;
            if (signalled.IsCompleted)
            {
                _syncNow.Reader.TryRead(out _);
                signalled = null;
            }
            await TrySyncAsync(stopping).ConfigureAwait(false);
        }
    }

    /// <summary>Reads the whole state from the bucket; false (logged once per outage, state kept) when it cannot.</summary>
    public async Task<bool> TrySyncAsync(CancellationToken ct = default)
    {
        try
        {
            await SyncAsync(ct).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (_lastSyncError is null) LogSyncFailed(_logger, BucketName, e);
            _lastSyncError = e;
            return false;
        }
    }

    /// <summary>Reads every tenancy object from the bucket, publishes the result and updates the cache file; throws when
    /// the bucket cannot be read.</summary>
    public async Task SyncAsync(CancellationToken ct = default)
    {
        await _syncing.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            long ownWritesBefore = Interlocked.Read(ref _ownWrites);
            var objects = new Dictionary<string, TenancyObject>(StringComparer.Ordinal);
            foreach (string full in await _bucket.ListAsync(Prefix, recursive: true, ct).ConfigureAwait(false))
            {
                string name = full[Prefix.Length..];
                if (name.StartsWith(TenancyLayout.ProbesDir, StringComparison.Ordinal)
                    || name.StartsWith(TenancyLayout.DistributorsDir, StringComparison.Ordinal)) continue;
                var o = await _bucket.GetVersionedAsync(full, ct).ConfigureAwait(false);
                if (o is not null) objects[name] = new TenancyObject(name, o.Content, o.Version); // null: deleted since the listing
            }
            if (_lastSyncError is not null) LogSyncRecovered(_logger, BucketName);
            _lastSyncError = null;
            var next = TenancySnapshot.Build(objects, _time.GetUtcNow(), _current);
            foreach (var invalid in next.Invalid)
                if (_reportedInvalid.Add((invalid.Name, objects[invalid.Name].Version))) LogInvalidObject(_logger, invalid.Name, BucketName, invalid.Reason);
            if (!Publish(next, ownWritesBefore)) _syncNow.Writer.TryWrite(true); // an own write overtook this sync: sync again
            SaveCache(_current);
        }
        finally
        {
            _syncing.Release();
        }
    }

    /// <summary>Swaps in <paramref name="next"/>, unless an own write happened since <paramref name="ownWritesBefore"/>
    /// was read (the sync read the bucket before it and would undo it until the next sync). Returns false then.</summary>
    private bool Publish(TenancySnapshot next, long? ownWritesBefore)
    {
        bool changed;
        lock (_publish)
        {
            if (ownWritesBefore is { } before && Interlocked.Read(ref _ownWrites) != before) return false;
            changed = !_current.SameObjectsAs(next);
            _current = next;
        }
        if (changed) RaiseChanged(next);
        return true;
    }

    private void PublishOwnWrite(string name, TenancyObject? replacement)
    {
        TenancySnapshot next;
        lock (_publish)
        {
            Interlocked.Increment(ref _ownWrites);
            next = _current.With(name, replacement);
            _current = next;
        }
        RaiseChanged(next);
        _syncNow.Writer.TryWrite(true); // read the whole state again soon, and keep the cache file current
    }

    private void RaiseChanged(TenancySnapshot next)
    {
        try
        {
            Changed?.Invoke(next);
        }
        catch (Exception e)
        {
            LogChangedHandlerFailed(_logger, e);
        }
    }

    private void SaveCache(TenancySnapshot snapshot)
    {
        if (_saved is not null && _saved.SameObjectsAs(snapshot)) return;
        try
        {
            _cache.Save(snapshot);
            _saved = snapshot;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogCacheSaveFailed(_logger, _cache.Path, e);
        }
    }
}
