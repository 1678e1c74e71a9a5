namespace Amphora.PromQL.Engine;

/// <summary>Calendar functions over Unix seconds, in UTC.</summary>
internal static class TimeFunctions
{
    public static Func<double, double>? Get(string name) => name switch
    {
        "year" => v => Map(v, d => d.Year),
        "month" => v => Map(v, d => d.Month),
        "day_of_month" => v => Map(v, d => d.Day),
        "day_of_week" => v => Map(v, d => (int)d.DayOfWeek),
        "day_of_year" => v => Map(v, d => d.DayOfYear),
        "days_in_month" => v => Map(v, d => DateTime.DaysInMonth(d.Year, d.Month)),
        "hour" => v => Map(v, d => d.Hour),
        "minute" => v => Map(v, d => d.Minute),
        _ => null,
    };

    private static double Map(double seconds, Func<DateTime, int> part)
    {
        if (double.IsNaN(seconds) || double.IsInfinity(seconds)) return double.NaN;
        long whole = (long)Math.Floor(seconds);
        if (whole < -62135596800L || whole > 253402300799L) return double.NaN;
        return part(DateTimeOffset.FromUnixTimeSeconds(whole).UtcDateTime);
    }
}
