using System.Globalization;
using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Tests.Scripts;

/// <summary>One value of a test script's series notation: a float, a gap, or a native histogram.</summary>
public readonly record struct NotationValue(double Value, bool Omitted, FloatHistogram? Histogram = null);

/// <summary>Parses the test scripts' series lines: <c>metric{a="b"} 1 2+3x4 _ stale {{...}}</c>.</summary>
public static class SeriesNotation
{
    /// <summary>Splits a line into its series part and its values part (after the closing brace or the first space).</summary>
    public static (string Series, string Values) Split(string line)
    {
        line = line.Trim();
        int space = line.IndexOfAny([' ', '\t']);
        int open = line.IndexOf('{');
        if (open < 0 || (space >= 0 && space < open))
            return space < 0 ? (line, "") : (line[..space], line[space..].Trim());
        bool inQuote = false;
        for (int i = open; i < line.Length; i++)
        {
            char c = line[i];
            if (inQuote && c == '\\') { i++; continue; }
            if (c == '"') inQuote = !inQuote;
            else if (!inQuote && c == '}') return (line[..(i + 1)], line[(i + 1)..].Trim());
        }
        return (line, "");
    }

    /// <summary>
    /// Whether a line gives start timestamps (<c>metric{a="b"}@st ...</c> or <c>metric@st ...</c>); if so the series and
    /// values parts lose the marker.
    /// </summary>
    public static bool StartTimestampLine(ref string series, ref string values)
    {
        if (series.EndsWith("@st", StringComparison.Ordinal))
        {
            series = series[..^3];
            return true;
        }
        if (values.StartsWith("@st", StringComparison.Ordinal) && (values.Length == 3 || char.IsWhiteSpace(values[3])))
        {
            values = values[3..].Trim();
            return true;
        }
        return false;
    }

    /// <summary>
    /// The values of a start-timestamp line: per sample an offset from its time in ms (<c>-30s</c>, <c>0</c>, <c>+1m</c>,
    /// <c>-30s-1mx2</c> for -30s, -1m30s, -2m30s), or null for <c>_</c> (no start timestamp).
    /// </summary>
    public static List<long?> ParseStartTimestampOffsets(string text)
    {
        var result = new List<long?>();
        foreach (string token in text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            int x = token.LastIndexOf('x');
            int n = 0;
            string head = token;
            if (x > 0 && x < token.Length - 1 && token[(x + 1)..].All(char.IsAsciiDigit))
            {
                n = int.Parse(token[(x + 1)..], CultureInfo.InvariantCulture);
                head = token[..x];
            }
            if (head == "_")
            {
                for (int k = 0; k <= Math.Max(0, n - 1); k++) result.Add(null);
                continue;
            }
            int split = head.IndexOfAny(['+', '-'], 1);
            long start = SignedDuration(split < 0 ? head : head[..split]);
            long step = split < 0 ? 0 : SignedDuration(head[split..]);
            for (int k = 0; k <= n; k++) result.Add(start + k * step);
        }
        return result;
    }

    private static long SignedDuration(string s)
    {
        bool negative = s.StartsWith('-');
        string body = s.TrimStart('+', '-');
        if (body == "0") return 0;
        if (!Durations.TryParse(body, out long ms)) throw new FormatException("not a duration in a start-timestamp line: " + s);
        return negative ? -ms : ms;
    }

    public static Labels ParseLabels(string series)
    {
        if (series == "{}") return Labels.Empty;
        var matchers = PromQLParser.ParseMetricSelector(series);
        return Labels.FromUnsorted(matchers.Select(m => new Label(m.Name, m.Value)));
    }

    public static List<NotationValue> ParseValues(string text)
    {
        var result = new List<NotationValue>();
        int i = 0;
        while (i < text.Length)
        {
            if (char.IsWhiteSpace(text[i])) { i++; continue; }
            if (text.AsSpan(i).StartsWith("{{"))
            {
                i = ExpandHistograms(text, i, result);
                continue;
            }
            int end = i;
            while (end < text.Length && !char.IsWhiteSpace(text[end])) end++;
            Expand(text[i..end], result);
            i = end;
        }
        return result;
    }

    private static void Expand(string token, List<NotationValue> into)
    {
        int x = token.LastIndexOf('x');
        if (x > 0 && x < token.Length - 1 && token[(x + 1)..].All(char.IsAsciiDigit))
        {
            string head = token[..x];
            int n = int.Parse(token[(x + 1)..], CultureInfo.InvariantCulture);
            if (head == "_")
            {
                for (int k = 0; k < n; k++) into.Add(new NotationValue(0, true));
                return;
            }
            int split = -1;
            for (int k = 1; k < head.Length; k++)
                if (head[k] is '+' or '-' && head[k - 1] is not ('e' or 'E')) { split = k; break; }
            double start = ParseNumber(split < 0 ? head : head[..split]);
            double step = split < 0 ? 0 : ParseNumber(head[split..]);
            for (int k = 0; k <= n; k++) into.Add(new NotationValue(start + k * step, false));
            return;
        }
        if (token == "_") into.Add(new NotationValue(0, true));
        else if (token == "stale") into.Add(new NotationValue(StaleNaN.Value, false));
        else into.Add(new NotationValue(ParseNumber(token), false));
    }

    /// <summary>
    /// <c>{{...}}</c>, <c>{{...}}xN</c> (N+1 copies) or <c>{{a}}+{{b}}xN</c> / <c>{{a}}-{{b}}xN</c> (a, a±b, ... N+1
    /// values) starting at <paramref name="i"/>; returns the position after it.
    /// </summary>
    private static int ExpandHistograms(string text, int i, List<NotationValue> into)
    {
        var first = ParseHistogram(text, ref i);
        if (i < text.Length && text[i] is '+' or '-' && text.AsSpan(i + 1).StartsWith("{{"))
        {
            bool add = text[i] == '+';
            i++;
            var step = ParseHistogram(text, ref i);
            int n = ParseRepeat(text, ref i);
            var current = first;
            for (int k = 0; k <= n; k++)
            {
                into.Add(new NotationValue(0, false, current));
                current = current.Copy();
                if (add) current.Add(step); else current.Sub(step);
            }
            return i;
        }
        int repeat = i < text.Length && text[i] == 'x' ? ParseRepeat(text, ref i) : 0;
        for (int k = 0; k <= repeat; k++) into.Add(new NotationValue(0, false, k == 0 ? first : first.Copy()));
        return i;
    }

    private static int ParseRepeat(string text, ref int i)
    {
        if (i >= text.Length || text[i] != 'x') throw new FormatException("expected xN after a histogram increment: " + text);
        int j = i + 1;
        while (j < text.Length && char.IsAsciiDigit(text[j])) j++;
        int n = int.Parse(text[(i + 1)..j], CultureInfo.InvariantCulture);
        i = j;
        return n;
    }

    /// <summary>
    /// One histogram description: <c>{{schema:0 count:4 sum:5 z_bucket:1 z_bucket_w:0.001 buckets:[1 2] offset:1
    /// n_buckets:[1] n_offset:0 custom_values:[1 2] counter_reset_hint:gauge}}</c>; every field is optional.
    /// </summary>
    public static FloatHistogram ParseHistogram(string text, ref int i)
    {
        int close = text.IndexOf("}}", i + 2, StringComparison.Ordinal);
        if (close < 0) throw new FormatException("unterminated histogram: " + text[i..]);
        string body = text[(i + 2)..close];
        i = close + 2;
        var h = new FloatHistogram();
        double[] positive = [], negative = [];
        int offset = 0, nOffset = 0;
        int k = 0;
        while (k < body.Length)
        {
            if (char.IsWhiteSpace(body[k])) { k++; continue; }
            int colon = body.IndexOf(':', k);
            if (colon < 0) throw new FormatException("histogram field without a value: " + body);
            string key = body[k..colon].Trim();
            k = colon + 1;
            while (k < body.Length && char.IsWhiteSpace(body[k])) k++;
            string value;
            if (k < body.Length && body[k] == '[')
            {
                int end = body.IndexOf(']', k);
                value = body[(k + 1)..end];
                k = end + 1;
            }
            else
            {
                int end = k;
                while (end < body.Length && !char.IsWhiteSpace(body[end])) end++;
                value = body[k..end];
                k = end;
            }
            double[] List() => value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ParseNumber).ToArray();
            switch (key)
            {
                case "schema": h.Schema = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "count": h.Count = ParseNumber(value); break;
                case "sum": h.Sum = ParseNumber(value); break;
                case "z_bucket": h.ZeroCount = ParseNumber(value); break;
                case "z_bucket_w": h.ZeroThreshold = ParseNumber(value); break;
                case "buckets": positive = List(); break;
                case "n_buckets": negative = List(); break;
                case "offset": offset = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "n_offset": nOffset = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "custom_values": h.CustomValues = List(); break;
                case "counter_reset_hint":
                    h.CounterResetHint = value switch
                    {
                        "reset" => CounterResetHint.CounterReset,
                        "not_reset" => CounterResetHint.NotCounterReset,
                        "gauge" => CounterResetHint.Gauge,
                        "unknown" => CounterResetHint.Unknown,
                        _ => throw new FormatException("unknown counter_reset_hint " + value),
                    };
                    break;
                default: throw new FormatException($"unknown histogram field {key}");
            }
        }
        if (positive.Length > 0)
        {
            h.PositiveSpans = [new HistogramSpan(offset, (uint)positive.Length)];
            h.PositiveBuckets = positive;
        }
        if (negative.Length > 0)
        {
            h.NegativeSpans = [new HistogramSpan(nOffset, (uint)negative.Length)];
            h.NegativeBuckets = negative;
        }
        return h;
    }

    public static double ParseNumber(string s)
    {
        string t = s.TrimStart('+');
        bool negative = t.StartsWith('-');
        string body = negative ? t[1..] : t;
        double v = body.ToLowerInvariant() switch
        {
            "inf" => double.PositiveInfinity,
            "nan" => double.NaN,
            "stale" => StaleNaN.Value,
            _ when body.StartsWith("0x", StringComparison.OrdinalIgnoreCase) => long.Parse(body[2..], NumberStyles.HexNumber, CultureInfo.InvariantCulture),
            _ => double.Parse(body, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return negative ? -v : v;
    }

    /// <summary>A script time: a PromQL duration from 0, or plain seconds.</summary>
    public static long ParseTime(string s)
    {
        if (Durations.TryParse(s, out long ms)) return ms;
        return (long)Math.Round(double.Parse(s, NumberStyles.Float, CultureInfo.InvariantCulture) * 1000);
    }
}
