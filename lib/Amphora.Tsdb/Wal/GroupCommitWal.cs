namespace Amphora.Tsdb.Wal;

/// <summary>When the WAL is fsynced: before every acknowledgement (default), once a second, or never (the OS decides).</summary>
public enum FsyncPolicy { Always, Batch, Never }

/// <summary>
/// The WAL as committers use it: records are appended under a lock; with <see cref="FsyncPolicy.Always"/> a commit waits
/// until an fsync covers its records, and concurrent commits share one fsync (group commit). With the other policies records
/// are still handed to the operating system before the commit returns, so a killed process loses nothing.
/// </summary>
public sealed class GroupCommitWal : IDisposable
{
    private readonly WalWriter _writer;
    private readonly FsyncPolicy _policy;
    private readonly object _gate = new();
    private readonly Timer? _batchTimer;
    private long _appended, _synced;
    private Task? _syncing;

    public GroupCommitWal(WalWriter writer, FsyncPolicy policy)
    {
        _writer = writer;
        _policy = policy;
        if (policy == FsyncPolicy.Batch) _batchTimer = new Timer(_ => SyncNow(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    public long Fsyncs { get; private set; }

    /// <summary>Runs before each fsync; tests slow it down to see commits pile up behind one sync.</summary>
    internal Action? BeforeSync { get; set; }
    public long Commits { get; private set; }

    /// <summary>Appends a record; returns its sequence number for <see cref="CommitAsync"/>.</summary>
    public long Append(WalRecordType type, ReadOnlySpan<byte> payload)
    {
        lock (_gate)
        {
            _writer.Append(type, payload);
            return ++_appended;
        }
    }

    /// <summary>Starts a new segment; returns the number of the last closed one (see <see cref="WalWriter.Rotate"/>).</summary>
    public int Rotate()
    {
        lock (_gate) return _writer.Rotate();
    }

    /// <summary>Returns once the records up to <paramref name="sequence"/> are as durable as the policy promises.</summary>
    public async Task CommitAsync(long sequence)
    {
        lock (_gate) Commits++;
        if (_policy != FsyncPolicy.Always)
        {
            _writer.Flush();
            return;
        }
        while (true)
        {
            Task wait;
            lock (_gate)
            {
                if (_synced >= sequence) return;
                if (_syncing is null)
                {
                    long target = _appended;
                    _syncing = Task.Run(() =>
                    {
                        try
                        {
                            BeforeSync?.Invoke();
                            _writer.Sync();
                            lock (_gate)
                            {
                                _synced = Math.Max(_synced, target);
                                Fsyncs++;
                            }
                        }
                        finally
                        {
                            lock (_gate) _syncing = null;
                        }
                    });
                }
                wait = _syncing;
            }
            await wait;
        }
    }

    private void SyncNow()
    {
        try
        {
            _writer.Sync();
            lock (_gate) Fsyncs++;
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _batchTimer?.Dispose();
        _writer.Dispose();
    }
}
