using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Amphora.Tsdb.Wal;

/// <summary>When the WAL is fsynced: before every acknowledgement (default), once a second, or never (the OS decides).</summary>
public enum FsyncPolicy { Always, Batch, Never }

/// <summary>
/// The WAL as committers use it. <see cref="Append"/> writes a record under the writer's short lock and returns its sequence
/// number. With <see cref="FsyncPolicy.Always"/> a commit returns only once an fsync has covered its records: the first
/// commit that finds no sync running starts one (the leader) for everything written so far, and every commit whose record is
/// covered by it (the followers) returns when it ends; one that is not starts or joins the next round. No lock is held while
/// the disk syncs, so appends, series lookups and other commits go on meanwhile and the next round takes all of them at once
/// (group commit). With the other policies records are still handed to the operating system before the commit returns, so
/// a killed process loses nothing.
/// </summary>
public sealed class GroupCommitWal : IDisposable
{
    private static readonly Meter Meter = new("Amphora.Tsdb.Wal");
    private static readonly Histogram<double> FsyncDuration = Meter.CreateHistogram<double>("amphora_tsdb_wal_fsync_duration_seconds",
        unit: null, description: "Time a WAL sync round takes (writing out buffered records and fsyncing them).", tags: null,
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });
    private static readonly Histogram<long> CommitsPerFsync = Meter.CreateHistogram<long>("amphora_tsdb_wal_commits_per_fsync",
        unit: null, description: "Commits that arrived since the previous WAL sync round, recorded at each round (group commit's batch size).",
        tags: null, advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });

    private readonly WalWriter _writer;
    private readonly FsyncPolicy _policy;
    private readonly Lock _gate = new();
    private readonly Timer? _batchTimer;
    private long _synced, _commits, _fsyncs, _commitsAtLastFsync;
    private Task? _syncing;

    public GroupCommitWal(WalWriter writer, FsyncPolicy policy)
    {
        _writer = writer;
        _policy = policy;
        if (policy == FsyncPolicy.Batch) _batchTimer = new Timer(_ => SyncNow(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public long Fsyncs => Interlocked.Read(ref _fsyncs);
    public long Commits => Interlocked.Read(ref _commits);

    /// <summary>Runs before each sync round, outside every lock; tests slow it down to see commits pile up behind one sync.</summary>
    internal Action? BeforeSync { get; set; }

    /// <summary>Appends a record; returns its sequence number for <see cref="CommitAsync"/>.</summary>
    public long Append(WalRecordType type, ReadOnlySpan<byte> payload) => _writer.Append(type, payload);

    /// <summary>Starts a new segment; returns the number of the last closed one (see <see cref="WalWriter.Rotate"/>).</summary>
    public int Rotate() => _writer.Rotate();

    /// <summary>Returns once the records up to <paramref name="sequence"/> are as durable as the policy promises.</summary>
    public async Task CommitAsync(long sequence)
    {
        Interlocked.Increment(ref _commits);
        if (_policy != FsyncPolicy.Always)
        {
            _writer.Flush();
            return;
        }
        while (true)
        {
            Task round;
            lock (_gate)
            {
                if (_synced >= sequence) return;
                // A running round may have started before this record was written: wait for it, then look again.
                round = _syncing ??= Task.Run(SyncRound);
            }
            await round;
        }
    }

    /// <summary>One leader's round: syncs everything written so far and publishes how far that is.</summary>
    private void SyncRound()
    {
        try
        {
            BeforeSync?.Invoke();
            long upTo = Sync();
            lock (_gate) _synced = Math.Max(_synced, upTo);
        }
        finally
        {
            lock (_gate) _syncing = null;
        }
    }

    private long Sync()
    {
        long started = Stopwatch.GetTimestamp();
        long upTo = _writer.Sync(out bool fsynced);
        if (!fsynced) return upTo;
        FsyncDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
        Interlocked.Increment(ref _fsyncs);
        long commits = Commits;
        CommitsPerFsync.Record(commits - Interlocked.Exchange(ref _commitsAtLastFsync, commits));
        return upTo;
    }

    private void SyncNow()
    {
        try
        {
            Sync();
        }
        catch (ObjectDisposedException)
        {
        }
        catch (IOException)
        {
            // Sticky in the writer: the batch policy acknowledges without waiting for a sync, and a timer must not crash
            // the process.
        }
    }

    public void Dispose()
    {
        _batchTimer?.Dispose();
        _writer.Dispose();
    }
}
