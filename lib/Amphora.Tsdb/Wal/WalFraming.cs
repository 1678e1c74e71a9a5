using System.Buffers.Binary;

namespace Amphora.Tsdb.Wal;

/// <summary>Record types stored in the write-ahead log.</summary>
public enum WalRecordType : byte
{
    Series = 1,
    Samples = 2,
    Metadata = 3,
    /// <summary>A workspace was deleted: replay forgets everything logged for it before this record.</summary>
    WorkspaceDeleted = 4,
    /// <summary>Integer native histogram samples (docs/format/wal.md).</summary>
    HistogramSamples = 5,
    /// <summary>Float native histogram samples (docs/format/wal.md).</summary>
    FloatHistogramSamples = 6,
    /// <summary>Start timestamps of samples logged after it (an Amphora record; docs/format/wal.md).</summary>
    StartTimestamps = 7,
    /// <summary>Exemplars of series whose samples the same commit logged (an Amphora record; docs/format/wal.md).</summary>
    Exemplars = 8,
}

/// <summary>
/// Record framing: [u32 LE payload length][u8 type][u32 LE CRC32C(type + payload)][payload].
/// See docs/format/wal.md.
/// </summary>
public static class WalFraming
{
    public const int HeaderSize = 9;
    public const int MaxPayload = 64 * 1024 * 1024;

    public static uint Checksum(WalRecordType type, ReadOnlySpan<byte> payload) =>
        Crc32c.Finish(Crc32c.Append(Crc32c.Append(Crc32c.Initial, (byte)type), payload));

    public static void WriteHeader(Span<byte> header, WalRecordType type, ReadOnlySpan<byte> payload)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(header, (uint)payload.Length);
        header[4] = (byte)type;
        BinaryPrimitives.WriteUInt32LittleEndian(header.Slice(5), Checksum(type, payload));
    }
}

/// <summary>Thrown when a record in the middle of the log is corrupt.</summary>
public sealed class WalCorruptionException(int segment, long offset, string reason)
    : Exception($"WAL corruption in segment {segment:D8} at offset {offset}: {reason}")
{
    public int Segment { get; } = segment;
    public long Offset { get; } = offset;
}
