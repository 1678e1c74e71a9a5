using Amphora.Model;

namespace Amphora.Tsdb.Chunks;

/// <summary>
/// The bucket layout a histogram chunk fixes for all its samples: schema, zero threshold, positive and negative spans, and
/// the custom bucket bounds of schema -53. Written once after the chunk's 3-byte header (docs/format/chunks.md).
/// </summary>
public sealed record HistogramLayout(int Schema, double ZeroThreshold, HistogramSpan[] PositiveSpans, HistogramSpan[] NegativeSpans, double[] CustomValues)
{
    public static readonly HistogramLayout Empty = new(0, 0, [], [], []);

    public static HistogramLayout Of(Histogram h) => new(h.Schema, h.ZeroThreshold, h.PositiveSpans, h.NegativeSpans, h.CustomValues);

    public int PositiveCount => Histogram.BucketCount(PositiveSpans);
    public int NegativeCount => Histogram.BucketCount(NegativeSpans);

    /// <summary>Same schema, threshold (bit for bit), spans and bounds.</summary>
    public bool SameAs(HistogramLayout o) =>
        Schema == o.Schema && BitConverter.DoubleToInt64Bits(ZeroThreshold) == BitConverter.DoubleToInt64Bits(o.ZeroThreshold) &&
        PositiveSpans.AsSpan().SequenceEqual(o.PositiveSpans) && NegativeSpans.AsSpan().SequenceEqual(o.NegativeSpans) &&
        CustomValues.AsSpan().SequenceEqual(o.CustomValues);

    /// <summary>Same schema, threshold and bounds (the spans may differ).</summary>
    public bool SameBase(HistogramLayout o) =>
        Schema == o.Schema && BitConverter.DoubleToInt64Bits(ZeroThreshold) == BitConverter.DoubleToInt64Bits(o.ZeroThreshold) &&
        CustomValues.AsSpan().SequenceEqual(o.CustomValues);

    /// <summary>The absolute bucket indexes the spans cover, in order.</summary>
    public static int[] Indexes(ReadOnlySpan<HistogramSpan> spans)
    {
        var result = new int[Histogram.BucketCount(spans)];
        int n = 0, index = 0;
        for (int s = 0; s < spans.Length; s++)
        {
            index += spans[s].Offset;
            for (uint i = 0; i < spans[s].Length; i++) result[n++] = index++;
        }
        return result;
    }

    /// <summary>Spans covering exactly the given ascending bucket indexes.</summary>
    public static HistogramSpan[] SpansOf(ReadOnlySpan<int> indexes)
    {
        var spans = new List<HistogramSpan>();
        int next = 0; // the index after the previous span
        for (int i = 0; i < indexes.Length;)
        {
            int start = indexes[i], length = 1;
            while (i + length < indexes.Length && indexes[i + length] == start + length) length++;
            spans.Add(new HistogramSpan(start - next, (uint)length));
            next = start + length;
            i += length;
        }
        return spans.ToArray();
    }

    /// <summary>Whether every index of <paramref name="sub"/> is in <paramref name="super"/> (both ascending).</summary>
    public static bool Covers(ReadOnlySpan<int> super, ReadOnlySpan<int> sub)
    {
        int j = 0;
        foreach (int x in sub)
        {
            while (j < super.Length && super[j] < x) j++;
            if (j == super.Length || super[j] != x) return false;
        }
        return true;
    }

    /// <summary>The sorted union of two ascending index lists.</summary>
    public static int[] Union(ReadOnlySpan<int> a, ReadOnlySpan<int> b)
    {
        var result = new List<int>(a.Length + b.Length);
        int i = 0, j = 0;
        while (i < a.Length || j < b.Length)
        {
            if (j == b.Length || (i < a.Length && a[i] < b[j])) result.Add(a[i++]);
            else if (i == a.Length || b[j] < a[i]) result.Add(b[j++]);
            else { result.Add(a[i++]); j++; }
        }
        return result.ToArray();
    }

    /// <summary>Values placed at the positions of <paramref name="from"/> within <paramref name="to"/>, zero elsewhere
    /// (<paramref name="to"/> covers <paramref name="from"/>).</summary>
    public static T[] Expand<T>(ReadOnlySpan<T> values, ReadOnlySpan<int> from, ReadOnlySpan<int> to) where T : struct
    {
        var result = new T[to.Length];
        int j = 0;
        for (int i = 0; i < from.Length; i++)
        {
            while (to[j] != from[i]) j++;
            result[j] = values[i];
        }
        return result;
    }

    internal void Write(ref BitWriter w)
    {
        WriteZeroThreshold(ref w, ZeroThreshold);
        w.WriteVarbitInt(Schema);
        WriteSpans(ref w, PositiveSpans);
        WriteSpans(ref w, NegativeSpans);
        if (Schema == Histogram.CustomBucketsSchema)
        {
            w.WriteVarbitUint((ulong)CustomValues.Length);
            foreach (double bound in CustomValues) WriteCustomBound(ref w, bound);
        }
    }

    internal static HistogramLayout Read(ref BitCursor r)
    {
        double threshold = ReadZeroThreshold(ref r);
        int schema = checked((int)r.ReadVarbitInt());
        var positive = ReadSpans(ref r);
        var negative = ReadSpans(ref r);
        double[] bounds = [];
        if (schema == Histogram.CustomBucketsSchema)
        {
            bounds = new double[Limit(r.ReadVarbitUint(), "custom bounds")];
            for (int i = 0; i < bounds.Length; i++) bounds[i] = ReadCustomBound(ref r);
        }
        return new HistogramLayout(schema, threshold, positive, negative, bounds);
    }

    private static int Limit(ulong n, string what) =>
        n <= ushort.MaxValue * 16UL ? (int)n : throw new InvalidDataException($"the histogram chunk claims {n} {what}");

    private static void WriteSpans(ref BitWriter w, HistogramSpan[] spans)
    {
        w.WriteVarbitUint((ulong)spans.Length);
        foreach (var s in spans)
        {
            w.WriteVarbitUint(s.Length);
            w.WriteVarbitInt(s.Offset);
        }
    }

    private static HistogramSpan[] ReadSpans(ref BitCursor r)
    {
        var spans = new HistogramSpan[Limit(r.ReadVarbitUint(), "spans")];
        for (int i = 0; i < spans.Length; i++)
        {
            uint length = checked((uint)r.ReadVarbitUint());
            int offset = checked((int)r.ReadVarbitInt());
            spans[i] = new HistogramSpan(offset, length);
        }
        return spans;
    }

    /// <summary>One byte for 0 (0) and for powers of two 2^-243 to 2^10 (the IEEE exponent of 0.5·2^e plus 243, 1 to 254);
    /// otherwise 255 and the 64 bits of the float.</summary>
    private static void WriteZeroThreshold(ref BitWriter w, double threshold)
    {
        if (threshold == 0)
        {
            w.WriteByte(0);
            return;
        }
        var (fraction, exponent) = Frexp(threshold);
        if (fraction != 0.5 || exponent < -242 || exponent > 11)
        {
            w.WriteByte(255);
            w.WriteBits(BitConverter.DoubleToUInt64Bits(threshold), 64);
            return;
        }
        w.WriteByte((byte)(exponent + 243));
    }

    private static double ReadZeroThreshold(ref BitCursor r)
    {
        byte b = (byte)r.ReadBits(8);
        return b switch
        {
            0 => 0,
            255 => BitConverter.UInt64BitsToDouble(r.ReadBits(64)),
            _ => Math.ScaleB(0.5, b - 243),
        };
    }

    /// <summary>x = fraction · 2^exponent with fraction in [0.5, 1) (C's frexp) for finite, non-zero x.</summary>
    private static (double Fraction, int Exponent) Frexp(double x)
    {
        if (double.IsNaN(x) || double.IsInfinity(x)) return (x, 0);
        int exponent = Math.ILogB(x) + 1;
        return (Math.ScaleB(x, -exponent), exponent);
    }

    /// <summary>A bound whose thousandfold is a whole number in [0, 33554430] is that number plus one as a varbit uint
    /// (so it starts with a one bit); anything else is a zero bit and the 64 bits of the float.</summary>
    private static void WriteCustomBound(ref BitWriter w, double bound)
    {
        double scaled = bound * 1000;
        if (scaled >= 0 && scaled <= 33554430 && IsWholeWhenMultiplied(bound))
        {
            w.WriteVarbitUint((ulong)Math.Round(scaled) + 1);
            return;
        }
        w.WriteBit(false);
        w.WriteBits(BitConverter.DoubleToUInt64Bits(bound), 64);
    }

    private static bool IsWholeWhenMultiplied(double x) => (double)(ulong)Math.Round(x * 1000) / 1000 == x;

    private static double ReadCustomBound(ref BitCursor r)
    {
        ulong v = r.ReadVarbitUint();
        return v == 0 ? BitConverter.UInt64BitsToDouble(r.ReadBits(64)) : (double)(v - 1) / 1000;
    }
}
