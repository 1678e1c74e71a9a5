using System.Buffers.Binary;
using System.Text;

namespace Amphora.LoadGen;

/// <summary>
/// Encodes a remote write 1.0 <c>WriteRequest</c> (timeseries = 1; TimeSeries labels = 1, samples = 2; Label name = 1,
/// value = 2; Sample value = 1 (double), timestamp = 2 (int64)) straight into a reusable buffer, then snappy-compresses it.
/// Sizes are computed first so each message is written once, without intermediate streams.
/// </summary>
public sealed class WriteRequestEncoder
{
    private byte[] _buffer = new byte[1 << 20];
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
        while (v >= 0x80)
        {
            _buffer[_length++] = (byte)(v | 0x80);
            v >>= 7;
        }
        _buffer[_length++] = (byte)v;
    }
}
