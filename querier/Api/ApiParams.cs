using System.Globalization;
using Amphora.PromQL.Parser;

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
            // Prometheus converts to nanoseconds in an int64 (Go's time.Duration) and refuses what overflows it.
            if (seconds * 1e9 >= long.MaxValue || seconds * 1e9 <= long.MinValue)
                throw ApiException.InvalidParam(param, $"cannot parse \"{text}\" to a valid duration. It overflows int64");
            return (long)Math.Round(seconds * 1000);
        }
        if (TryParsePromDuration(text, out long parsed)) return parsed;
        throw ApiException.InvalidParam(param, $"cannot parse \"{text}\" to a valid duration");
    }

    /// <summary>
    /// Prometheus duration syntax (<c>model.ParseDuration</c>): units y w d h m s ms in that order, each at most once, or
    /// <c>0</c>; at most what Go's time.Duration holds (<see cref="Durations.MaxMs"/>).
    /// </summary>
    public static bool TryParsePromDuration(string s, out long ms)
    {
        ms = 0;
        return s == "0" || Durations.TryParse(s, out ms);
    }
}
