using System.Buffers.Binary;
using System.Text;

namespace Amphora.Tsdb.Blocks;

/// <summary>A growable byte buffer with the integer encodings of the block formats (big-endian fixed, Go-style varints).</summary>
internal sealed class ByteWriter(int capacity = 4096)
{
    private byte[] _buf = new byte[capacity];

    public int Length { get; private set; }
    public ReadOnlySpan<byte> Span => _buf.AsSpan(0, Length);
    public Span<byte> Slice(int start, int length) => _buf.AsSpan(start, length);

    private Span<byte> Grow(int n)
    {
        if (Length + n > _buf.Length) Array.Resize(ref _buf, Math.Max(_buf.Length * 2, Length + n));
        var span = _buf.AsSpan(Length, n);
        Length += n;
        return span;
    }

    public void Reset() => Length = 0;
    public void Byte(byte b) => Grow(1)[0] = b;
    public void Bytes(ReadOnlySpan<byte> b) => b.CopyTo(Grow(b.Length));
    public void Be32(uint v) => BinaryPrimitives.WriteUInt32BigEndian(Grow(4), v);
    public void Be64(ulong v) => BinaryPrimitives.WriteUInt64BigEndian(Grow(8), v);
    public void PutBe32At(int offset, uint v) => BinaryPrimitives.WriteUInt32BigEndian(_buf.AsSpan(offset), v);

    public void Uvarint(ulong v)
    {
        while (v >= 0x80)
        {
            Byte((byte)(v | 0x80));
            v >>= 7;
        }
        Byte((byte)v);
    }

    public void Varint(long v) => Uvarint((ulong)((v << 1) ^ (v >> 63)));

    public void UvarintString(string s)
    {
        int n = Encoding.UTF8.GetByteCount(s);
        Uvarint((ulong)n);
        Encoding.UTF8.GetBytes(s, Grow(n));
    }

    public void PadTo(int alignment)
    {
        while (Length % alignment != 0) Byte(0);
    }

    public static int UvarintSize(ulong v)
    {
        int n = 1;
        while (v >= 0x80) { v >>= 7; n++; }
        return n;
    }
}

/// <summary>Reads the encodings <see cref="ByteWriter"/> writes; throws <see cref="BlockFormatException"/> past the end.</summary>
internal ref struct ByteReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position { get; set; }
    public readonly int Remaining => _data.Length - Position;

    private ReadOnlySpan<byte> Take(int n)
    {
        if (n < 0 || Position + n > _data.Length) throw new BlockFormatException("unexpected end of data");
        var s = _data.Slice(Position, n);
        Position += n;
        return s;
    }

    public byte Byte() => Take(1)[0];
    public ReadOnlySpan<byte> Bytes(int n) => Take(n);
    public uint Be32() => BinaryPrimitives.ReadUInt32BigEndian(Take(4));
    public ulong Be64() => BinaryPrimitives.ReadUInt64BigEndian(Take(8));

    public ulong Uvarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            byte b = Byte();
            result |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return result;
        }
        throw new BlockFormatException("varint overflows 64 bits");
    }

    public long Varint()
    {
        ulong u = Uvarint();
        return (long)(u >> 1) ^ -(long)(u & 1);
    }

    public string UvarintString()
    {
        int n = checked((int)Uvarint());
        return Encoding.UTF8.GetString(Take(n));
    }
}

/// <summary>A block file does not have the layout its format prescribes (bad magic, checksum, reference or length).</summary>
public sealed class BlockFormatException(string message) : Exception(message);
