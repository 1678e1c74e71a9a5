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
    // Filled by the reader; the labels and samples grow (from the pool) as it goes.
    internal RawSeries[] SeriesSlots;
    internal LabelRange[] LabelSlots = Rent<LabelRange>(256);
    internal long[] T = Rent<long>(256), St = Rent<long>(256);
    internal double[] V = Rent<double>(256);
    internal int SeriesCount;

    internal RawWriteRequest(byte[] body, int series)
    {
        Body = body;
        SeriesSlots = Rent<RawSeries>(series);
    }

    public byte[] Body { get; }
    public ReadOnlySpan<RawSeries> Series => SeriesSlots.AsSpan(0, SeriesCount);
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

    private static T[] Rent<T>(int length) => System.Buffers.ArrayPool<T>.Shared.Rent(length);

    private static void Return<T>(T[] array)
    {
        if (array.Length > 0) System.Buffers.ArrayPool<T>.Shared.Return(array);
    }

    /// <summary>Replaces <paramref name="array"/> with one twice as long from the pool, keeping its first <paramref name="used"/> items.</summary>
    internal static void Grow<T>(ref T[] array, int used)
    {
        var bigger = Rent<T>(Math.Max(256, array.Length * 2));
        array.AsSpan(0, used).CopyTo(bigger);
        Return(array);
        array = bigger;
    }
}

/// <summary>
/// Reads a snappy-decoded remote-write 1.0 <c>WriteRequest</c> straight from its bytes, without the generated parser's object
/// graph (a TimeSeries, four repeated fields, and two objects per label and one per sample): labels stay as ranges of the
/// body, samples go into arrays. It reads what the generated parser (unknown fields discarded) reads, field by field: the
/// last value of a repeated scalar wins, unknown fields and known numbers under another wire type are skipped. It declines
/// (false) anything unusual — groups, over-long varints, truncated or out-of-range lengths, a malformed exemplar, histogram
/// or metadata entry — and the caller then decodes the body with the generated parser, which answers such input as it always
/// did (the same error, or the same accepted request). It does the framing scan's work too (<see cref="TryRead"/>), so a body
/// it reads is walked once. Pure, thread-safe.
/// </summary>
public static class WriteRequestReader
{
    private const int WireVarint = 0, WireFixed64 = 1, WireLen = 2, WireFixed32 = 5;
    private static readonly MessageParser<Prompb.Exemplar> ExemplarParser = Prompb.Exemplar.Parser.WithDiscardUnknownFields(true);
    private static readonly MessageParser<Prompb.Histogram> HistogramParser = Prompb.Histogram.Parser.WithDiscardUnknownFields(true);
    private static readonly MessageParser<Prompb.MetricMetadata> MetadataParser = Prompb.MetricMetadata.Parser.WithDiscardUnknownFields(true);

    /// <summary>
    /// Reads <paramref name="body"/>; false when it declines the body, which then goes through <see cref="WriteRequestScan"/> and
    /// the generated parser. It declines at least everything the scan refuses (framing the scan calls malformed, a request over
    /// <paramref name="limits"/>) and stops at the first entry over a limit; the series are counted first, on the request's
    /// own framing, so what it holds is bounded by the limits, as the scan's work is.
    /// </summary>
    public static bool TryRead(byte[] body, RequestShapeLimits limits, out RawWriteRequest? request)
    {
        request = null;
        if (!TryCountSeries(body, limits.MaxSeriesPerRequest, out int series)) return false;
        var read = new RawWriteRequest(body, series);
        if (TryRead(body, limits, read))
        {
            request = read;
            return true;
        }
        read.Dispose();
        return false;
    }

    /// <summary>The number of series (field 1) in the request's own framing, when it is well formed and within <paramref name="limit"/>.</summary>
    private static bool TryCountSeries(byte[] body, int limit, out int series)
    {
        series = 0;
        int pos = 0;
        while (pos < body.Length)
        {
            if (!TryReadTag(body, ref pos, body.Length, out uint tag)) return false;
            if (tag == (1 << 3 | WireLen) && ++series > limit) return false;
            if (!TrySkip(body, ref pos, body.Length, tag)) return false;
        }
        return true;
    }

    private static bool TryRead(byte[] body, RequestShapeLimits limits, RawWriteRequest request)
    {
        int s = 0, l = 0, samples = 0, pos = 0;
        while (pos < body.Length)
        {
            if (!TryReadTag(body, ref pos, body.Length, out uint tag)) return false;
            if (tag == (1 << 3 | WireLen))
            {
                if (!TryReadLength(body, ref pos, body.Length, out int length) || s >= request.SeriesSlots.Length) return false;
                if (!TryReadSeries(body, pos, length, request, ref l, ref samples, out request.SeriesSlots[s++])) return false;
                if (l > limits.MaxLabelsPerRequest ||
                    (long)samples + request.Exemplars.Count + request.Histograms.Count > limits.MaxSamplesPerRequest) return false;
                pos += length;
            }
            else if (tag == (3 << 3 | WireLen))
            {
                if (!TryReadLength(body, ref pos, body.Length, out int length)) return false;
                if (!TryParse(MetadataParser, body.AsSpan(pos, length), out var m)) return false;
                request.Metadata.Add(m!);
                pos += length;
            }
            // The scan refuses these two fields under another wire type (the generated parser would skip them).
            else if (tag >> 3 is 1 or 3 || !TrySkip(body, ref pos, body.Length, tag)) return false;
        }
        request.SeriesCount = s;
        return true;
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
        while (pos < end)
        {
            int fieldStart = pos;
            if (!TryReadTag(body, ref pos, end, out uint tag)) return false;
            if (tag >> 3 is >= 1 and <= 4)
            {
                // The scan refuses the four fields under another wire type (the generated parser would skip them).
                if ((tag & 7) != WireLen) return false;
                if (!TryReadLength(body, ref pos, end, out int size)) return false;
                switch (tag >> 3)
                {
                    case 1:
                        if (l == request.LabelSlots.Length) RawWriteRequest.Grow(ref request.LabelSlots, l);
                        if (!TryReadLabel(body, pos, size, out request.LabelSlots[l++])) return false;
                        if (series.LabelBytesStart < 0) series.LabelBytesStart = fieldStart;
                        else if (labelRunEnd != fieldStart) labelsSplit = true;
                        labelRunEnd = pos + size;
                        break;
                    case 2:
                        if (samples == request.T.Length)
                        {
                            RawWriteRequest.Grow(ref request.T, samples);
                            RawWriteRequest.Grow(ref request.V, samples);
                            RawWriteRequest.Grow(ref request.St, samples);
                        }
                        if (!TryReadSample(body, pos, size, out request.T[samples], out request.V[samples], out request.St[samples])) return false;
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
