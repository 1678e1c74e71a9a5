using System.Buffers.Binary;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// Prometheus's XOR (Gorilla) float chunk, bit-compatible with Prometheus: a 2-byte big-endian sample count, the first
/// timestamp as a varint and value as 64 raw bits, the second timestamp as a uvarint delta, then delta-of-delta timestamps
/// in buckets of 14, 17, 20 or 64 bits and values XOR'd with their predecessor, reusing the previous leading/trailing-zero
/// window when it fits. Appending is single-writer; <see cref="Snapshot"/> copies the bytes for concurrent readers.
/// </summary>
public sealed class XorChunk
{
    public const byte Encoding = 1;
    /// <summary>Prometheus cuts a chunk at 120 samples.</summary>
    public const int MaxSamples = 120;

    private BitWriter _bits;
    private long _t, _tDelta;
    private double _v;
    private byte _leading = 0xff, _trailing;

    public XorChunk()
    {
        _bits = new BitWriter(new byte[32], 2);
    }

    public int Count { get; private set; }
    public long MinT { get; private set; }
    public long MaxT => _t;

    /// <summary>The encoded bytes so far (count header included). Valid until the next append.</summary>
    public ReadOnlySpan<byte> Bytes => _bits.Buffer.AsSpan(0, _bits.Length);

    /// <summary>A copy of the encoded bytes, safe to read while appends continue.</summary>
    public byte[] Snapshot() => Bytes.ToArray();

    public void Append(long t, double v)
    {
        if (Count == 0)
        {
            Span<byte> buf = stackalloc byte[10];
            int n = PutVarint(buf, t);
            for (int i = 0; i < n; i++) _bits.WriteByte(buf[i]);
            _bits.WriteBits(BitConverter.DoubleToUInt64Bits(v), 64);
            MinT = t;
        }
        else if (Count == 1)
        {
            long delta = t - _t;
            Span<byte> buf = stackalloc byte[10];
            int n = PutUvarint(buf, (ulong)delta);
            for (int i = 0; i < n; i++) _bits.WriteByte(buf[i]);
            WriteValue(v);
            _tDelta = delta;
        }
        else
        {
            long delta = t - _t;
            long dod = delta - _tDelta;
            if (dod == 0) _bits.WriteBit(false);
            else if (BitRange(dod, 14)) { _bits.WriteBits(0b10, 2); _bits.WriteBits((ulong)dod, 14); }
            else if (BitRange(dod, 17)) { _bits.WriteBits(0b110, 3); _bits.WriteBits((ulong)dod, 17); }
            else if (BitRange(dod, 20)) { _bits.WriteBits(0b1110, 4); _bits.WriteBits((ulong)dod, 20); }
            else { _bits.WriteBits(0b1111, 4); _bits.WriteBits((ulong)dod, 64); }
            WriteValue(v);
            _tDelta = delta;
        }
        _t = t;
        _v = v;
        Count++;
        BinaryPrimitives.WriteUInt16BigEndian(_bits.Buffer, (ushort)Count);
    }

    private void WriteValue(double v) => _bits.WriteXor(v, _v, ref _leading, ref _trailing);

    /// <summary>Whether <paramref name="x"/> fits the signed <paramref name="nbits"/>-bit bucket (as Prometheus bounds it).</summary>
    private static bool BitRange(long x, int nbits) => -((1L << (nbits - 1)) - 1) <= x && x <= 1L << (nbits - 1);

    private static int PutUvarint(Span<byte> buf, ulong x)
    {
        int i = 0;
        while (x >= 0x80)
        {
            buf[i++] = (byte)(x | 0x80);
            x >>= 7;
        }
        buf[i++] = (byte)x;
        return i;
    }

    private static int PutVarint(Span<byte> buf, long x)
    {
        ulong ux = (ulong)x << 1;
        if (x < 0) ux = ~ux;
        return PutUvarint(buf, ux);
    }
}
