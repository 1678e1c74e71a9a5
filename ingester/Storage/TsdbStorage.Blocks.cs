using Amphora.Tsdb;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Amphora.Model;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging;

namespace Amphora.Ingester.Storage;

/// <summary>
/// The head's way to long-term storage: every CutInterval the storage checks each workspace's head; once it holds data 1.5
/// block ranges past the start of its oldest range, that range is written as a block under blocks/&lt;workspace&gt;/, the head
/// forgets it, and the WAL is checkpointed. Finished blocks are uploaded to the bucket (meta.json last) and deleted locally
/// LocalBlockRetention after the upload. Until then the ingester serves them itself.
/// </summary>
public sealed partial class TsdbStorage
{
    private const string UploadedMarker = "amphora-uploaded";
    private const string MinValidTimeFile = "min-valid-time";

    /// <summary>How long a local block's files stay after it stopped being served, for queries that already hold it (never
    /// longer than the local retention, which tests set to seconds).</summary>
    private TimeSpan RetiredGrace => TimeSpan.FromTicks(Math.Min(TimeSpan.FromSeconds(30).Ticks, Options.LocalBlockRetention.Ticks));

    // Locks of the background work, none of them taken by appends or queries: a cycle at a time; per workspace, its cuts
    // (and its deletion); for the WAL checkpoint and the uploads, which cover every workspace, a lock held only across them.
    private readonly SemaphoreSlim _cycleLock = new(1, 1);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _workspaceLocks = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _shipLock = new(1, 1);
    private readonly List<(string Dir, DateTime Since)> _retired = new();
    private readonly Lock _blocksGate = new();
    private readonly Dictionary<string, Block[]> _localBlocks = new(StringComparer.Ordinal);
    private CancellationTokenSource? _stop;
    private Task? _loop;

    private string BlocksDir => Path.Combine(_dir, "blocks");

    internal Block[] LocalBlocks(string workspace)
    {
        lock (_blocksGate) return _localBlocks.TryGetValue(workspace, out var b) ? b : [];
    }

    /// <summary>Whether this storage serves the block from local disk.</summary>
    public bool HasLocalBlock(string workspace, string ulid) => LocalBlocks(workspace).Any(b => b.Meta.Ulid == ulid);

    private void AddLocalBlock(string workspace, Block block)
    {
        lock (_blocksGate)
            _localBlocks[workspace] = [.. LocalBlocks(workspace), block];
    }

    /// <summary>Opens the blocks on local disk (removing ones a crash left half-written) and remembers where each workspace's
    /// head starts.</summary>
    private async Task OpenLocalBlocksAsync()
    {
        if (!Directory.Exists(BlocksDir)) return;
        foreach (var workspaceDir in Directory.GetDirectories(BlocksDir))
        {
            string workspace = Path.GetFileName(workspaceDir);
            foreach (var dir in Directory.GetDirectories(workspaceDir))
            {
                if (dir.EndsWith(BlockWriter.TempSuffix, StringComparison.Ordinal))
                {
                    Directory.Delete(dir, recursive: true);
                    continue;
                }
                try
                {
                    AddLocalBlock(workspace, await Block.OpenAsync(new LocalBlockFiles(dir)));
                }
                catch (Exception e) when (e is BlockFormatException or IOException)
                {
                    // The WAL still has the data unless a checkpoint covered it; keep the directory for inspection.
                    Directory.Move(dir, dir + ".corrupt");
                    LogCorruptLocalBlock(_logger, dir, e.Message);
                }
            }
        }
    }

    /// <summary>Samples before this time are in blocks: from the recorded value, or the newest local block's end.</summary>
    private long MinValidTimeOf(string workspace)
    {
        long result = long.MinValue;
        foreach (var b in LocalBlocks(workspace)) result = Math.Max(result, b.Meta.MaxTime);
        string file = Path.Combine(WorkspaceIds.DirectoryUnder(BlocksDir, workspace), MinValidTimeFile);
        if (File.Exists(file) && long.TryParse(File.ReadAllText(file), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long recorded))
            result = Math.Max(result, recorded);
        return result;
    }

    private void StartBackground()
    {
        if (Options.CutInterval <= TimeSpan.Zero) return;
        _stop = new CancellationTokenSource();
        var token = _stop.Token;
        _loop = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                try
                {
                    await Task.Delay(Options.CutInterval, token);
                    await CutBlocksAsync(token);
                }
                catch (OperationCanceledException) when (token.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    BlockFailures.Add(1);
                    LogBlockFailure(_logger, e);
                }
            }
        }, token);
    }

    private void StopBackground()
    {
        if (_stop is null) return;
        _stop.Cancel();
        try
        {
            _loop?.Wait(TimeSpan.FromSeconds(30));
        }
        catch (AggregateException)
        {
        }
    }

    /// <summary>
    /// Cuts every block the heads are ready for, checkpoints the WAL when something was cut, uploads finished blocks and
    /// removes uploaded ones past their local retention. Returns the number of blocks cut. Runs on the background loop;
    /// tests call it directly.
    /// </summary>
    public async Task<int> CutBlocksAsync(CancellationToken ct = default)
    {
        int cut = await CutCycleAsync(ct);
        // Outside every lock: the cut freed a range of chunks and the removed series.
        if (cut > 0 && Options.CompactHeapAfterCut) HeapCompaction.AfterCut();
        return cut;
    }

    private async Task<int> CutCycleAsync(CancellationToken ct)
    {
        await _cycleLock.WaitAsync(ct);
        try
        {
            int cut = 0;
            foreach (var (workspace, head) in _heads.ToArray())
            {
                var gate = WorkspaceLock(workspace);
                await gate.WaitAsync(ct);
                try
                {
                    if (!_heads.TryGetValue(workspace, out var current) || current != head) continue; // deleted meanwhile
                    // One cut per range that holds data: after a cut the head's MinTime is its oldest remaining sample, so
                    // a sample far in the past costs one block, never one step per empty range in between.
                    while (NextCut(head, BlockRangeMs) is { } next)
                    {
                        await CutAsync(workspace, head, next.Start, next.End);
                        cut++;
                    }
                }
                finally
                {
                    gate.Release();
                }
            }
            await _shipLock.WaitAsync(ct);
            try
            {
                if (cut > 0) Checkpoint();
                await ShipAsync(ct);
            }
            finally
            {
                _shipLock.Release();
            }
            return cut;
        }
        finally
        {
            _cycleLock.Release();
        }
    }

    private SemaphoreSlim WorkspaceLock(string workspace) => _workspaceLocks.GetOrAdd(workspace, static _ => new SemaphoreSlim(1, 1));

    /// <summary>
    /// The block range holding the head's oldest sample, when the head holds data 1.5 ranges past its start; null otherwise.
    /// Safe for any int64 sample time (the distance is computed in 128 bits, the start clamped at the smallest time).
    /// </summary>
    internal static (long Start, long End)? NextCut(Head head, long range)
    {
        long min = head.MinTime, max = head.MaxTime;
        if (min == long.MaxValue || max == long.MinValue || max < min) return null;
        long rem = min % range;
        if (rem < 0) rem += range;
        long start = (Int128)min - rem < long.MinValue ? long.MinValue : min - rem;
        if ((Int128)max - start < range + range / 2) return null;
        return (start, start + range);
    }

    private async Task CutAsync(string workspace, Head head, long start, long end)
    {
        var stopwatch = Stopwatch.StartNew();
        await head.RaiseMinValidTimeAsync(end);
        var series = head.CollectRange(start, end);
        string workspaceDir = WorkspaceIds.DirectoryUnder(BlocksDir, workspace);
        Directory.CreateDirectory(workspaceDir);
        if (series.Count > 0)
        {
            var (meta, dir) = BlockWriter.Write(workspaceDir, series, start, end,
                new AmphoraBlockInfo { Workspace = workspace, Ingester = Options.IngesterName });
            AddLocalBlock(workspace, await Block.OpenAsync(new LocalBlockFiles(dir)));
            BlocksCut.Add(1);
            LogBlockCut(_logger, workspace, meta.Ulid, start, end, meta.Stats.NumSeries, meta.Stats.NumSamples, stopwatch.Elapsed.TotalSeconds);
        }
        // Recorded before the head forgets the range, so a restart does not take samples the block already has.
        string file = Path.Combine(workspaceDir, MinValidTimeFile);
        File.WriteAllText(file + ".tmp", end.ToString(CultureInfo.InvariantCulture));
        File.Move(file + ".tmp", file, overwrite: true);
        head.TruncateBefore(end);
        CollectGarbage(workspace, head);
    }

    private void DropLocalBlocks(string workspace)
    {
        lock (_blocksGate) _localBlocks.Remove(workspace);
        string dir = WorkspaceIds.DirectoryUnder(BlocksDir, workspace);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
    }

    /// <summary>Uploads local blocks not uploaded yet and deletes uploaded ones older than the local retention.</summary>
    private async Task ShipAsync(CancellationToken ct)
    {
        if (Options.Bucket is not { } bucket) return;
        KeyValuePair<string, Block[]>[] all;
        lock (_blocksGate) all = _localBlocks.ToArray();
        foreach (var (workspace, blocks) in all)
        {
            foreach (var block in blocks)
            {
                string dir = block.Location;
                string marker = Path.Combine(dir, UploadedMarker);
                if (!File.Exists(marker))
                {
                    await BlockUploader.UploadAsync(bucket, BucketLayout.BlockPrefix(workspace, block.Meta.Ulid), dir, ct);
                    await File.WriteAllTextAsync(marker, DateTimeOffset.UtcNow.ToString("O"), ct);
                    BlocksUploaded.Add(1);
                    LogBlockUploaded(_logger, workspace, block.Meta.Ulid);
                }
                else if (File.GetLastWriteTimeUtc(marker) + Options.LocalBlockRetention < DateTime.UtcNow)
                {
                    // No longer served from here; the files go a while later, so queries that started with the block finish.
                    lock (_blocksGate)
                        if (_localBlocks.TryGetValue(workspace, out var current)) _localBlocks[workspace] = current.Where(b => b != block).ToArray();
                    _retired.Add((dir, DateTime.UtcNow));
                }
            }
        }
        foreach (var (dir, since) in _retired.ToList())
        {
            if (DateTime.UtcNow - since < RetiredGrace) continue;
            if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
            _retired.Remove((dir, since));
        }
    }

    /// <summary>
    /// Rewrites the closed WAL segments as a checkpoint holding only what a replay still needs: series the heads hold, their
    /// samples not yet in a block and exemplars as recent, and each metric family's latest metadata (workspace deletions resolved).
    /// </summary>
    internal void Checkpoint()
    {
        var stopwatch = Stopwatch.StartNew();
        int upTo = _wal.Rotate();
        var keptRefs = new HashSet<ulong>();
        var metadata = new Dictionary<(string, string), byte[]>();
        byte[]? Filter(WalRecordType type, ReadOnlySpan<byte> payload)
        {
            switch (type)
            {
                case WalRecordType.Series:
                {
                    var s = WalRecords.DecodeSeries(payload);
                    // Kept while the head holds the series under this reference (the current one, or an alias from a replay);
                    // series the head GC removed go.
                    if (!_heads.TryGetValue(s.Workspace, out var head) || !head.NeedsSeriesRecord(s.Ref, s.Labels)) return null;
                    keptRefs.Add(s.Ref);
                    return payload.ToArray();
                }
                case WalRecordType.Samples:
                {
                    var (workspace, batch) = WalRecords.DecodeSamples(payload);
                    if (!_heads.TryGetValue(workspace, out var head)) return null;
                    long minValid = head.MinValidTime;
                    var keep = batch.Where(x => x.T >= minValid && keptRefs.Contains(x.Ref)).ToArray();
                    return keep.Length == 0 ? null : keep.Length == batch.Length ? payload.ToArray() : WalRecords.EncodeSamples(workspace, keep);
                }
                case WalRecordType.HistogramSamples:
                {
                    var (workspace, batch) = WalHistogramRecords.Decode(payload);
                    if (!_heads.TryGetValue(workspace, out var head)) return null;
                    long minValid = head.MinValidTime;
                    var keep = batch.Where(x => x.T >= minValid && keptRefs.Contains(x.Ref)).ToArray();
                    return keep.Length == 0 ? null : keep.Length == batch.Length ? payload.ToArray() : WalHistogramRecords.Encode(workspace, keep);
                }
                case WalRecordType.FloatHistogramSamples:
                {
                    var (workspace, batch) = WalHistogramRecords.DecodeFloat(payload);
                    if (!_heads.TryGetValue(workspace, out var head)) return null;
                    long minValid = head.MinValidTime;
                    var keep = batch.Where(x => x.T >= minValid && keptRefs.Contains(x.Ref)).ToArray();
                    return keep.Length == 0 ? null : keep.Length == batch.Length ? payload.ToArray() : WalHistogramRecords.EncodeFloat(workspace, keep);
                }
                case WalRecordType.StartTimestamps:
                {
                    var (workspace, entries) = WalRecords.DecodeStartTimestamps(payload);
                    if (!_heads.TryGetValue(workspace, out var head)) return null;
                    long minValid = head.MinValidTime;
                    var keep = entries.Where(x => x.T >= minValid && keptRefs.Contains(x.Ref)).ToArray();
                    return keep.Length == 0 ? null : keep.Length == entries.Length ? payload.ToArray() : WalRecords.EncodeStartTimestamps(workspace, keep);
                }
                case WalRecordType.Exemplars:
                {
                    // As for samples: those of kept series not older than the head (the store may hold older ones until a restart).
                    var (workspace, logged) = WalRecords.DecodeExemplars(payload);
                    if (!_heads.TryGetValue(workspace, out var head)) return null;
                    long minValid = head.MinValidTime;
                    var keep = logged.Where(x => x.Exemplar.T >= minValid && keptRefs.Contains(x.Ref)).ToArray();
                    return keep.Length == 0 ? null : keep.Length == logged.Length ? payload.ToArray() : WalRecords.EncodeExemplars(workspace, keep);
                }
                case WalRecordType.Metadata:
                {
                    var (workspace, m) = WalRecords.DecodeMetadata(payload);
                    metadata[(workspace, m.MetricFamilyName)] = payload.ToArray();
                    return null;
                }
                case WalRecordType.WorkspaceDeleted:
                {
                    string workspace = WalRecords.DecodeWorkspace(payload);
                    foreach (var key in metadata.Keys.Where(k => k.Item1 == workspace).ToList()) metadata.Remove(key);
                    return null;
                }
                default:
                    return payload.ToArray();
            }
        }
        IEnumerable<(WalRecordType, byte[])> Trailer() => metadata.Values.Select(p => (WalRecordType.Metadata, p));
        long kept = WalCheckpoint.Create(WalDir, upTo, Filter, Trailer());
        Checkpoints.Add(1);
        LogCheckpoint(_logger, upTo, kept, stopwatch.Elapsed.TotalSeconds);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cut block {Ulid} of workspace {Workspace} for [{MinTime}, {MaxTime}): {Series} series, {Samples} samples in {Seconds:F2} s")]
    private static partial void LogBlockCut(ILogger logger, string workspace, string ulid, long minTime, long maxTime, long series, long samples, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Uploaded block {Ulid} of workspace {Workspace}")]
    private static partial void LogBlockUploaded(ILogger logger, string workspace, string ulid);

    [LoggerMessage(Level = LogLevel.Information, Message = "WAL checkpoint through segment {UpTo}: {Records} records kept in {Seconds:F2} s")]
    private static partial void LogCheckpoint(ILogger logger, int upTo, long records, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Block cut, upload or checkpoint failed; retrying on the next cycle")]
    private static partial void LogBlockFailure(ILogger logger, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "Local block {Dir} is unreadable and was set aside (.corrupt): {Reason}")]
    private static partial void LogCorruptLocalBlock(ILogger logger, string dir, string reason);
}
