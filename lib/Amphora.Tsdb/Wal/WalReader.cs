using System.Buffers.Binary;

namespace Amphora.Tsdb.Wal;

public sealed record WalReplayStats(int Segments, long Records, int TornTailsTruncated, bool Repaired);

/// <summary>Replays all segments in order. A bad record in the last segment is a torn tail and is truncated;
/// in an earlier segment it throws <see cref="WalCorruptionException"/> unless repair is set.</summary>
public static class WalReader
{
    public delegate void RecordHandler(WalRecordType type, ReadOnlySpan<byte> payload);

    /// <summary>Replays the newest checkpoint (if any), then the segments after it.</summary>
    public static WalReplayStats Replay(string dir, RecordHandler handler, bool repair = false)
    {
        WalCheckpoint.RemoveIncomplete(dir);
        int after = -1;
        if (WalCheckpoint.Latest(dir) is { } checkpoint)
        {
            ReplayStrict(checkpoint.Dir, handler);
            after = checkpoint.UpTo;
        }
        return ReplaySegments(dir, handler, repair, after);
    }

    /// <summary>Replays every segment of a directory that must be intact (a synced checkpoint).</summary>
    internal static void ReplayStrict(string dir, RecordHandler handler)
    {
        foreach (int segment in WalSegments.List(dir)) ReplaySegmentStrict(dir, segment, handler);
    }

    /// <summary>Replays one closed segment; any damage is corruption, not a torn tail.</summary>
    internal static void ReplaySegmentStrict(string dir, int segment, RecordHandler handler)
    {
        var (_, badOffset, reason) = ReadSegment(File.ReadAllBytes(WalSegments.PathOf(dir, segment)), handler);
        if (badOffset >= 0) throw new WalCorruptionException(segment, badOffset, $"{reason} (in {Path.GetFileName(dir)})");
    }

    private static WalReplayStats ReplaySegments(string dir, RecordHandler handler, bool repair, int after)
    {
        var segments = WalSegments.List(dir).Where(s => s > after).ToList();
        long records = 0;
        int torn = 0;
        bool repaired = false;
        for (int i = 0; i < segments.Count; i++)
        {
            var path = WalSegments.PathOf(dir, segments[i]);
            var data = File.ReadAllBytes(path);
            var (count, badOffset, reason) = ReadSegment(data, handler);
            records += count;
            if (badOffset < 0) continue;
            bool isLast = i == segments.Count - 1;
            if (!isLast && !repair) throw new WalCorruptionException(segments[i], badOffset, reason!);
            using (var fs = new FileStream(path, FileMode.Open, FileAccess.Write)) { fs.SetLength(badOffset); fs.Flush(true); }
            if (isLast) { torn++; break; }
            repaired = true;
            for (int j = i + 1; j < segments.Count; j++) File.Delete(WalSegments.PathOf(dir, segments[j]));
            return new WalReplayStats(i + 1, records, torn, repaired);
        }
        return new WalReplayStats(segments.Count, records, torn, repaired);
    }

    private static (long Count, long BadOffset, string? Reason) ReadSegment(byte[] data, RecordHandler handler)
    {
        long count = 0;
        int pos = 0;
        while (pos < data.Length)
        {
            if (data.Length - pos < WalFraming.HeaderSize) return (count, pos, "truncated header");
            var span = data.AsSpan(pos);
            uint len = BinaryPrimitives.ReadUInt32LittleEndian(span);
            var type = (WalRecordType)span[4];
            uint crc = BinaryPrimitives.ReadUInt32LittleEndian(span.Slice(5));
            if (len > WalFraming.MaxPayload) return (count, pos, "invalid length");
            if (span.Length - WalFraming.HeaderSize < len) return (count, pos, "truncated payload");
            var payload = span.Slice(WalFraming.HeaderSize, (int)len);
            if (WalFraming.Checksum(type, payload) != crc) return (count, pos, "checksum mismatch");
            handler(type, payload);
            count++;
            pos += WalFraming.HeaderSize + (int)len;
        }
        return (count, -1, null);
    }
}
