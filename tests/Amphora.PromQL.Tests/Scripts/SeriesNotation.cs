using System.Globalization;
using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Tests.Scripts;

/// <summary>One value of a test script's series notation: a float, a gap, or a native histogram (not supported, marked).</summary>
public readonly record struct NotationValue(double Value, bool Omitted, bool Histogram);

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
                int close = text.IndexOf("}}", i, StringComparison.Ordinal);
                i = close < 0 ? text.Length : close + 2;
                int repeat = 1;
                if (i < text.Length && text[i] == 'x')
                {
                    int j = i + 1;
                    while (j < text.Length && char.IsAsciiDigit(text[j])) j++;
                    repeat = int.Parse(text[(i + 1)..j], CultureInfo.InvariantCulture) + 1;
                    i = j;
                }
                for (int r = 0; r < repeat; r++) result.Add(new NotationValue(0, false, true));
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
        if (token.Contains('{') || token.Contains('}'))
        {
            into.Add(new NotationValue(0, false, true)); // a piece of a native histogram written with spaces inside
            return;
        }
        int x = token.LastIndexOf('x');
        if (x > 0 && x < token.Length - 1 && token[(x + 1)..].All(char.IsAsciiDigit))
        {
            string head = token[..x];
            int n = int.Parse(token[(x + 1)..], CultureInfo.InvariantCulture);
            if (head == "_")
            {
                for (int k = 0; k < n; k++) into.Add(new NotationValue(0, true, false));
                return;
            }
            int split = -1;
            for (int k = 1; k < head.Length; k++)
                if (head[k] is '+' or '-' && head[k - 1] is not ('e' or 'E')) { split = k; break; }
            double start = ParseNumber(split < 0 ? head : head[..split]);
            double step = split < 0 ? 0 : ParseNumber(head[split..]);
            for (int k = 0; k <= n; k++) into.Add(new NotationValue(start + k * step, false, false));
            return;
        }
        if (token == "_") into.Add(new NotationValue(0, true, false));
        else if (token == "stale") into.Add(new NotationValue(StaleNaN.Value, false, false));
        else into.Add(new NotationValue(ParseNumber(token), false, false));
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
