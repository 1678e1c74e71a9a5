using Microsoft.Win32.SafeHandles;

namespace Amphora.Tsdb.Wal;

/// <summary>
/// Appends framed records to numbered segment files (00000000, 00000001...), rotating at SegmentSize. Thread-safe.
/// <see cref="Append"/> copies the record into a buffer (written to the file when full) under a short lock and never waits
/// on an fsync; <see cref="Sync"/> writes the buffer out under that lock, then fsyncs outside it, so appends go on while
/// the disk syncs, and reports the sequence number up to which records are durable.
/// </summary>
public sealed class WalWriter : IDisposable
{
    private const int BufferSize = 1 << 16;
    // While an fsync runs, records collect in memory up to this (the next round writes them out at once) instead of being
    // written to the file the fsync is flushing.
    private const int MaxBufferWhileSyncing = 16 << 20;

    private readonly string _dir;
    private readonly long _segmentSize;
    // Appends, write-outs and rotations: held for a memory copy or a write(2), never for an fsync.
    private readonly Lock _gate = new();
    // One sync round at a time (so a later round never reports records an earlier one is still syncing); appenders never take it.
    private readonly Lock _syncGate = new();
    private byte[] _buffer = new byte[BufferSize];
    private bool _syncRunning;
    private int _buffered;
    private Segment _current;
    // Rotated out with their records written but not yet fsynced; the next sync round fsyncs and closes them.
    private readonly List<Segment> _closed = new();
    private long _appended, _synced;
    private bool _newSegment; // a segment file was created since the last sync: the directory entry needs an fsync too
    private Exception? _syncFailure;
    private bool _disposed;

    private sealed class Segment(int number, SafeFileHandle handle, long length)
    {
        public readonly int Number = number;
        public readonly SafeFileHandle Handle = handle;
        /// <summary>Bytes in the segment including those still in the buffer.</summary>
        public long Length = length;
    }

    public WalWriter(string dir, long segmentSize = 128L * 1024 * 1024)
    {
        _dir = dir;
        _segmentSize = segmentSize;
        Directory.CreateDirectory(dir);
        var existing = WalSegments.List(dir);
        _current = OpenSegment(existing.Count == 0 ? 0 : existing[^1] + 1);
        _newSegment = true;
    }

    public int CurrentSegment
    {
        get { lock (_gate) return _current.Number; }
    }

    /// <summary>Makes a segment's data durable; tests replace it to see what a slow disk does to appenders.</summary>
    internal Action<SafeFileHandle> FlushToDisk { get; init; } = RandomAccess.FlushToDisk;

    /// <summary>Writes one record and returns its sequence number (1, 2, ...); <see cref="Sync"/> makes it durable.</summary>
    public long Append(WalRecordType type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > WalFraming.MaxPayload) throw new ArgumentException("WAL record too large", nameof(payload));
        Span<byte> header = stackalloc byte[WalFraming.HeaderSize];
        WalFraming.WriteHeader(header, type, payload);
        int size = header.Length + payload.Length;
        bool rotated = false;
        long sequence;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (_current.Length > 0 && _current.Length + size > _segmentSize)
            {
                WriteOut();
                StartSegment();
                rotated = true;
            }
            if (size > _buffer.Length - _buffered)
            {
                if (_syncRunning && _buffered + size <= MaxBufferWhileSyncing) Array.Resize(ref _buffer, Math.Min(MaxBufferWhileSyncing, Math.Max(_buffer.Length * 2, _buffered + size)));
                else WriteOut();
            }
            if (size > _buffer.Length - _buffered)
            {
                RandomAccess.Write(_current.Handle, header, _current.Length);
                RandomAccess.Write(_current.Handle, payload, _current.Length + header.Length);
            }
            else
            {
                header.CopyTo(_buffer.AsSpan(_buffered));
                payload.CopyTo(_buffer.AsSpan(_buffered + header.Length));
                _buffered += size;
            }
            _current.Length += size;
            sequence = ++_appended;
        }
        // The full segment is fsynced and closed in the background (whatever the policy, so segments do not stay open); a
        // commit waiting for its records meanwhile syncs it in its own round.
        if (rotated) _ = Task.Run(SyncInBackground);
        return sequence;
    }

    private void SyncInBackground()
    {
        try
        {
            Sync();
        }
        catch (Exception e) when (e is ObjectDisposedException or IOException or UnauthorizedAccessException)
        {
            // Disposed meanwhile, or the fsync failed: that is sticky, and the next commit's sync reports it.
        }
    }

    /// <summary>Closes the current segment (synced) and starts the next; returns the number of the closed one. Segments up to it
    /// are immutable from then on, so a checkpoint can read them while appends continue.</summary>
    public int Rotate()
    {
        int closed;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            WriteOut();
            closed = _current.Number;
            StartSegment();
        }
        Sync();
        return closed;
    }

    /// <summary>
    /// Makes every record appended before the call durable and returns the sequence number of the last one. Appends made
    /// while the fsync runs are not waited for (they go to the next round). After a failed fsync the writer cannot tell what
    /// reached the disk, so every later sync fails too.
    /// </summary>
    public long Sync() => Sync(out _);

    /// <inheritdoc cref="Sync()"/>
    /// <param name="fsynced">False when nothing was written since the last sync, so there was nothing to fsync.</param>
    public long Sync(out bool fsynced)
    {
        fsynced = false;
        lock (_syncGate)
        {
            Segment[] closed;
            Segment current;
            long upTo;
            bool directory;
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                if (_syncFailure is not null) throw new IOException($"an earlier fsync of the WAL in {_dir} failed; restart to replay it", _syncFailure);
                WriteOut();
                upTo = _appended;
                if (upTo == _synced && _closed.Count == 0 && !_newSegment) return upTo;
                closed = _closed.ToArray();
                _closed.Clear();
                current = _current;
                directory = _newSegment;
                _newSegment = false;
                _syncRunning = true;
            }
            // Outside _gate: appends continue meanwhile. Dispose takes _syncGate, so the handles stay open until the round ends.
            try
            {
                foreach (var segment in closed)
                {
                    FlushToDisk(segment.Handle);
                    segment.Handle.Dispose();
                }
                FlushToDisk(current.Handle);
                if (directory) Blocks.BlockWriter.SyncDirectory(_dir);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                lock (_gate) _syncFailure = e;
                foreach (var segment in closed) segment.Handle.Dispose();
                throw;
            }
            finally
            {
                lock (_gate) _syncRunning = false;
            }
            lock (_gate) _synced = upTo;
            fsynced = true;
            return upTo;
        }
    }

    /// <summary>Hands buffered records to the operating system (they survive a killed process, not a power cut).</summary>
    public void Flush()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            WriteOut();
        }
    }

    /// <summary>Writes the buffer at its place in the current segment. On failure the buffer stays, and the next write-out
    /// writes the same bytes at the same offset again.</summary>
    private void WriteOut()
    {
        if (_buffered == 0) return;
        RandomAccess.Write(_current.Handle, _buffer.AsSpan(0, _buffered), _current.Length - _buffered);
        _buffered = 0;
    }

    private void StartSegment()
    {
        var next = OpenSegment(_current.Number + 1);
        _closed.Add(_current);
        _current = next;
        _newSegment = true;
    }

    private Segment OpenSegment(int n)
    {
        var handle = File.OpenHandle(WalSegments.PathOf(_dir, n), FileMode.OpenOrCreate, FileAccess.Write, FileShare.Read | FileShare.Delete);
        return new Segment(n, handle, RandomAccess.GetLength(handle));
    }

    public void Dispose()
    {
        lock (_syncGate)
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            try
            {
                WriteOut();
                if (_syncFailure is null)
                {
                    foreach (var segment in _closed) FlushToDisk(segment.Handle);
                    FlushToDisk(_current.Handle);
                }
            }
            finally
            {
                foreach (var segment in _closed) segment.Handle.Dispose();
                _closed.Clear();
                _current.Handle.Dispose();
            }
        }
    }
}

public static class WalSegments
{
    public static string PathOf(string dir, int n) => Path.Combine(dir, n.ToString("D8", System.Globalization.CultureInfo.InvariantCulture));

    public static List<int> List(string dir)
    {
        var result = new List<int>();
        if (!Directory.Exists(dir)) return result;
        foreach (var f in Directory.EnumerateFiles(dir))
        {
            var name = Path.GetFileName(f);
            if (name.Length == 8 && int.TryParse(name, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var n))
                result.Add(n);
        }
        result.Sort();
        return result;
    }
}
