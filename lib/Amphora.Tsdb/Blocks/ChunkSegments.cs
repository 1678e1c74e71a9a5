using System.Buffers.Binary;
using Amphora.Tsdb.Chunks;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// The layout of a block's chunks/000001... files: an 8-byte header (magic 0x85BD40DD, version 1, 3 zero bytes), then chunks
/// as [uvarint data length][encoding byte][data][CRC32C of encoding and data, big-endian]. A chunk reference is the segment's
/// sequence number (000001 is 0) in the upper 32 bits and the offset in the file in the lower 32. See docs/format/blocks.md.
/// </summary>
public static class ChunkSegments
{
    public const uint Magic = 0x85BD40DD;
    public const int HeaderSize = 8;
    public const long MaxSegmentSize = 512L << 20;

    public static string FileName(int sequence) => (sequence + 1).ToString("D6", System.Globalization.CultureInfo.InvariantCulture);

    public static ulong Ref(int sequence, long offset) => ((ulong)sequence << 32) | (uint)offset;
    public static (int Sequence, long Offset) Split(ulong chunkRef) => ((int)(chunkRef >> 32), (long)(chunkRef & 0xFFFFFFFF));

    /// <summary>Decodes the chunk at <paramref name="offset"/> of <paramref name="data"/>; null when the buffer ends before
    /// the chunk does (the caller reads more).</summary>
    public static ChunkData? TryDecode(ReadOnlySpan<byte> data, int offset, long minT, long maxT, string where)
    {
        var reader = new ByteReader(data) { Position = offset };
        ulong length;
        try
        {
            length = reader.Uvarint();
        }
        catch (BlockFormatException)
        {
            return null;
        }
        if (length > int.MaxValue) throw new BlockFormatException($"{where}: chunk length {length} is not plausible");
        int bodyStart = reader.Position;
        if (bodyStart + 1 + (long)length + 4 > data.Length) return null;
        var body = data.Slice(bodyStart, 1 + (int)length);
        uint expected = BinaryPrimitives.ReadUInt32BigEndian(data.Slice(bodyStart + body.Length, 4));
        if (Crc32c.Compute(body) != expected) throw new BlockFormatException($"{where}: chunk checksum mismatch");
        if (!ChunkIterators.IsKnown(body[0]))
            throw new BlockFormatException($"{where}: chunk encoding {body[0]} is not supported (1 XOR floats, 2 histograms, 3 float histograms)");
        var bytes = body.Slice(1).ToArray();
        int count = bytes.Length >= 2 ? BinaryPrimitives.ReadUInt16BigEndian(bytes) : 0;
        return new ChunkData(bytes, minT, maxT, count, body[0]);
    }
}

/// <summary>Appends chunks to a block's chunk segment files, starting a new segment before one would pass 512 MiB.</summary>
internal sealed class ChunkSegmentWriter : IDisposable
{
    private readonly string _dir;
    private FileStream? _file;
    private int _sequence = -1;
    private long _offset;
    private readonly ByteWriter _scratch = new(16);

    public ChunkSegmentWriter(string dir)
    {
        _dir = dir;
        Directory.CreateDirectory(dir);
    }

    public ulong Write(ReadOnlySpan<byte> chunk, byte encoding = XorChunk.Encoding)
    {
        long size = ByteWriter.UvarintSize((ulong)chunk.Length) + 1 + chunk.Length + 4;
        if (_file is null || _offset + size > ChunkSegments.MaxSegmentSize) NextSegment();
        ulong chunkRef = ChunkSegments.Ref(_sequence, _offset);

        _scratch.Reset();
        _scratch.Uvarint((ulong)chunk.Length);
        _scratch.Byte(encoding);
        _file!.Write(_scratch.Span);
        _file.Write(chunk);
        _scratch.Reset();
        _scratch.Be32(Crc32c.Finish(Crc32c.Append(Crc32c.Append(Crc32c.Initial, encoding), chunk)));
        _file.Write(_scratch.Span);
        _offset += size;
        return chunkRef;
    }

    private void NextSegment()
    {
        CloseSegment();
        _sequence++;
        _file = new FileStream(Path.Combine(_dir, ChunkSegments.FileName(_sequence)), FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);
        Span<byte> header = stackalloc byte[ChunkSegments.HeaderSize];
        header.Clear();
        BinaryPrimitives.WriteUInt32BigEndian(header, ChunkSegments.Magic);
        header[4] = 1;
        _file.Write(header);
        _offset = ChunkSegments.HeaderSize;
    }

    private void CloseSegment()
    {
        if (_file is null) return;
        _file.Flush(flushToDisk: true);
        _file.Dispose();
        _file = null;
    }

    public void Dispose() => CloseSegment();
}
