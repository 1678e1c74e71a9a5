using System.Globalization;
using System.Text;

namespace Amphora.PromQL.Parser;

/// <summary>PromQL durations: <c>1y2w3d4h5m6s7ms</c>, units in that order, each at most once.</summary>
public static class Durations
{
    private static readonly (string Unit, long Ms)[] Units =
    [
        ("y", 365L * 24 * 3600 * 1000), ("w", 7L * 24 * 3600 * 1000), ("d", 24L * 3600 * 1000), ("h", 3600_000),
        ("m", 60_000), ("s", 1000), ("ms", 1),
    ];

    /// <summary>Parses a duration into milliseconds; false when the text is not one.</summary>
    public static bool TryParse(string text, out long ms)
    {
        ms = 0;
        if (text.Length == 0) return false;
        int i = 0, lastUnit = -1;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
            if (i == start) return false;
            if (!long.TryParse(text.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return false;
            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            string unit = text[unitStart..i];
            int index = Array.FindIndex(Units, u => u.Unit == unit);
            if (index < 0) return false;
            if (index <= lastUnit) return false;
            lastUnit = index;
            try
            {
                ms = checked(ms + checked(n * Units[index].Ms));
            }
            catch (OverflowException)
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Formats milliseconds as Prometheus does (<c>1h30m</c>, <c>5m</c>, <c>1500ms</c> → <c>1s500ms</c>).</summary>
    public static string Format(long ms)
    {
        if (ms == 0) return "0s";
        var sb = new StringBuilder();
        if (ms < 0) { sb.Append('-'); ms = -ms; }
        foreach (var (unit, size) in Units)
        {
            long n = ms / size;
            if (n == 0) continue;
            sb.Append(n.ToString(CultureInfo.InvariantCulture)).Append(unit);
            ms -= n * size;
        }
        return sb.ToString();
    }
}
