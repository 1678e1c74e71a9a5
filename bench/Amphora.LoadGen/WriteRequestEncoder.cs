using System.Buffers.Binary;
using System.Text;

namespace Amphora.LoadGen;

/// <summary>
/// Encodes a remote write 1.0 <c>WriteRequest</c> (timeseries = 1; TimeSeries labels = 1, samples = 2; Label name = 1,
/// value = 2; Sample value = 1 (double), timestamp = 2 (int64)) straight into a reusable buffer, then snappy-compresses it.
/// Sizes are computed first so each message is written once, without intermediate streams.
/// </summary>
public sealed class WriteRequestEncoder(int capacity = 1 << 20)
{
    private byte[] _buffer = new byte[capacity];
    private int _length;

    public void Reset() => _length = 0;

    public void AddSeries(GeneratedSeries series, long timestampMs, double value)
    {
        int labelsSize = 0;
        for (int i = 0; i < series.Names.Length; i++)
            labelsSize += FieldSize(LabelSize(series.Names[i], series.Values[i]));
        const int sampleSize = 1 + 8 + 1 + 10;
        int sampleBytes = 1 + 8 + 1 + VarintSize((ulong)timestampMs);
        int tsSize = labelsSize + 1 + VarintSize((ulong)sampleBytes) + sampleBytes;
        Ensure(1 + 5 + tsSize + sampleSize);

        WriteTag(1, 2);
        WriteVarint((ulong)tsSize);
        for (int i = 0; i < series.Names.Length; i++)
        {
            WriteTag(1, 2);
            WriteVarint((ulong)LabelSize(series.Names[i], series.Values[i]));
            WriteString(1, series.Names[i]);
            WriteString(2, series.Values[i]);
        }
        WriteTag(2, 2);
        WriteVarint((ulong)sampleBytes);
        WriteTag(1, 1);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length), BitConverter.DoubleToInt64Bits(value));
        _length += 8;
        WriteTag(2, 0);
        WriteVarint((ulong)timestampMs);
    }

    /// <summary>
    /// Adds a series of one native histogram sample (TimeSeries.histograms = 4; Histogram count_int = 1, sum = 3, schema = 4,
    /// zero_threshold = 5, zero_count_int = 6, positive_spans = 11 (BucketSpan offset = 1, length = 2), positive_deltas = 12,
    /// timestamp = 15): one span from the first to the last non-empty bucket, counts delta-encoded.
    /// </summary>
    public void AddHistogram(GeneratedSeries series, long timestampMs)
    {
        var buckets = series.Buckets!;
        int first = Array.FindIndex(buckets, c => c > 0), last = Array.FindLastIndex(buckets, c => c > 0);
        var h = new WriteRequestEncoder(256);
        h.WriteTag(1, 0);
        h.WriteVarint((ulong)series.Count);
        h.WriteTag(3, 1);
        h.WriteDouble(series.Sum);
        h.WriteTag(4, 0);
        h.WriteVarint(ZigZag(SeriesCatalog.Schema));
        h.WriteTag(5, 1);
        h.WriteDouble(1e-128);
        h.WriteTag(6, 0);
        h.WriteVarint(0);
        if (first >= 0)
        {
            var span = new WriteRequestEncoder(16);
            span.WriteTag(1, 0);
            span.WriteVarint(ZigZag(first + SeriesCatalog.MinIndex));
            span.WriteTag(2, 0);
            span.WriteVarint((ulong)(last - first + 1));
            h.WriteBytes(11, span._buffer.AsSpan(0, span._length));
            var deltas = new WriteRequestEncoder(128);
            long previous = 0;
            for (int i = first; i <= last; i++)
            {
                deltas.WriteVarint(ZigZag(buckets[i] - previous));
                previous = buckets[i];
            }
            h.WriteBytes(12, deltas._buffer.AsSpan(0, deltas._length));
        }
        h.WriteTag(15, 0);
        h.WriteVarint((ulong)timestampMs);

        var ts = new WriteRequestEncoder(512);
        for (int i = 0; i < series.Names.Length; i++)
        {
            ts.WriteTag(1, 2);
            ts.WriteVarint((ulong)LabelSize(series.Names[i], series.Values[i]));
            ts.WriteString(1, series.Names[i]);
            ts.WriteString(2, series.Values[i]);
        }
        ts.WriteBytes(4, h._buffer.AsSpan(0, h._length));
        WriteBytes(1, ts._buffer.AsSpan(0, ts._length));
    }

    private static ulong ZigZag(long v) => (ulong)((v << 1) ^ (v >> 63));

    private void WriteDouble(double v)
    {
        Ensure(8);
        BinaryPrimitives.WriteInt64LittleEndian(_buffer.AsSpan(_length), BitConverter.DoubleToInt64Bits(v));
        _length += 8;
    }

    private void WriteBytes(int field, ReadOnlySpan<byte> bytes)
    {
        Ensure(bytes.Length + 16);
        WriteTag(field, 2);
        WriteVarint((ulong)bytes.Length);
        bytes.CopyTo(_buffer.AsSpan(_length));
        _length += bytes.Length;
    }

    /// <summary>The snappy-compressed request body.</summary>
    public byte[] Compress() => IronSnappy.Snappy.Encode(_buffer.AsSpan(0, _length));

    public int UncompressedLength => _length;

    private static int LabelSize(string name, string value) =>
        FieldSize(Encoding.UTF8.GetByteCount(name)) + FieldSize(Encoding.UTF8.GetByteCount(value));

    private static int FieldSize(int payload) => 1 + VarintSize((ulong)payload) + payload;

    private static int VarintSize(ulong v)
    {
        int n = 1;
        while (v >= 0x80) { v >>= 7; n++; }
        return n;
    }

    private void Ensure(int extra)
    {
        if (_length + extra <= _buffer.Length) return;
        var bigger = new byte[Math.Max(_buffer.Length * 2, _length + extra)];
        _buffer.AsSpan(0, _length).CopyTo(bigger);
        _buffer = bigger;
    }

    private void WriteString(int field, string s)
    {
        int bytes = Encoding.UTF8.GetByteCount(s);
        Ensure(bytes + 6);
        WriteTag(field, 2);
        WriteVarint((ulong)bytes);
        _length += Encoding.UTF8.GetBytes(s, _buffer.AsSpan(_length));
    }

    private void WriteTag(int field, int wireType) => WriteVarint((ulong)((field << 3) | wireType));

    private void WriteVarint(ulong v)
    {
        Ensure(10);
        while (v >= 0x80)
        {
            _buffer[_length++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buffer[_length++] = (byte)v;
    }
}
