using Amphora.Tsdb;
using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Wal;
using Microsoft.Extensions.Logging;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Ingester.Storage;

/// <summary>
/// An ingester's storage: one head per workspace and one write-ahead log for all of them. Every commit is written to the WAL
/// (and synced, by policy) before memory changes and before the writer is acknowledged; opening replays the WAL, truncating a
/// torn tail. Implements the storage contracts the distributor and querier use.
/// </summary>
public sealed partial class TsdbStorage : IWorkspaceAppendable, IWorkspaceQueryable, IWorkspaceMetadata, IDisposable
{
    private static readonly Meter Meter = new("Amphora.Tsdb");
    private static readonly Counter<long> SamplesAppended = Meter.CreateCounter<long>("amphora_tsdb_samples_appended",
        description: "Samples written to the WAL and the head.");
    private static readonly Counter<long> WalTruncations = Meter.CreateCounter<long>("amphora_tsdb_wal_truncations",
        description: "Torn or corrupt WAL tails truncated at start-up.");
    private static readonly Counter<long> BlocksCut = Meter.CreateCounter<long>("amphora_tsdb_blocks_cut", description: "Blocks written from the head.");
    private static readonly Counter<long> BlocksUploaded = Meter.CreateCounter<long>("amphora_tsdb_blocks_uploaded", description: "Blocks uploaded to the bucket.");
    private static readonly Counter<long> BlockFailures = Meter.CreateCounter<long>("amphora_tsdb_block_failures",
        description: "Failed block cuts, uploads or WAL checkpoints (retried on the next cycle).");
    private static readonly Counter<long> Checkpoints = Meter.CreateCounter<long>("amphora_tsdb_wal_checkpoints", description: "WAL checkpoints written.");
    private static readonly Counter<long> SeriesCreated = Meter.CreateCounter<long>("amphora_tsdb_head_series_created",
        description: "Series created in the heads (a series that comes back after the GC removed it counts again).");
    private static readonly Counter<long> SeriesRemoved = Meter.CreateCounter<long>("amphora_tsdb_head_series_removed",
        description: "Series the head GC removed after a block cut because they held no samples any more.");
    private static readonly Histogram<double> HeadGcDuration = Meter.CreateHistogram<double>("amphora_tsdb_head_gc_duration_seconds",
        description: "Time the head GC takes after a block cut (finding and removing series without samples).");

    private readonly ConcurrentDictionary<string, Head> _heads = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, MetricMetadata>> _metadata = new(StringComparer.Ordinal);
    private GroupCommitWal _wal = null!;
    private long _nextRef;
    private readonly string _dir;
    private readonly ILogger _logger;

    private TsdbStorage(string dir, TsdbOptions options, ILogger logger, ISeriesAccounting? accounting)
    {
        _dir = dir;
        Options = options;
        _logger = logger;
        Accounting = accounting;
    }

    private string WalDir => Path.Combine(_dir, "wal");

    public TsdbOptions Options { get; }
    /// <summary>The series limits new series are admitted by and removed series released to; null counts nothing.</summary>
    internal ISeriesAccounting? Accounting { get; }
    internal long WindowMs => (long)Options.OutOfOrderWindow.TotalMilliseconds;
    internal long BlockRangeMs => (long)Options.BlockRange.TotalMilliseconds;
    public long Fsyncs => _wal.Fsyncs;
    public long Commits => _wal.Commits;

    /// <summary>Opens the storage in <paramref name="dir"/>, replaying its WAL. New series are admitted by
    /// <paramref name="accounting"/>, and series the head GC removes are released to it (the replayed ones are not: count them
    /// from <see cref="SeriesOf"/>).</summary>
    public static async Task<TsdbStorage> OpenAsync(string dir, TsdbOptions options, ILogger logger, ISeriesAccounting? accounting = null)
    {
        var storage = new TsdbStorage(dir, options, logger, accounting);
        string walDir = storage.WalDir;
        Directory.CreateDirectory(walDir);
        await storage.OpenLocalBlocksAsync();
        var stopwatch = Stopwatch.StartNew();
        int segments = WalSegments.List(walDir).Count;
        long series = 0, samples = 0, exemplars = 0, invalid = 0;
        // A WAL written before workspace ids were checked at the gRPC entry may name one that is a path; its records are dropped.
        bool Invalid(string workspace) => WorkspaceIds.Validate(workspace) is not null && ++invalid > 0;
        // Start timestamps logged before their samples, until those are applied (empty unless samples came with them).
        var pendingST = new Dictionary<(ulong Ref, long T), long>();
        long StartTimestamp(ulong seriesRef, long t) => pendingST.Count > 0 && pendingST.Remove((seriesRef, t), out long st) ? st : 0;
        var replay = WalReader.Replay(walDir, (type, payload) =>
        {
            switch (type)
            {
                case WalRecordType.Series:
                {
                    var s = WalRecords.DecodeSeries(payload);
                    if (Invalid(s.Workspace)) break;
                    storage.HeadFor(s.Workspace).Restore(s.Ref, s.Labels);
                    storage._nextRef = Math.Max(storage._nextRef, (long)s.Ref);
                    series++;
                    break;
                }
                case WalRecordType.Samples:
                {
                    var (workspace, batch) = WalRecords.DecodeSamples(payload);
                    if (Invalid(workspace)) break;
                    var head = storage.HeadFor(workspace);
                    long minValid = head.MinValidTime;
                    foreach (var sample in batch)
                    {
                        long st = StartTimestamp(sample.Ref, sample.T);
                        if (head.Find(sample.Ref) is not { } s) continue; // its workspace was deleted later in the log
                        if (sample.T < minValid) continue; // already in a block
                        lock (s.Lock) s.Apply(sample.T, sample.V, st);
                        head.Observe(sample.T, sample.T);
                    }
                    samples += batch.Length;
                    break;
                }
                case WalRecordType.HistogramSamples:
                {
                    var (workspace, batch) = WalHistogramRecords.Decode(payload);
                    if (Invalid(workspace)) break;
                    var head = storage.HeadFor(workspace);
                    long minValid = head.MinValidTime;
                    foreach (var sample in batch)
                    {
                        long st = StartTimestamp(sample.Ref, sample.T);
                        if (head.Find(sample.Ref) is not { } s || sample.T < minValid) continue;
                        lock (s.Lock) s.ApplyHistogram(sample.T, sample.H, st);
                        head.Observe(sample.T, sample.T);
                    }
                    samples += batch.Length;
                    break;
                }
                case WalRecordType.FloatHistogramSamples:
                {
                    var (workspace, batch) = WalHistogramRecords.DecodeFloat(payload);
                    if (Invalid(workspace)) break;
                    var head = storage.HeadFor(workspace);
                    long minValid = head.MinValidTime;
                    foreach (var sample in batch)
                    {
                        long st = StartTimestamp(sample.Ref, sample.T);
                        if (head.Find(sample.Ref) is not { } s || sample.T < minValid) continue;
                        lock (s.Lock) s.ApplyFloatHistogram(sample.T, sample.H, st);
                        head.Observe(sample.T, sample.T);
                    }
                    samples += batch.Length;
                    break;
                }
                case WalRecordType.StartTimestamps:
                {
                    var (workspace, entries) = WalRecords.DecodeStartTimestamps(payload);
                    if (Invalid(workspace)) break;
                    foreach (var e in entries) pendingST[(e.Ref, e.T)] = e.ST;
                    break;
                }
                case WalRecordType.Exemplars:
                {
                    var (workspace, logged) = WalRecords.DecodeExemplars(payload);
                    if (Invalid(workspace) || !storage._heads.TryGetValue(workspace, out var head)) break;
                    foreach (var e in logged)
                        if (head.Find(e.Ref) is { } s) storage.RestoreExemplar(workspace, s.Labels, e.Exemplar);
                    exemplars += logged.Length;
                    break;
                }
                case WalRecordType.Metadata:
                {
                    var (workspace, m) = WalRecords.DecodeMetadata(payload);
                    if (Invalid(workspace)) break;
                    storage.MetadataFor(workspace)[m.MetricFamilyName] = m;
                    break;
                }
                case WalRecordType.WorkspaceDeleted:
                {
                    string workspace = WalRecords.DecodeWorkspace(payload);
                    storage._heads.TryRemove(workspace, out _);
                    storage._metadata.TryRemove(workspace, out _);
                    storage.DropExemplars(workspace);
                    break;
                }
            }
        }, options.WalRepair);
        if (invalid > 0) LogInvalidWorkspaceRecords(logger, invalid);
        if (replay.TornTailsTruncated > 0)
        {
            WalTruncations.Add(replay.TornTailsTruncated);
            LogTornTail(logger, walDir);
        }
        if (replay.Repaired) LogRepaired(logger, walDir);
        int removed = 0;
        foreach (var head in storage._heads.Values) removed += head.CollectGarbage().Count;
        LogReplayed(logger, replay.Segments, segments, series, samples, exemplars, removed, stopwatch.Elapsed.TotalSeconds);
        // References are never reused: series forgotten above (or with a deleted workspace) may still be named in old segments.
        storage._nextRef = Math.Max(storage._nextRef, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() << 16);
        storage._wal = new GroupCommitWal(new WalWriter(walDir, options.WalSegmentSize), options.Fsync);
        Meter.CreateObservableCounter("amphora_tsdb_wal_fsyncs", () => storage._wal.Fsyncs, description: "WAL fsyncs (commits share them).");
        storage.StartBackground();
        return storage;
    }

    internal Head HeadFor(string workspace) => _heads.GetOrAdd(workspace, w =>
    {
        var head = new Head(BlockRangeMs);
        head.RestoreMinValidTime(MinValidTimeOf(w));
        return head;
    });

    private ConcurrentDictionary<string, MetricMetadata> MetadataFor(string workspace) =>
        _metadata.GetOrAdd(workspace, static _ => new ConcurrentDictionary<string, MetricMetadata>(StringComparer.Ordinal));

    internal ulong NextRef() => (ulong)Interlocked.Increment(ref _nextRef);

    /// <summary>An appender for <paramref name="workspace"/>; an invalid id throws <see cref="InvalidWorkspaceIdException"/> (it
    /// would become a directory when the head is cut).</summary>
    public IAppender Appender(string workspace) => new TsdbAppender(this, WorkspaceIds.Require(workspace));

    /// <summary>The workspace's head merged with its blocks still on local disk.</summary>
    public IQueryable ForWorkspace(string workspace)
    {
        IQueryable head = _heads.TryGetValue(workspace, out var h) ? h : EmptyWorkspace.Instance;
        var blocks = LocalBlocks(workspace);
        return blocks.Length == 0 ? head : new MergeQueryable(head, new BlocksQueryable(blocks));
    }

    public int ActiveSeries(string workspace) => _heads.TryGetValue(workspace, out var h) ? h.SeriesCount : 0;


    /// <summary>Every series of a workspace (to recount limits after a restart).</summary>
    public IEnumerable<Labels> SeriesOf(string workspace) => _heads.TryGetValue(workspace, out var h) ? h.AllLabels() : [];

    public IEnumerable<string> Workspaces => _heads.Keys;

    /// <summary>Deletes a workspace's data: logged first, so a restart does not bring it back.</summary>
    public async Task DropAsync(string workspace)
    {
        // The workspace's cuts, then the checkpoint and uploads (a checkpoint must not keep series of a deleted workspace
        // while dropping the record that deletes them; an upload must not read the directory being deleted).
        var gate = WorkspaceLock(workspace);
        await gate.WaitAsync();
        try
        {
            await _shipLock.WaitAsync();
            try
            {
                long seq = _wal.Append(WalRecordType.WorkspaceDeleted, WalRecords.EncodeWorkspace(workspace));
                await _wal.CommitAsync(seq);
                _heads.TryRemove(workspace, out _);
                _metadata.TryRemove(workspace, out _);
                DropExemplars(workspace);
                DropLocalBlocks(workspace);
            }
            finally
            {
                _shipLock.Release();
            }
        }
        finally
        {
            gate.Release();
        }
    }

    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct = default)
    {
        var result = new SortedDictionary<string, IReadOnlyList<MetricMetadata>>(StringComparer.Ordinal);
        if (_metadata.TryGetValue(workspace, out var families))
            foreach (var (family, m) in families)
                if (metric is null || family == metric) result[family] = [m];
        IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>> limited = limit >= 0 && result.Count > limit
            ? result.Take(limit).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal)
            : result;
        return ValueTask.FromResult(limited);
    }

    internal long AppendWal(WalRecordType type, byte[] payload) => _wal.Append(type, payload);
    internal Task CommitWalAsync(long sequence) => _wal.CommitAsync(sequence);
    internal void ApplyMetadata(string workspace, MetricMetadata m) => MetadataFor(workspace)[m.MetricFamilyName] = m;
    internal static void CountAppended(long n) => SamplesAppended.Add(n);
    internal static void CountCreated() => SeriesCreated.Add(1);

    /// <summary>Removes the head's series left without samples (after a cut) and releases them to the series limits; returns
    /// how many went.</summary>
    internal int CollectGarbage(string workspace, Head head)
    {
        long start = Stopwatch.GetTimestamp();
        var removed = head.CollectGarbage();
        HeadGcDuration.Record(Stopwatch.GetElapsedTime(start).TotalSeconds);
        if (removed.Count == 0) return 0;
        SeriesRemoved.Add(removed.Count);
        if (Accounting is { } accounting)
            foreach (var labels in removed) accounting.Release(workspace, labels);
        LogGarbageCollected(_logger, workspace, removed.Count, head.SeriesCount);
        return removed.Count;
    }

    public void Dispose()
    {
        StopBackground();
        _wal.Dispose();
    }

    private sealed class EmptyWorkspace : IQueryable
    {
        public static readonly EmptyWorkspace Instance = new();
        public IQuerier Querier(long minT, long maxT) => new Head(TimeSpan.FromHours(2).Ticks / TimeSpan.TicksPerMillisecond).Querier(minT, maxT);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "WAL replayed: {Done}/{Total} segments, {Series} series, {Samples} samples, {Exemplars} exemplars ({Removed} series without data forgotten) in {Seconds:F2} s")]
    private static partial void LogReplayed(ILogger logger, int done, int total, long series, long samples, long exemplars, int removed, double seconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Head GC of workspace {Workspace}: {Removed} series without samples removed, {Active} active")]
    private static partial void LogGarbageCollected(ILogger logger, string workspace, int removed, int active);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL replay dropped {Records} records of workspace ids that are not valid (written before ids were checked)")]
    private static partial void LogInvalidWorkspaceRecords(ILogger logger, long records);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL in {Dir} had a torn or corrupt tail (an interrupted write); truncated at the last good record")]
    private static partial void LogTornTail(ILogger logger, string dir);

    [LoggerMessage(Level = LogLevel.Warning, Message = "WAL in {Dir} was corrupt in the middle; repaired by truncating there (later records dropped)")]
    private static partial void LogRepaired(ILogger logger, string dir);
}
