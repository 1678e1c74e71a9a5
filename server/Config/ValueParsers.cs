using System.Globalization;

namespace Amphora.Server.Config;

/// <summary>Parses option values: Prometheus-style durations (<c>1h30m</c>), byte sizes (<c>10MiB</c>), booleans and integers.</summary>
public static class ValueParsers
{
    public static TimeSpan Duration(string s)
    {
        if (s == "0") return TimeSpan.Zero;
        long totalMs = 0;
        int i = 0;
        if (s.Length == 0) throw new FormatException("empty duration");
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (start == i) throw new FormatException($"\"{s}\" is not a duration like 30s, 5m, 1h30m");
            long n = long.Parse(s.AsSpan(start, i - start), CultureInfo.InvariantCulture);
            int unitStart = i;
            while (i < s.Length && char.IsAsciiLetter(s[i])) i++;
            long unitMs = s[unitStart..i] switch
            {
                "ms" => 1,
                "s" => 1000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "w" => 7 * 86_400_000L,
                "y" => 365 * 86_400_000L,
                _ => throw new FormatException($"\"{s}\" is not a duration like 30s, 5m, 1h30m (unknown unit \"{s[unitStart..i]}\")"),
            };
            totalMs += n * unitMs;
        }
        return TimeSpan.FromMilliseconds(totalMs);
    }

    public static long Bytes(string s)
    {
        string[] units = ["KiB", "MiB", "GiB", "KB", "MB", "GB", "B"];
        long[] factors = [1L << 10, 1L << 20, 1L << 30, 1000, 1_000_000, 1_000_000_000, 1];
        for (int u = 0; u < units.Length; u++)
        {
            if (s.EndsWith(units[u], StringComparison.Ordinal) &&
                long.TryParse(s.AsSpan(0, s.Length - units[u].Length), NumberStyles.None, CultureInfo.InvariantCulture, out long n))
                return n * factors[u];
        }
        if (long.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out long plain)) return plain;
        throw new FormatException($"\"{s}\" is not a size like 10485760, 10MiB or 512KiB");
    }

    public static bool Bool(string s) => s.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" or "" => true,
        "false" or "0" or "no" => false,
        _ => throw new FormatException($"\"{s}\" is not true or false"),
    };

    public static int Int(string s) =>
        int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out int n) ? n : throw new FormatException($"\"{s}\" is not an integer");

    public static long Long(string s) =>
        long.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out long n) ? n : throw new FormatException($"\"{s}\" is not an integer");

    public static string FormatDuration(TimeSpan d)
    {
        if (d == TimeSpan.Zero) return "0s";
        long ms = (long)d.TotalMilliseconds;
        var parts = new List<string>();
        foreach (var (unit, size) in new[] { ("h", 3_600_000L), ("m", 60_000L), ("s", 1000L), ("ms", 1L) })
        {
            if (ms >= size) { parts.Add($"{ms / size}{unit}"); ms %= size; }
        }
        return string.Concat(parts);
    }
}
