using System.Buffers;
using System.Globalization;
using System.Text;
using Amphora.Model;

namespace Amphora.Querier.Api;

/// <summary>
/// Writes JSON byte-for-byte as Prometheus's API does: Go's string escaping (HTML characters as \u003c, \u003e, \u0026),
/// sample values as strings in Go's shortest 'f' format ("+Inf", "-Inf", "NaN"), timestamps as seconds with a
/// millisecond fraction ("1700000000.05"; trailing zeros of the fraction are dropped). Not thread-safe; one per response.
/// </summary>
public sealed class PromJsonWriter
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);
    private static readonly byte[] Hex = "0123456789abcdef"u8.ToArray();

    public ReadOnlyMemory<byte> WrittenMemory => _buffer.WrittenMemory;

    public PromJsonWriter Raw(ReadOnlySpan<byte> utf8)
    {
        _buffer.Write(utf8);
        return this;
    }

    public PromJsonWriter Raw(char c)
    {
        var span = _buffer.GetSpan(1);
        span[0] = (byte)c;
        _buffer.Advance(1);
        return this;
    }

    private void Ascii(string s)
    {
        var span = _buffer.GetSpan(s.Length);
        for (int i = 0; i < s.Length; i++) span[i] = (byte)s[i];
        _buffer.Advance(s.Length);
    }

    public PromJsonWriter String(string s)
    {
        Raw('"');
        int start = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            string? escape = c switch
            {
                '"' => "\\\"",
                '\\' => "\\\\",
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                '<' or '>' or '&' or '\u2028' or '\u2029' or < ' ' => null,
                _ => "",
            };
            if (escape is { Length: 0 }) continue;
            Utf8(s.AsSpan(start, i - start));
            if (escape is not null) Ascii(escape);
            else
            {
                Raw("\\u"u8);
                var span = _buffer.GetSpan(4);
                span[0] = Hex[(c >> 12) & 0xF];
                span[1] = Hex[(c >> 8) & 0xF];
                span[2] = Hex[(c >> 4) & 0xF];
                span[3] = Hex[c & 0xF];
                _buffer.Advance(4);
            }
            start = i + 1;
        }
        Utf8(s.AsSpan(start));
        Raw('"');
        return this;
    }

    private void Utf8(ReadOnlySpan<char> chars)
    {
        if (chars.IsEmpty) return;
        int max = Encoding.UTF8.GetMaxByteCount(chars.Length);
        int n = Encoding.UTF8.GetBytes(chars, _buffer.GetSpan(max));
        _buffer.Advance(n);
    }

    /// <summary>
    /// A Prometheus sample pair: <c>[seconds,"value"]</c>. Vector and matrix samples print the milliseconds as three digits
    /// (<c>1.570</c>); scalars and strings print the time as a float, trailing zeros dropped (<c>1.57</c>).
    /// </summary>
    public PromJsonWriter Point(long timestampMs, double value, bool asFloat = false)
    {
        Raw('[');
        if (asFloat) Timestamp(timestampMs); else SampleTimestamp(timestampMs);
        Raw(',').Raw('"');
        Ascii(FormatFloat(value));
        Raw('"').Raw(']');
        return this;
    }

    /// <summary>
    /// A native-histogram sample as Prometheus writes it: <c>[seconds,{"count":"…","sum":"…","buckets":[[rule,"lower","upper","count"],…]}]</c>,
    /// the populated buckets in ascending order; the rule is 0 for (lower,upper], 1 for [lower,upper), 2 for (lower,upper)
    /// and 3 for [lower,upper]. Without populated buckets there is no <c>buckets</c> field.
    /// </summary>
    public PromJsonWriter HistogramPoint(long timestampMs, FloatHistogram h)
    {
        Raw('[');
        SampleTimestamp(timestampMs);
        Raw(",{\"count\":\""u8);
        Ascii(FormatFloat(h.Count));
        Raw("\",\"sum\":\""u8);
        Ascii(FormatFloat(h.Sum));
        Raw('"');
        var buckets = new List<HistogramBucket>();
        h.AllBuckets(buckets);
        bool any = false;
        foreach (var b in buckets)
        {
            if (b.Count == 0) continue;
            Raw(any ? ","u8 : ",\"buckets\":["u8);
            any = true;
            int rule = b.LowerInclusive ? (b.UpperInclusive ? 3 : 1) : (b.UpperInclusive ? 0 : 2);
            Raw('[').Number(rule).Raw(",\""u8);
            Ascii(FormatFloat(b.Lower));
            Raw("\",\""u8);
            Ascii(FormatFloat(b.Upper));
            Raw("\",\""u8);
            Ascii(FormatFloat(b.Count));
            Raw("\"]"u8);
        }
        if (any) Raw(']');
        return Raw("}]"u8);
    }

    /// <summary>
    /// A native-histogram sample in full, for a <c>--target=query-frontend</c> that reads it back exactly (Prometheus's form
    /// keeps only the populated buckets' boundaries): <c>[seconds,{"schema":…,"zeroThreshold":"…","zeroCount":"…",
    /// "count":"…","sum":"…","counterResetHint":…,"positiveSpans":[[offset,length],…],"positiveBuckets":["…",…],
    /// "negativeSpans":…,"negativeBuckets":…,"customValues":…}]</c>.
    /// </summary>
    public PromJsonWriter HistogramPointFull(long timestampMs, FloatHistogram h)
    {
        Raw('[');
        SampleTimestamp(timestampMs);
        Raw(",{\"schema\":"u8).Number(h.Schema);
        Raw(",\"zeroThreshold\":"u8).String(FormatFloat(h.ZeroThreshold));
        Raw(",\"zeroCount\":"u8).String(FormatFloat(h.ZeroCount));
        Raw(",\"count\":"u8).String(FormatFloat(h.Count));
        Raw(",\"sum\":"u8).String(FormatFloat(h.Sum));
        Raw(",\"counterResetHint\":"u8).Number((long)h.CounterResetHint);
        Spans("positiveSpans", h.PositiveSpans);
        Floats("positiveBuckets", h.PositiveBuckets);
        Spans("negativeSpans", h.NegativeSpans);
        Floats("negativeBuckets", h.NegativeBuckets);
        Floats("customValues", h.CustomValues);
        return Raw("}]"u8);
    }

    private void Spans(string name, HistogramSpan[] spans)
    {
        Raw(',').String(name).Raw(":["u8);
        for (int i = 0; i < spans.Length; i++)
        {
            if (i > 0) Raw(',');
            Raw('[').Number(spans[i].Offset).Raw(',').Number(spans[i].Length).Raw(']');
        }
        Raw(']');
    }

    private void Floats(string name, double[] values)
    {
        Raw(',').String(name).Raw(":["u8);
        for (int i = 0; i < values.Length; i++)
        {
            if (i > 0) Raw(',');
            String(FormatFloat(values[i]));
        }
        Raw(']');
    }

    /// <summary>Seconds with a three-digit millisecond fraction when it is not zero.</summary>
    public PromJsonWriter SampleTimestamp(long ms)
    {
        if (ms < 0) { Raw('-'); ms = -ms; }
        Ascii((ms / 1000).ToString(CultureInfo.InvariantCulture));
        long fraction = ms % 1000;
        if (fraction != 0)
        {
            Raw('.');
            Ascii(fraction.ToString("000", CultureInfo.InvariantCulture));
        }
        return this;
    }

    /// <summary>Seconds as a float: the fraction without trailing zeros.</summary>
    public PromJsonWriter Timestamp(long ms)
    {
        if (ms < 0) { Raw('-'); ms = -ms; }
        Ascii((ms / 1000).ToString(CultureInfo.InvariantCulture));
        long fraction = ms % 1000;
        if (fraction != 0)
        {
            Raw('.');
            Ascii(fraction.ToString("000", CultureInfo.InvariantCulture).TrimEnd('0'));
        }
        return this;
    }

    /// <summary>A label set as a JSON object in label order: <c>{"__name__":"up","job":"x"}</c>.</summary>
    public PromJsonWriter LabelsObject(Labels labels)
    {
        Raw('{');
        bool first = true;
        foreach (var l in labels.AsSpan())
        {
            if (!first) Raw(',');
            first = false;
            String(l.Name).Raw(':').String(l.Value);
        }
        Raw('}');
        return this;
    }

    /// <summary>An integer as a JSON number.</summary>
    public PromJsonWriter Number(long n)
    {
        Span<byte> digits = stackalloc byte[20];
        n.TryFormat(digits, out int written, provider: CultureInfo.InvariantCulture);
        return Raw(digits[..written]);
    }

    public PromJsonWriter StringArray(IEnumerable<string> values)
    {
        Raw('[');
        bool first = true;
        foreach (var v in values)
        {
            if (!first) Raw(',');
            first = false;
            String(v);
        }
        Raw(']');
        return this;
    }

    /// <summary>Go's <c>strconv.FormatFloat(v, 'f', -1, 64)</c> with Prometheus's spellings of infinities and NaN.</summary>
    public static string FormatFloat(double v) => Amphora.Model.FloatText.Format(v);
}
