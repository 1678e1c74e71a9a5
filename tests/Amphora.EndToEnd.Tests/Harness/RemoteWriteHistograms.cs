using System.Buffers.Binary;
using System.Text;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>Native histogram series for <see cref="WriteRequestBuilder"/> (TimeSeries field 4, <c>prometheus.Histogram</c>).</summary>
public sealed partial class WriteRequestBuilder
{
    /// <summary>
    /// Adds a series of native histograms with every field of <c>prometheus.Histogram</c>: integer ones (count_int, *_deltas)
    /// for an <see cref="Amphora.Model.Histogram"/>, float ones (count_float, *_counts) when <c>F</c> is given instead.
    /// </summary>
    public WriteRequestBuilder NativeHistograms(string labels, params (long T, Amphora.Model.Histogram? H, FloatHistogramWire? F)[] samples)
    {
        var ts = new MemoryStream();
        foreach (var (name, value) in ParseLabels(labels))
        {
            var label = new MemoryStream();
            WriteBytes(label, 1, Encoding.UTF8.GetBytes(name));
            WriteBytes(label, 2, Encoding.UTF8.GetBytes(value));
            WriteBytes(ts, 1, label.ToArray());
        }
        foreach (var (t, h, f) in samples) WriteBytes(ts, 4, HistogramMessage(t, h, f));
        WriteBytes(_out, 1, ts.ToArray());
        return this;
    }

    /// <summary>
    /// One <c>prometheus.Histogram</c> message; remote write 2.0's <c>io.prometheus.write.v2.Histogram</c> has the same fields
    /// under the same numbers.
    /// </summary>
    public static byte[] HistogramMessage(long t, Amphora.Model.Histogram? h, FloatHistogramWire? f)
    {
        var m = new MemoryStream();
        if (h is not null)
        {
            WriteTag(m, 1, 0);
            WriteVarint(m, h.Count);
        }
        else
        {
            WriteDouble(m, 2, f!.Count);
        }
        WriteDouble(m, 3, h?.Sum ?? f!.Sum);
        WriteTag(m, 4, 0);
        WriteVarint(m, ZigZag(h?.Schema ?? f!.Schema));
        WriteDouble(m, 5, h?.ZeroThreshold ?? f!.ZeroThreshold);
        if (h is not null)
        {
            WriteTag(m, 6, 0);
            WriteVarint(m, h.ZeroCount);
        }
        else
        {
            WriteDouble(m, 7, f!.ZeroCount);
        }
        WriteSpans(m, 8, h?.NegativeSpans ?? f!.NegativeSpans);
        if (h is not null) WritePacked(m, 9, h.NegativeBuckets.Select(ZigZag));
        else WritePackedDoubles(m, 10, f!.NegativeCounts);
        WriteSpans(m, 11, h?.PositiveSpans ?? f!.PositiveSpans);
        if (h is not null) WritePacked(m, 12, h.PositiveBuckets.Select(ZigZag));
        else WritePackedDoubles(m, 13, f!.PositiveCounts);
        WriteTag(m, 14, 0);
        WriteVarint(m, (ulong)(h?.CounterResetHint ?? f!.Hint));
        WriteTag(m, 15, 0);
        WriteVarint(m, (ulong)t);
        if (h is { CustomValues.Length: > 0 }) WritePackedDoubles(m, 16, h.CustomValues);
        return m.ToArray();
    }

    /// <summary>A float histogram as remote write carries it (absolute bucket counts).</summary>
    public sealed record FloatHistogramWire(int Schema, double ZeroThreshold, double ZeroCount, double Count, double Sum,
        Amphora.Model.HistogramSpan[] PositiveSpans, double[] PositiveCounts, Amphora.Model.HistogramSpan[] NegativeSpans, double[] NegativeCounts,
        Amphora.Model.CounterResetHint Hint = Amphora.Model.CounterResetHint.Unknown);

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    private static void WriteDouble(Stream s, int field, double v)
    {
        WriteTag(s, field, 1);
        Span<byte> d = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(d, BitConverter.DoubleToInt64Bits(v));
        s.Write(d);
    }

    private static void WriteSpans(Stream s, int field, Amphora.Model.HistogramSpan[] spans)
    {
        foreach (var span in spans)
        {
            var m = new MemoryStream();
            WriteTag(m, 1, 0);
            WriteVarint(m, ZigZag(span.Offset));
            WriteTag(m, 2, 0);
            WriteVarint(m, span.Length);
            WriteBytes(s, field, m.ToArray());
        }
    }

    private static void WritePacked(Stream s, int field, IEnumerable<ulong> values)
    {
        var m = new MemoryStream();
        foreach (ulong v in values) WriteVarint(m, v);
        if (m.Length > 0) WriteBytes(s, field, m.ToArray());
    }

    private static void WritePackedDoubles(Stream s, int field, double[] values)
    {
        if (values.Length == 0) return;
        var m = new MemoryStream();
        Span<byte> d = stackalloc byte[8];
        foreach (double v in values)
        {
            BinaryPrimitives.WriteInt64LittleEndian(d, BitConverter.DoubleToInt64Bits(v));
            m.Write(d);
        }
        WriteBytes(s, field, m.ToArray());
    }
}
