using System.Globalization;
using Amphora.Querier.Api;

namespace Amphora.Ruler;

/// <summary>How Prometheus's rules and alerts JSON spells times, durations and alert values.</summary>
public static class RulerJson
{
    /// <summary>Go's RFC 3339 with nanoseconds (trailing zeros of the fraction dropped), in UTC: <c>2026-12-04T21:38:02.15Z</c>.</summary>
    public static string Time(DateTimeOffset t)
    {
        var u = t.UtcDateTime;
        string s = u.ToString("yyyy-MM-dd'T'HH:mm:ss", CultureInfo.InvariantCulture);
        long ticks = u.Ticks % TimeSpan.TicksPerSecond;
        if (ticks != 0) s += "." + ticks.ToString("0000000", CultureInfo.InvariantCulture).TrimEnd('0');
        return s + "Z";
    }

    /// <summary>Go's zero time, what a never-evaluated rule shows as <c>lastEvaluation</c>.</summary>
    public const string ZeroTime = "0001-01-01T00:00:00Z";

    /// <summary>Seconds as a JSON number the way Go's encoding/json writes a float64.</summary>
    public static string Seconds(TimeSpan d) => GoFloat.Json(d.TotalSeconds);

    /// <summary>An alert's value as the API writes it: <c>strconv.FormatFloat(v, 'e', -1, 64)</c> (<c>1e+00</c>).</summary>
    public static string AlertValue(double v) => GoFloat.FormatE(v, -1);

    internal static PromJsonWriter Time(this PromJsonWriter w, DateTimeOffset? t) => w.String(t is { } v ? Time(v) : ZeroTime);
}
