using System.Globalization;

namespace Amphora.Querier.Api;

/// <summary>Parses the Prometheus API's time and duration parameters the way Prometheus does.</summary>
public static class ApiParams
{
    /// <summary>The smallest and largest timestamps the API accepts as "unbounded" (Prometheus's minTime/maxTime).</summary>
    public const long MinTimeMs = (long.MinValue / 1000 + 62135596801L) * 1000;
    public const long MaxTimeMs = (long.MaxValue / 1000 - 62135596801L) * 1000 + 999;

    /// <summary>Unix seconds with an optional fraction (rounded to ms) or RFC 3339.</summary>
    public static long ParseTime(string param, string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds) && !double.IsNaN(seconds))
        {
            double whole = Math.Truncate(seconds);
            double frac = Math.Round((seconds - whole) * 1000) / 1000;
            if (Math.Abs(whole) < 9.2e15)
                return (long)whole * 1000 + (long)Math.Round(frac * 1000);
        }
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var dto) && text.Contains('T'))
            return dto.ToUnixTimeMilliseconds();
        throw ApiException.InvalidParam(param, $"cannot parse \"{text}\" to a valid timestamp");
    }

    /// <summary>Seconds with an optional fraction, or a Prometheus duration such as <c>15s</c> or <c>1h30m</c>.</summary>
    public static long ParseDurationMs(string param, string text)
    {
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double seconds))
        {
            double ms = seconds * 1000;
            if (ms >= long.MaxValue || ms <= long.MinValue)
                throw ApiException.InvalidParam(param, $"cannot parse \"{text}\" to a valid duration. It overflows int64");
            return (long)Math.Round(ms);
        }
        if (TryParsePromDuration(text, out long parsed)) return parsed;
        throw ApiException.InvalidParam(param, $"cannot parse \"{text}\" to a valid duration");
    }

    /// <summary>Prometheus duration syntax: units y w d h m s ms in that order, each at most once.</summary>
    public static bool TryParsePromDuration(string s, out long ms)
    {
        ms = 0;
        if (s.Length == 0) return false;
        if (s == "0") return true;
        string[] units = ["y", "w", "d", "h", "m", "s", "ms"];
        long[] sizes = [365L * 86_400_000, 7L * 86_400_000, 86_400_000, 3_600_000, 60_000, 1000, 1];
        int lastUnit = -1, i = 0;
        while (i < s.Length)
        {
            int start = i;
            while (i < s.Length && char.IsAsciiDigit(s[i])) i++;
            if (start == i) return false;
            if (!long.TryParse(s.AsSpan(start, i - start), NumberStyles.None, CultureInfo.InvariantCulture, out long n)) return false;
            int u = -1;
            if (i + 1 < s.Length && s[i] == 'm' && s[i + 1] == 's') { u = 6; i += 2; }
            else if (i < s.Length) { u = Array.IndexOf(units, s[i].ToString()); i++; }
            if (u < 0 || u <= lastUnit) return false;
            lastUnit = u;
            ms += n * sizes[u];
        }
        return true;
    }
}
