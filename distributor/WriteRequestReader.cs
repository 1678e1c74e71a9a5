using System.Buffers.Binary;
using Amphora.Distributor.Prompb;
using Google.Protobuf;

namespace Amphora.Distributor;

/// <summary>A received label's name and value: the bytes of the request, not yet decoded or validated.</summary>
public readonly record struct RawLabel(ReadOnlyMemory<byte> Name, ReadOnlyMemory<byte> Value);

/// <summary>Where a received label's name and value lie in the request body.</summary>
public readonly record struct LabelRange(int NameStart, int NameLength, int ValueStart, int ValueLength);

/// <summary>
/// One TimeSeries of a remote-write 1.0 request as <see cref="WriteRequestReader"/> read it: ranges of the request's labels,
/// samples, exemplars and histograms. It holds no references, so the request's arrays of them cost the collector nothing
/// to scan and are pooled.
/// </summary>
public struct RawSeries
{
    public int FirstLabel, LabelCount;
    /// <summary>Where the series' label fields (tags, lengths and Label messages, exactly as received) lie in the body, when
    /// they are one run with nothing between them; <see cref="LabelBytesLength"/> is -1 otherwise.</summary>
    public int LabelBytesStart, LabelBytesLength;
    public int FirstSample, SampleCount;
    /// <summary>Whether a sample has a start timestamp.</summary>
    public bool AnyStartTimestamp;
    public int FirstExemplar, ExemplarCount, FirstHistogram, HistogramCount;
}

/// <summary>
/// A remote-write 1.0 request read in place: the body, its series, and all their labels, samples, exemplars and histograms in
/// order. The arrays are pooled: <see cref="Dispose"/> returns them, after which nothing read from them may be used.
/// </summary>
public sealed class RawWriteRequest : IDisposable
{
    // Filled by the reader.
    internal RawSeries[] SeriesSlots;
    internal LabelRange[] LabelSlots;
    internal long[] T, St;
    internal double[] V;
    private readonly int _seriesCount;

    internal RawWriteRequest(byte[] body, RawSeries[] series, int seriesCount, LabelRange[] labels, long[] t, double[] v, long[] st)
    {
        Body = body;
        SeriesSlots = series;
        _seriesCount = seriesCount;
        LabelSlots = labels;
        T = t;
        V = v;
        St = st;
    }

    public byte[] Body { get; }
    public ReadOnlySpan<RawSeries> Series => SeriesSlots.AsSpan(0, _seriesCount);
    public List<Prompb.Exemplar> Exemplars { get; } = [];
    public List<Prompb.Histogram> Histograms { get; } = [];
    public List<Prompb.MetricMetadata> Metadata { get; } = [];

    /// <summary>The series' labels as received, written into <paramref name="into"/> (at least <see cref="RawSeries.LabelCount"/> long).</summary>
    public ReadOnlySpan<RawLabel> LabelsOf(in RawSeries series, RawLabel[] into)
    {
        for (int i = 0; i < series.LabelCount; i++)
        {
            var r = LabelSlots[series.FirstLabel + i];
            into[i] = new RawLabel(Body.AsMemory(r.NameStart, r.NameLength), Body.AsMemory(r.ValueStart, r.ValueLength));
        }
        return into.AsSpan(0, series.LabelCount);
    }

    public ReadOnlySpan<byte> LabelBytesOf(in RawSeries series) =>
        series.LabelBytesLength < 0 ? default : Body.AsSpan(series.LabelBytesStart, series.LabelBytesLength);

    public ReadOnlySpan<long> TimestampsOf(in RawSeries series) => T.AsSpan(series.FirstSample, series.SampleCount);
    public ReadOnlySpan<double> ValuesOf(in RawSeries series) => V.AsSpan(series.FirstSample, series.SampleCount);
    /// <summary>The samples' start timestamps; empty when none has one.</summary>
    public ReadOnlySpan<long> StartTimestampsOf(in RawSeries series) =>
        series.AnyStartTimestamp ? St.AsSpan(series.FirstSample, series.SampleCount) : default;

    public IReadOnlyList<Prompb.Exemplar> ExemplarsOf(in RawSeries series) =>
        series.ExemplarCount == 0 ? [] : Exemplars.GetRange(series.FirstExemplar, series.ExemplarCount);

    public IReadOnlyList<Prompb.Histogram> HistogramsOf(in RawSeries series) =>
        series.HistogramCount == 0 ? [] : Histograms.GetRange(series.FirstHistogram, series.HistogramCount);

    public void Dispose()
    {
        Return(SeriesSlots);
        Return(LabelSlots);
        Return(T);
        Return(V);
        Return(St);
        SeriesSlots = [];
        LabelSlots = [];
        T = St = [];
        V = [];
    }

    private static void Return<T>(T[] array)
    {
        if (array.Length > 0) System.Buffers.ArrayPool<T>.Shared.Return(array);
    }
}

/// <summary>
/// Reads a snappy-decoded remote-write 1.0 <c>WriteRequest</c> straight from its bytes, without the generated parser's object
/// graph (a TimeSeries, four repeated fields, and two objects per label and one per sample): labels stay as ranges of the
/// body, samples go into arrays. It reads what the generated parser (unknown fields discarded) reads, field by field: the
/// last value of a repeated scalar wins, unknown fields and known numbers under another wire type are skipped. It declines
/// (false) anything unusual — groups, over-long varints, truncated or out-of-range lengths, a malformed exemplar, histogram
/// or metadata entry — and the caller then decodes the body with the generated parser, which answers such input as it always
/// did (the same error, or the same accepted request). Expects a body that <see cref="WriteRequestScan"/> accepted, whose
/// <see cref="RequestShape"/> sizes the arrays. Pure, thread-safe.
/// </summary>
public static class WriteRequestReader
{
    private const int WireVarint = 0, WireFixed64 = 1, WireLen = 2, WireFixed32 = 5;
    private static readonly MessageParser<Prompb.Exemplar> ExemplarParser = Prompb.Exemplar.Parser.WithDiscardUnknownFields(true);
    private static readonly MessageParser<Prompb.Histogram> HistogramParser = Prompb.Histogram.Parser.WithDiscardUnknownFields(true);
    private static readonly MessageParser<Prompb.MetricMetadata> MetadataParser = Prompb.MetricMetadata.Parser.WithDiscardUnknownFields(true);

    public static bool TryRead(byte[] body, in RequestShape shape, out RawWriteRequest? request)
    {
        // Sized by the scan's counts (a request of 2,000 series would put them on the large-object heap otherwise).
        var read = new RawWriteRequest(body, System.Buffers.ArrayPool<RawSeries>.Shared.Rent(shape.Series), shape.Series,
            System.Buffers.ArrayPool<LabelRange>.Shared.Rent((int)shape.Labels), System.Buffers.ArrayPool<long>.Shared.Rent((int)shape.Samples),
            System.Buffers.ArrayPool<double>.Shared.Rent((int)shape.Samples), System.Buffers.ArrayPool<long>.Shared.Rent((int)shape.Samples));
        request = read;
        if (TryRead(body, shape, read)) return true;
        read.Dispose();
        request = null;
        return false;
    }

    private static bool TryRead(byte[] body, in RequestShape shape, RawWriteRequest request)
    {
        int s = 0, l = 0, samples = 0, pos = 0;
        while (pos < body.Length)
        {
            if (!TryReadTag(body, ref pos, body.Length, out uint tag)) return false;
            if (tag == (1 << 3 | WireLen))
            {
                if (!TryReadLength(body, ref pos, body.Length, out int length) || s >= shape.Series) return false;
                if (!TryReadSeries(body, pos, length, request, ref l, ref samples, out request.SeriesSlots[s++])) return false;
                pos += length;
            }
            else if (tag == (3 << 3 | WireLen))
            {
                if (!TryReadLength(body, ref pos, body.Length, out int length)) return false;
                if (!TryParse(MetadataParser, body.AsSpan(pos, length), out var m)) return false;
                request.Metadata.Add(m!);
                pos += length;
            }
            else if (!TrySkip(body, ref pos, body.Length, tag)) return false;
        }
        return s == shape.Series && l == shape.Labels && samples == shape.Samples;
    }

    private static bool TryReadSeries(byte[] body, int start, int length, RawWriteRequest request, ref int l, ref int samples,
        out RawSeries series)
    {
        series = default;
        series.FirstLabel = l;
        series.LabelBytesStart = -1;
        series.FirstSample = samples;
        series.FirstExemplar = request.Exemplars.Count;
        series.FirstHistogram = request.Histograms.Count;
        int end = start + length, pos = start, labelRunEnd = -1;
        bool labelsSplit = false;
        var labels = request.LabelSlots;
        while (pos < end)
        {
            int fieldStart = pos;
            if (!TryReadTag(body, ref pos, end, out uint tag)) return false;
            if ((tag & 7) == WireLen && tag >> 3 is >= 1 and <= 4)
            {
                if (!TryReadLength(body, ref pos, end, out int size)) return false;
                switch (tag >> 3)
                {
                    case 1:
                        if (l >= labels.Length || !TryReadLabel(body, pos, size, out labels[l++])) return false;
                        if (series.LabelBytesStart < 0) series.LabelBytesStart = fieldStart;
                        else if (labelRunEnd != fieldStart) labelsSplit = true;
                        labelRunEnd = pos + size;
                        break;
                    case 2:
                        if (samples >= request.T.Length ||
                            !TryReadSample(body, pos, size, out request.T[samples], out request.V[samples], out request.St[samples])) return false;
                        series.AnyStartTimestamp |= request.St[samples++] != 0;
                        break;
                    case 3:
                        if (!TryParse(ExemplarParser, body.AsSpan(pos, size), out var e)) return false;
                        request.Exemplars.Add(e!);
                        break;
                    default:
                        if (!TryParse(HistogramParser, body.AsSpan(pos, size), out var h)) return false;
                        request.Histograms.Add(h!);
                        break;
                }
                pos += size;
            }
            else if (!TrySkip(body, ref pos, end, tag)) return false;
        }
        series.LabelCount = l - series.FirstLabel;
        series.LabelBytesLength = series.LabelBytesStart >= 0 && !labelsSplit ? labelRunEnd - series.LabelBytesStart : -1;
        series.SampleCount = samples - series.FirstSample;
        series.ExemplarCount = request.Exemplars.Count - series.FirstExemplar;
        series.HistogramCount = request.Histograms.Count - series.FirstHistogram;
        return true;
    }

    /// <summary>A Label: name = 1 and value = 2, both bytes; the last of each wins, as the generated parser's.</summary>
    private static bool TryReadLabel(byte[] body, int start, int length, out LabelRange label)
    {
        label = default;
        int name = start, nameLength = 0, value = start, valueLength = 0;
        int end = start + length, pos = start;
        while (pos < end)
        {
            if (!TryReadTag(body, ref pos, end, out uint tag)) return false;
            if (tag is (1 << 3 | WireLen) or (2 << 3 | WireLen))
            {
                if (!TryReadLength(body, ref pos, end, out int size)) return false;
                if (tag >> 3 == 1) (name, nameLength) = (pos, size);
                else (value, valueLength) = (pos, size);
                pos += size;
            }
            else if (!TrySkip(body, ref pos, end, tag)) return false;
        }
        label = new LabelRange(name, nameLength, value, valueLength);
        return true;
    }

    /// <summary>A Sample: value = 1 (double), timestamp = 2 and start_timestamp = 3 (int64).</summary>
    private static bool TryReadSample(byte[] body, int start, int length, out long t, out double v, out long st)
    {
        t = 0;
        v = 0;
        st = 0;
        int end = start + length, pos = start;
        while (pos < end)
        {
            if (!TryReadTag(body, ref pos, end, out uint tag)) return false;
            switch (tag)
            {
                case 1 << 3 | WireFixed64:
                    if (end - pos < 8) return false;
                    v = BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(body.AsSpan(pos, 8)));
                    pos += 8;
                    break;
                case 2 << 3 | WireVarint:
                    if (!TryReadVarint(body, ref pos, end, out ulong ts)) return false;
                    t = (long)ts;
                    break;
                case 3 << 3 | WireVarint:
                    if (!TryReadVarint(body, ref pos, end, out ulong sts)) return false;
                    st = (long)sts;
                    break;
                default:
                    if (!TrySkip(body, ref pos, end, tag)) return false;
                    break;
            }
        }
        return true;
    }

    private static bool TryParse<T>(MessageParser<T> parser, ReadOnlySpan<byte> bytes, out T? message) where T : IMessage<T>
    {
        try
        {
            message = parser.ParseFrom(bytes);
            return true;
        }
        catch (InvalidProtocolBufferException)
        {
            message = default;
            return false;
        }
    }

    /// <summary>Skips an unknown field's value (varint, fixed64, length-delimited, fixed32); groups and invalid wire types decline.</summary>
    private static bool TrySkip(byte[] body, ref int pos, int end, uint tag)
    {
        switch ((int)(tag & 7))
        {
            case WireVarint:
                return TryReadVarint(body, ref pos, end, out _);
            case WireFixed64:
                if (end - pos < 8) return false;
                pos += 8;
                return true;
            case WireFixed32:
                if (end - pos < 4) return false;
                pos += 4;
                return true;
            case WireLen:
                if (!TryReadLength(body, ref pos, end, out int size)) return false;
                pos += size;
                return true;
            default:
                return false;
        }
    }

    /// <summary>A tag of at most 5 bytes with a field number other than 0.</summary>
    private static bool TryReadTag(byte[] body, ref int pos, int end, out uint tag)
    {
        tag = 0;
        if (!TryReadVarint(body, ref pos, end, out ulong value) || value > uint.MaxValue || value >> 3 == 0) return false;
        tag = (uint)value;
        return true;
    }

    /// <summary>A length that fits in what remains before <paramref name="end"/>.</summary>
    private static bool TryReadLength(byte[] body, ref int pos, int end, out int length)
    {
        length = 0;
        if (!TryReadVarint(body, ref pos, end, out ulong value) || value > (ulong)(end - pos)) return false;
        length = (int)value;
        return true;
    }

    /// <summary>A base-128 varint of at most 10 bytes whose value fits in 64 bits (what every parser reads alike).</summary>
    private static bool TryReadVarint(byte[] body, ref int pos, int end, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 64 && pos < end; shift += 7)
        {
            byte b = body[pos++];
            if (shift == 63 && b > 1) return false;
            value |= (ulong)(b & 0x7f) << shift;
            if (b < 0x80) return true;
        }
        return false;
    }
}
