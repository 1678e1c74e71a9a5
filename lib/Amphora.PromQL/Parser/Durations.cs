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

    /// <summary>
    /// The longest duration: what Go's <c>time.Duration</c> holds (2^63-1 ns, about 292 years), as Prometheus's
    /// <c>model.ParseDuration</c> allows; <c>[293y]</c> is "duration out of range" there and here.
    /// </summary>
    public const long MaxMs = long.MaxValue / 1_000_000;

    /// <summary>Prometheus's error text for a duration beyond <see cref="MaxMs"/>.</summary>
    public const string OutOfRangeMessage = "duration out of range";

    /// <summary>Parses a duration into milliseconds; false when the text is not one or is out of range.</summary>
    public static bool TryParse(string text, out long ms) => Parse(text, out ms) == DurationSyntax.Valid;

    /// <summary>Parses a duration into milliseconds, telling a malformed text from one beyond <see cref="MaxMs"/>.</summary>
    public static DurationSyntax Parse(string text, out long ms)
    {
        ms = 0;
        if (text.Length == 0) return DurationSyntax.Invalid;
        int i = 0, lastUnit = -1;
        bool outOfRange = false;
        while (i < text.Length)
        {
            int start = i;
            while (i < text.Length && char.IsAsciiDigit(text[i])) i++;
            if (i == start) return DurationSyntax.Invalid;
            int unitStart = i;
            while (i < text.Length && char.IsAsciiLetter(text[i])) i++;
            string unit = text[unitStart..i];
            int index = Array.FindIndex(Units, u => u.Unit == unit);
            if (index < 0 || index <= lastUnit) return DurationSyntax.Invalid;
            lastUnit = index;
            if (outOfRange) continue;
            // Any digit count is well-formed; a count beyond the range only makes the duration out of range.
            if (!long.TryParse(text.AsSpan(start, unitStart - start), NumberStyles.None, CultureInfo.InvariantCulture, out long n) ||
                n > MaxMs / Units[index].Ms || ms + n * Units[index].Ms > MaxMs)
                outOfRange = true;
            else
                ms += n * Units[index].Ms;
        }
        if (outOfRange)
        {
            ms = 0;
            return DurationSyntax.OutOfRange;
        }
        return DurationSyntax.Valid;
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

/// <summary>What <see cref="Durations.Parse"/> found.</summary>
public enum DurationSyntax { Valid, Invalid, OutOfRange }
