using System.Numerics;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// The variable bit-width integer encodings of Prometheus's histogram chunks, and the Gorilla XOR float encoding that XOR and
/// histogram chunks share. A varbit value is a prefix of 0 to 8 one-bits ended by a zero (except the longest) naming the
/// width: 0 (the value 0, prefix "0"), 3, 6, 9, 12, 18, 25, 56 or 64 bits. Signed values use two's complement within the
/// width and take the range -(2^(w-1)-1) to 2^(w-1); unsigned ones 0 to 2^w-1.
/// </summary>
internal static class Varbit
{
    private static ReadOnlySpan<byte> Widths => [3, 6, 9, 12, 18, 25, 56];

    public static void WriteVarbitInt(this ref BitWriter w, long v)
    {
        if (v == 0)
        {
            w.WriteBit(false);
            return;
        }
        for (int i = 0; i < Widths.Length; i++)
        {
            int width = Widths[i];
            if (-((1L << (width - 1)) - 1) <= v && v <= 1L << (width - 1))
            {
                w.WriteBits(Prefix(i), i + 2);
                w.WriteBits((ulong)v & ((1UL << width) - 1), width);
                return;
            }
        }
        w.WriteBits(0xff, 8);
        w.WriteBits((ulong)v, 64);
    }

    public static void WriteVarbitUint(this ref BitWriter w, ulong v)
    {
        if (v == 0)
        {
            w.WriteBit(false);
            return;
        }
        for (int i = 0; i < Widths.Length; i++)
        {
            int width = Widths[i];
            if (BitOperations.LeadingZeroCount(v) >= 64 - width)
            {
                w.WriteBits(Prefix(i), i + 2);
                w.WriteBits(v, width);
                return;
            }
        }
        w.WriteBits(0xff, 8);
        w.WriteBits(v, 64);
    }

    /// <summary>The prefix for width index <paramref name="i"/>: i+1 ones and a zero (10, 110, ...).</summary>
    private static ulong Prefix(int i) => ((1UL << (i + 1)) - 1) << 1;

    /// <summary>Reads the width prefix: 0 for the value 0, else the width in bits.</summary>
    private static int ReadWidth(ref BitCursor r)
    {
        int ones = 0;
        while (ones < 8 && r.ReadBit()) ones++;
        return ones switch
        {
            0 => 0,
            8 => 64,
            _ => Widths[ones - 1],
        };
    }

    public static long ReadVarbitInt(this ref BitCursor r)
    {
        int width = ReadWidth(ref r);
        if (width == 0) return 0;
        ulong bits = r.ReadBits(width);
        if (width == 64) return (long)bits;
        return bits > 1UL << (width - 1) ? (long)bits - (1L << width) : (long)bits;
    }

    public static ulong ReadVarbitUint(this ref BitCursor r)
    {
        int width = ReadWidth(ref r);
        return width == 0 ? 0 : r.ReadBits(width);
    }

    /// <summary>
    /// Writes <paramref name="v"/> XOR'd with <paramref name="previous"/>: "0" when equal; "10" and the significant bits when
    /// they fit the previous leading/trailing-zero window; else "11", 5 bits of leading zeros (at most 31), 6 bits of
    /// significant length (64 written as 0) and the bits. A window of leading 0xff means none yet.
    /// </summary>
    public static void WriteXor(this ref BitWriter w, double v, double previous, ref byte leading, ref byte trailing)
    {
        ulong delta = BitConverter.DoubleToUInt64Bits(v) ^ BitConverter.DoubleToUInt64Bits(previous);
        if (delta == 0)
        {
            w.WriteBit(false);
            return;
        }
        w.WriteBit(true);
        int lead = BitOperations.LeadingZeroCount(delta);
        int trail = BitOperations.TrailingZeroCount(delta);
        if (lead >= 32) lead = 31;
        if (leading != 0xff && lead >= leading && trail >= trailing)
        {
            w.WriteBit(false);
            w.WriteBits(delta >> trailing, 64 - leading - trailing);
            return;
        }
        leading = (byte)lead;
        trailing = (byte)trail;
        w.WriteBit(true);
        w.WriteBits((ulong)lead, 5);
        int significant = 64 - lead - trail;
        w.WriteBits((ulong)significant, 6);
        w.WriteBits(delta >> trail, significant);
    }

    /// <summary>Reads a value written by <see cref="WriteXor"/> into <paramref name="v"/> (which holds the previous value).</summary>
    public static void ReadXor(this ref BitCursor r, ref double v, ref byte leading, ref byte trailing)
    {
        ulong control = r.PeekBits(2);
        if ((control & 0b10) == 0)
        {
            r.Skip(1);
            return;
        }
        r.Skip(2);
        if ((control & 0b01) != 0)
        {
            leading = (byte)r.ReadBits(5);
            int significant = (int)r.ReadBits(6);
            if (significant == 0) significant = 64;
            trailing = (byte)(64 - leading - significant);
        }
        int width = 64 - leading - trailing;
        if (width <= 0) throw new InvalidDataException($"the chunk has an XOR window of {leading} leading and {trailing} trailing zeros");
        ulong delta = r.ReadBits(width) << trailing;
        v = BitConverter.UInt64BitsToDouble(BitConverter.DoubleToUInt64Bits(v) ^ delta);
    }
}
