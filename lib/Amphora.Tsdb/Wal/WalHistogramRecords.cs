using System.Buffers.Binary;
using Amphora.Model;

namespace Amphora.Tsdb.Wal;

public readonly record struct WalHistogramSample(ulong Ref, long T, Histogram H);
public readonly record struct WalFloatHistogramSample(ulong Ref, long T, FloatHistogram H);

/// <summary>
/// Payload codec of HistogramSamples records (type 5): workspace string, sample count (i32), then per sample the series ref
/// (u64), timestamp (i64) and the histogram: hint (u8), schema (i32), zero threshold (f64), zero count (u64), count (u64),
/// sum (f64), positive spans, negative spans (each an i32 count, then offset i32 and length u32 per span), positive and
/// negative delta-encoded bucket counts (each an i32 count, then i64s) and custom bounds (an i32 count, then f64s). All
/// little-endian; layouts in docs/format/wal.md.
/// </summary>
public static class WalHistogramRecords
{
    public static byte[] Encode(string workspace, ReadOnlySpan<WalHistogramSample> samples)
    {
        int size = WalRecords.StringSize(workspace) + 4;
        foreach (var s in samples) size += 16 + Size(s.H);
        var buf = new byte[size];
        int pos = WalRecords.WriteString(buf, 0, workspace);
        var span = buf.AsSpan();
        I32(span, ref pos, samples.Length);
        foreach (var s in samples)
        {
            var h = s.H;
            SampleHead(span, ref pos, s.Ref, s.T, h.CounterResetHint, h.Schema);
            U64(span, ref pos, BitConverter.DoubleToUInt64Bits(h.ZeroThreshold));
            U64(span, ref pos, h.ZeroCount);
            U64(span, ref pos, h.Count);
            U64(span, ref pos, BitConverter.DoubleToUInt64Bits(h.Sum));
            Spans(span, ref pos, h.PositiveSpans);
            Spans(span, ref pos, h.NegativeSpans);
            Longs(span, ref pos, h.PositiveBuckets);
            Longs(span, ref pos, h.NegativeBuckets);
            I32(span, ref pos, h.CustomValues.Length);
            foreach (double v in h.CustomValues) U64(span, ref pos, BitConverter.DoubleToUInt64Bits(v));
        }
        return buf;
    }

    /// <summary>FloatHistogramSamples (type 6): as type 5 with the zero count, count and bucket counts as f64 (absolute).</summary>
    public static byte[] EncodeFloat(string workspace, ReadOnlySpan<WalFloatHistogramSample> samples)
    {
        int size = WalRecords.StringSize(workspace) + 4;
        foreach (var s in samples)
            size += 16 + 1 + 4 + 8 * 4 + 4 * 5 + 8 * (s.H.PositiveSpans.Length + s.H.NegativeSpans.Length + s.H.PositiveBuckets.Length +
                s.H.NegativeBuckets.Length + s.H.CustomValues.Length);
        var buf = new byte[size];
        int pos = WalRecords.WriteString(buf, 0, workspace);
        var span = buf.AsSpan();
        I32(span, ref pos, samples.Length);
        foreach (var s in samples)
        {
            var h = s.H;
            SampleHead(span, ref pos, s.Ref, s.T, h.CounterResetHint, h.Schema);
            Doubles(span, ref pos, [h.ZeroThreshold, h.ZeroCount, h.Count, h.Sum], counted: false);
            Spans(span, ref pos, h.PositiveSpans);
            Spans(span, ref pos, h.NegativeSpans);
            Doubles(span, ref pos, h.PositiveBuckets);
            Doubles(span, ref pos, h.NegativeBuckets);
            Doubles(span, ref pos, h.CustomValues);
        }
        return buf;
    }

    public static (string Workspace, WalFloatHistogramSample[] Samples) DecodeFloat(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        string ws = WalRecords.ReadString(p, ref pos);
        int n = Count(p, ref pos, 16);
        var result = new WalFloatHistogramSample[n];
        for (int i = 0; i < n; i++)
        {
            ulong r = ReadU64(p, ref pos);
            long t = (long)ReadU64(p, ref pos);
            var h = new FloatHistogram { CounterResetHint = (CounterResetHint)p[pos++], Schema = ReadI32(p, ref pos) };
            h.ZeroThreshold = ReadDouble(p, ref pos);
            h.ZeroCount = ReadDouble(p, ref pos);
            h.Count = ReadDouble(p, ref pos);
            h.Sum = ReadDouble(p, ref pos);
            h.PositiveSpans = ReadSpans(p, ref pos);
            h.NegativeSpans = ReadSpans(p, ref pos);
            h.PositiveBuckets = ReadDoubles(p, ref pos);
            h.NegativeBuckets = ReadDoubles(p, ref pos);
            h.CustomValues = ReadDoubles(p, ref pos);
            result[i] = new WalFloatHistogramSample(r, t, h);
        }
        return (ws, result);
    }

    private static void Doubles(Span<byte> b, ref int pos, double[] values, bool counted = true)
    {
        if (counted) I32(b, ref pos, values.Length);
        foreach (double v in values) U64(b, ref pos, BitConverter.DoubleToUInt64Bits(v));
    }

    private static double ReadDouble(ReadOnlySpan<byte> p, ref int pos) => BitConverter.UInt64BitsToDouble(ReadU64(p, ref pos));

    private static double[] ReadDoubles(ReadOnlySpan<byte> p, ref int pos)
    {
        var values = new double[Count(p, ref pos, 8)];
        for (int i = 0; i < values.Length; i++) values[i] = ReadDouble(p, ref pos);
        return values;
    }

    private static int Size(Histogram h) =>
        1 + 4 + 8 * 4 + 4 * 5 + 8 * (h.PositiveSpans.Length + h.NegativeSpans.Length + h.PositiveBuckets.Length +
        h.NegativeBuckets.Length + h.CustomValues.Length);

    public static (string Workspace, WalHistogramSample[] Samples) Decode(ReadOnlySpan<byte> p)
    {
        int pos = 0;
        string ws = WalRecords.ReadString(p, ref pos);
        int n = Count(p, ref pos, 16);
        var result = new WalHistogramSample[n];
        for (int i = 0; i < n; i++)
        {
            ulong r = ReadU64(p, ref pos);
            long t = (long)ReadU64(p, ref pos);
            var hint = (CounterResetHint)p[pos++];
            int schema = ReadI32(p, ref pos);
            double threshold = BitConverter.UInt64BitsToDouble(ReadU64(p, ref pos));
            ulong zero = ReadU64(p, ref pos), count = ReadU64(p, ref pos);
            double sum = BitConverter.UInt64BitsToDouble(ReadU64(p, ref pos));
            var positiveSpans = ReadSpans(p, ref pos);
            var negativeSpans = ReadSpans(p, ref pos);
            var positive = ReadLongs(p, ref pos);
            var negative = ReadLongs(p, ref pos);
            var bounds = new double[Count(p, ref pos, 8)];
            for (int b = 0; b < bounds.Length; b++) bounds[b] = BitConverter.UInt64BitsToDouble(ReadU64(p, ref pos));
            result[i] = new WalHistogramSample(r, t, new Histogram
            {
                CounterResetHint = hint, Schema = schema, ZeroThreshold = threshold, ZeroCount = zero, Count = count, Sum = sum,
                PositiveSpans = positiveSpans, NegativeSpans = negativeSpans, PositiveBuckets = positive, NegativeBuckets = negative,
                CustomValues = bounds,
            });
        }
        return (ws, result);
    }

    private static void SampleHead(Span<byte> b, ref int pos, ulong seriesRef, long t, CounterResetHint hint, int schema)
    {
        U64(b, ref pos, seriesRef);
        U64(b, ref pos, (ulong)t);
        b[pos++] = (byte)hint;
        I32(b, ref pos, schema);
    }

    private static void I32(Span<byte> b, ref int pos, int v)
    {
        BinaryPrimitives.WriteInt32LittleEndian(b[pos..], v);
        pos += 4;
    }

    private static void U64(Span<byte> b, ref int pos, ulong v)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(b[pos..], v);
        pos += 8;
    }

    private static void Spans(Span<byte> b, ref int pos, HistogramSpan[] spans)
    {
        I32(b, ref pos, spans.Length);
        foreach (var s in spans)
        {
            I32(b, ref pos, s.Offset);
            I32(b, ref pos, (int)s.Length);
        }
    }

    private static void Longs(Span<byte> b, ref int pos, long[] values)
    {
        I32(b, ref pos, values.Length);
        foreach (long v in values) U64(b, ref pos, (ulong)v);
    }

    private static int ReadI32(ReadOnlySpan<byte> p, ref int pos)
    {
        int v = BinaryPrimitives.ReadInt32LittleEndian(p[pos..]);
        pos += 4;
        return v;
    }

    private static ulong ReadU64(ReadOnlySpan<byte> p, ref int pos)
    {
        ulong v = BinaryPrimitives.ReadUInt64LittleEndian(p[pos..]);
        pos += 8;
        return v;
    }

    /// <summary>A count of items of <paramref name="itemSize"/> bytes at least, checked against what is left of the payload.</summary>
    private static int Count(ReadOnlySpan<byte> p, ref int pos, int itemSize)
    {
        int n = ReadI32(p, ref pos);
        if (n < 0 || (long)n * itemSize > p.Length - pos) throw new InvalidDataException($"a histogram WAL record claims {n} items past its end");
        return n;
    }

    private static HistogramSpan[] ReadSpans(ReadOnlySpan<byte> p, ref int pos)
    {
        var spans = new HistogramSpan[Count(p, ref pos, 8)];
        for (int i = 0; i < spans.Length; i++)
        {
            int offset = ReadI32(p, ref pos);
            spans[i] = new HistogramSpan(offset, (uint)ReadI32(p, ref pos));
        }
        return spans;
    }

    private static long[] ReadLongs(ReadOnlySpan<byte> p, ref int pos)
    {
        var values = new long[Count(p, ref pos, 8)];
        for (int i = 0; i < values.Length; i++) values[i] = (long)ReadU64(p, ref pos);
        return values;
    }
}
