namespace Amphora.Tsdb.Wal;

/// <summary>Appends framed records to numbered segment files (00000000, 00000001...), rotating at SegmentSize.</summary>
public sealed class WalWriter : IDisposable
{
    private readonly string _dir;
    private readonly long _segmentSize;
    private readonly object _gate = new();
    private FileStream _current;

    public WalWriter(string dir, long segmentSize = 128L * 1024 * 1024)
    {
        _dir = dir;
        _segmentSize = segmentSize;
        Directory.CreateDirectory(dir);
        var existing = WalSegments.List(dir);
        CurrentSegment = existing.Count == 0 ? 0 : existing[^1] + 1;
        _current = OpenSegment(CurrentSegment);
    }

    public int CurrentSegment { get; private set; }

    /// <summary>Writes one record; call Sync to make it durable.</summary>
    public void Append(WalRecordType type, ReadOnlySpan<byte> payload)
    {
        if (payload.Length > WalFraming.MaxPayload) throw new ArgumentException("WAL record too large", nameof(payload));
        Span<byte> header = stackalloc byte[WalFraming.HeaderSize];
        WalFraming.WriteHeader(header, type, payload);
        lock (_gate)
        {
            if (_current.Length > 0 && _current.Length + header.Length + payload.Length > _segmentSize)
            {
                _current.Flush(true);
                _current.Dispose();
                CurrentSegment++;
                _current = OpenSegment(CurrentSegment);
            }
            _current.Write(header);
            _current.Write(payload);
        }
    }

    /// <summary>Closes the current segment (synced) and starts the next; returns the number of the closed one. Segments up to it
    /// are immutable from then on, so a checkpoint can read them while appends continue.</summary>
    public int Rotate()
    {
        lock (_gate)
        {
            _current.Flush(true);
            _current.Dispose();
            int closed = CurrentSegment++;
            _current = OpenSegment(CurrentSegment);
            return closed;
        }
    }

    /// <summary>Flushes buffered records and fsyncs the current segment.</summary>
    public void Sync()
    {
        lock (_gate) _current.Flush(true);
    }

    /// <summary>Hands buffered records to the operating system (they survive a killed process, not a power cut).</summary>
    public void Flush()
    {
        lock (_gate) _current.Flush(false);
    }

    private FileStream OpenSegment(int n) =>
        new(WalSegments.PathOf(_dir, n), FileMode.Append, FileAccess.Write, FileShare.Read, 1 << 16);

    public void Dispose()
    {
        lock (_gate)
        {
            _current.Flush(true);
            _current.Dispose();
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
