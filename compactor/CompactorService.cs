using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Amphora.Bucket;
using Amphora.Metrics;
using Amphora.Model;
using Amphora.Services;
using Amphora.Tsdb.Blocks;
using Microsoft.Extensions.Logging;

namespace Amphora.Compactor;

/// <summary>
/// Keeps each workspace's blocks in the bucket in shape, one pass per interval over the workspaces this replica owns:
/// finishes deleting deleted workspaces, removes abandoned partial uploads, marks blocks that a compacted block supersedes
/// or that are past retention, merges overlapping blocks (the replicas of one range) and then adjacent ones into larger
/// ranges, deletes marked blocks once the deletion delay has passed, and rewrites the workspace's bucket index.
/// A replacement block is uploaded completely (meta.json last) before its inputs are marked, and a block is deleted
/// meta.json first and its mark last, so a compactor killed at any point leaves neither duplicates (readers skip
/// superseded blocks) nor holes, and the next pass finishes the work.
/// </summary>
public sealed partial class CompactorService : ServiceBase
{
    private const int MaxCompactionsPerPass = 32;

    private static readonly Meter Meter = new("Amphora.Compactor");
    private static readonly Counter<long> Compactions = Meter.CreateCounter<long>("amphora_compactor_compactions",
        description: "Compactions by result (ok, failed) and, for failures, reason (a MergeCheck id when the output failed its check, error otherwise).");
    private static readonly Counter<long> BlocksMarked = Meter.CreateCounter<long>("amphora_compactor_blocks_marked", description: "Blocks marked for deletion, by reason.");
    private static readonly Counter<long> BlocksDeleted = Meter.CreateCounter<long>("amphora_compactor_blocks_deleted", description: "Blocks deleted from the bucket.");
    private static readonly Counter<long> WorkspacesDeleted = Meter.CreateCounter<long>("amphora_compactor_workspaces_deleted", description: "Deleted workspaces whose objects were removed.");

    private readonly IBucket _bucket;
    private readonly CompactorOptions _options;
    private readonly Func<string, TimeSpan> _retention;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, BlockMeta> _metas = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _lastSuccess = new(StringComparer.Ordinal);
    /// <summary>When this compactor first saw each workspace DELETING (in memory: a restart only delays a deletion).</summary>
    private readonly ConcurrentDictionary<string, DateTimeOffset> _deletingSince = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> _storedBytes = new(StringComparer.Ordinal);

    public CompactorService(IBucket bucket, CompactorOptions options, Func<string, TimeSpan> retention, ILogger<CompactorService> logger, TimeProvider? time = null)
    {
        _bucket = bucket;
        _options = options;
        _retention = retention;
        _logger = logger;
        _time = time ?? TimeProvider.System;
        Meter.CreateObservableGauge("amphora_compactor_last_success_timestamp_seconds",
            () => _lastSuccess.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("workspace", kv.Key))),
            unit: null, description: "When the last pass over a workspace succeeded (without --metrics.per-workspace: the oldest of them).",
            tags: [new KeyValuePair<string, object?>(MetricsExporter.AcrossWorkspacesTag, MetricsExporter.AcrossWorkspacesMin)]);
        Meter.CreateObservableGauge("amphora_compactor_stored_bytes",
            () => _storedBytes.Select(kv => new Measurement<long>(kv.Value, new KeyValuePair<string, object?>("workspace", kv.Key))),
            unit: null, description: "Bytes of every object under a workspace's prefix of the bucket, measured after each pass over it.");
    }

    public override string Name => "compactor";

    /// <summary>Workspaces deleted in the tenancy state (DELETING), whose objects this compactor removes when it owns them,
    /// whether or not their deletion mark was written; null when the tenancy state is not consulted.</summary>
    public Func<IReadOnlyList<string>>? DeletingWorkspaces { get; init; }

    /// <summary>Called after the objects of a DELETING workspace are gone, to remove its record from the tenancy state.</summary>
    public Func<string, CancellationToken, Task>? WorkspaceDeleted { get; init; }

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                await RunOnceAsync(stopping);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogPassFailed(_logger, e);
            }
            try
            {
                await Task.Delay(_options.Interval, _time, stopping);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>Whether this replica is the one that compacts <paramref name="workspace"/> (hash of its id over the members).</summary>
    public bool Owns(string workspace)
    {
        var members = _options.Members.Count == 0 ? [_options.Name] : _options.Members.Order(StringComparer.Ordinal).ToList();
        return members[(int)(StableHashing.Fnv1a64(workspace, StableHashing.Fnv1aOffset) % (ulong)members.Count)] == _options.Name;
    }

    /// <summary>One pass over every owned workspace; a failing workspace is logged and does not stop the others.</summary>
    public async Task RunOnceAsync(CancellationToken ct = default)
    {
        var deleting = new HashSet<string>(DeletingWorkspaces?.Invoke() ?? [], StringComparer.Ordinal);
        var now = _time.GetUtcNow();
        foreach (string ws in _deletingSince.Keys.Where(ws => !deleting.Contains(ws)).ToList()) _deletingSince.TryRemove(ws, out _);
        foreach (string ws in deleting) _deletingSince.TryAdd(ws, now);
        var entries = (await _bucket.ListAsync("", recursive: false, ct)).Where(static e => e.EndsWith('/')).ToList();
        foreach (string ws in deleting)
            if (!entries.Contains(ws + "/")) entries.Add(ws + "/"); // deleted before it stored anything
        foreach (var entry in entries)
        {
            string workspace = entry[..^1];
            if (WorkspaceIds.Validate(workspace) is not null || !Owns(workspace)) continue;
            try
            {
                bool deleted = deleting.Contains(workspace);
                await CompactWorkspaceAsync(workspace, deleted, removeNow: deleted && now - _deletingSince[workspace] >= _options.WorkspaceDeletionGrace, ct);
                _lastSuccess[workspace] = _time.GetUtcNow().ToUnixTimeSeconds();
                // Gone when the pass removed a deleted workspace's objects.
                long stored = await _bucket.BytesUnderAsync(entry, ct);
                if (stored > 0) _storedBytes[workspace] = stored;
                else _storedBytes.TryRemove(workspace, out _);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogWorkspaceFailed(_logger, workspace, e);
            }
        }
    }

    /// <param name="removeNow">For a workspace DELETING in the tenancy state: whether its grace is over, so its objects go now
    /// (before, only its deletion mark is written).</param>
    private async Task CompactWorkspaceAsync(string workspace, bool deletedInTenancy, bool removeNow, CancellationToken ct)
    {
        string deletionMark = BucketLayout.WorkspaceDeletionMark(workspace);
        if (deletedInTenancy && !await _bucket.ExistsAsync(deletionMark, ct))
            await _bucket.UploadAsync(deletionMark, new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(
                new { deletion_time = _time.GetUtcNow().ToUnixTimeSeconds() })), ct); // readers stop serving it first
        if (deletedInTenancy && !removeNow) return; // the ingesters are still dropping its data
        if (deletedInTenancy || await _bucket.ExistsAsync(deletionMark, ct))
        {
            await DeleteWorkspaceObjectsAsync(workspace, ct);
            if (deletedInTenancy && WorkspaceDeleted is { } deleted) await deleted(workspace, ct);
            return;
        }

        long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        var (blocks, marks) = await LoadAsync(workspace, now, ct);

        var live = blocks.Where(b => !marks.ContainsKey(b.Ulid)).ToList();
        foreach (var ulid in BlockSupersession.Superseded(live))
            await MarkAsync(workspace, ulid, "compacted", marks, ct);
        long cutoff = now - (long)_retention(workspace).TotalMilliseconds;
        foreach (var expired in CompactionPlanner.Expired(live, cutoff).ToList())
            if (!marks.ContainsKey(expired.Ulid)) await MarkAsync(workspace, expired.Ulid, "retention", marks, ct);

        for (int i = 0; i < MaxCompactionsPerPass; i++)
        {
            live = blocks.Where(b => !marks.ContainsKey(b.Ulid)).ToList();
            var group = CompactionPlanner.Plan(live, _options.Ranges, now - (long)_options.ConsistencyDelay.TotalMilliseconds);
            if (group is null) break;
            var output = await CompactAsync(workspace, group, ct);
            blocks.Add(output);
            foreach (var input in group) await MarkAsync(workspace, input.Ulid, "compacted", marks, ct);
        }

        // The delay counts to now, not to the start of the pass: a block marked by this pass's compactions is as old as it is.
        long deletingAt = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (ulid, mark) in marks.ToList())
        {
            if (mark.DeletionTimeSeconds * 1000 + (long)_options.DeletionDelay.TotalMilliseconds > deletingAt) continue;
            await BlockUploader.DeleteAsync(_bucket, BucketLayout.BlockPrefix(workspace, ulid), ct);
            marks.Remove(ulid);
            blocks.RemoveAll(b => b.Ulid == ulid);
            _metas.TryRemove(ulid, out _);
            BlocksDeleted.Add(1);
            LogBlockDeleted(_logger, workspace, ulid, mark.Reason);
        }

        var index = new BucketIndex
        {
            UpdatedAtSeconds = _time.GetUtcNow().ToUnixTimeSeconds(),
            Blocks = blocks.OrderBy(b => b.MinTime).ThenBy(b => b.Ulid, StringComparer.Ordinal).ToList(),
            DeletionMarks = marks.Values.OrderBy(m => m.Ulid, StringComparer.Ordinal).ToList(),
        };
        await _bucket.UploadAsync(BucketLayout.Index(workspace), new MemoryStream(index.ToJson()), ct);
    }

    /// <summary>The workspace's complete blocks and deletion marks; finishes interrupted deletions and removes abandoned uploads.</summary>
    private async Task<(List<BlockMeta> Blocks, Dictionary<string, DeletionMark> Marks)> LoadAsync(string workspace, long now, CancellationToken ct)
    {
        var blocks = new List<BlockMeta>();
        var marks = new Dictionary<string, DeletionMark>(StringComparer.Ordinal);
        foreach (var entry in await _bucket.ListAsync(BucketLayout.WorkspacePrefix(workspace), recursive: false, ct))
        {
            if (!entry.EndsWith('/')) continue;
            string ulid = entry[(workspace.Length + 1)..^1];
            if (!Ulid.TryParse(ulid, out var id)) continue;
            var files = await _bucket.ListAsync(entry, recursive: false, ct);
            bool hasMeta = files.Contains(entry + BucketLayout.MetaFile);
            bool hasMark = files.Contains(entry + BucketLayout.DeletionMarkFile);
            if (!hasMeta)
            {
                // A deletion that was interrupted, or an upload abandoned long ago (a recent one may still be in progress).
                if (hasMark || now - id.TimestampMs > _options.PartialUploadTimeout.TotalMilliseconds)
                {
                    await BlockUploader.DeleteAsync(_bucket, entry, ct);
                    LogPartialRemoved(_logger, workspace, ulid);
                }
                continue;
            }
            if (!_metas.TryGetValue(ulid, out var meta))
            {
                try
                {
                    meta = BlockMeta.Parse(await _bucket.GetAsync(entry + BucketLayout.MetaFile, ct));
                }
                catch (BlockFormatException e)
                {
                    LogCorruptBlock(_logger, workspace, ulid, e.Message);
                    continue;
                }
                _metas[ulid] = meta;
            }
            blocks.Add(meta);
            if (hasMark) marks[ulid] = DeletionMark.Parse(await _bucket.GetAsync(entry + BucketLayout.DeletionMarkFile, ct));
        }
        return (blocks, marks);
    }

    private async Task MarkAsync(string workspace, string ulid, string reason, Dictionary<string, DeletionMark> marks, CancellationToken ct)
    {
        var mark = new DeletionMark { Ulid = ulid, DeletionTimeSeconds = _time.GetUtcNow().ToUnixTimeSeconds(), Reason = reason };
        await _bucket.UploadAsync(BucketLayout.DeletionMark(workspace, ulid), new MemoryStream(mark.ToJson()), ct);
        marks[ulid] = mark;
        BlocksMarked.Add(1, new KeyValuePair<string, object?>("reason", reason));
    }

    /// <summary>Removes every object of a deleted workspace, its deletion mark last.</summary>
    private async Task DeleteWorkspaceObjectsAsync(string workspace, CancellationToken ct)
    {
        string mark = BucketLayout.WorkspaceDeletionMark(workspace);
        int deleted = 0;
        foreach (var name in await _bucket.ListAsync(BucketLayout.WorkspacePrefix(workspace), recursive: true, ct))
        {
            if (name == mark) continue;
            await _bucket.DeleteAsync(name, ct);
            deleted++;
        }
        await _bucket.DeleteAsync(mark, ct);
        WorkspacesDeleted.Add(1);
        LogWorkspaceDeleted(_logger, workspace, deleted);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted block {Ulid} of workspace {Workspace} (marked: {Reason})")]
    private static partial void LogBlockDeleted(ILogger logger, string workspace, string ulid, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Removed the partial block directory {Ulid} of workspace {Workspace} (interrupted deletion or abandoned upload)")]
    private static partial void LogPartialRemoved(ILogger logger, string workspace, string ulid);

    [LoggerMessage(Level = LogLevel.Information, Message = "Deleted workspace {Workspace}: {Objects} objects removed from the bucket")]
    private static partial void LogWorkspaceDeleted(ILogger logger, string workspace, int objects);

    [LoggerMessage(Level = LogLevel.Error, Message = "Block {Ulid} of workspace {Workspace} has an unreadable meta.json and is left alone: {Reason}")]
    private static partial void LogCorruptBlock(ILogger logger, string workspace, string ulid, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Compaction of workspace {Workspace} failed; retrying on the next pass")]
    private static partial void LogWorkspaceFailed(ILogger logger, string workspace, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Compactor pass failed; retrying after the interval")]
    private static partial void LogPassFailed(ILogger logger, Exception e);
}
