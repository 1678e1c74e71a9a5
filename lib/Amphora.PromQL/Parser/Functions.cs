namespace Amphora.PromQL.Parser;

/// <summary>
/// A PromQL function's signature. <see cref="Variadic"/>: 0 = exactly the argument types; N &gt; 0 = the last argument is
/// optional and may repeat up to N times in total; -1 = the last argument may repeat without limit (it may also be absent).
/// </summary>
public sealed record FunctionDef(string Name, PromValueType[] ArgTypes, int Variadic, PromValueType ReturnType, bool Experimental = false)
{
    public int MinArgs => Variadic == 0 ? ArgTypes.Length : ArgTypes.Length - 1;
    public int MaxArgs => Variadic switch { 0 => ArgTypes.Length, < 0 => int.MaxValue, _ => ArgTypes.Length - 1 + Variadic };

    public PromValueType ArgType(int i) => i < ArgTypes.Length ? ArgTypes[i] : ArgTypes[^1];
}

/// <summary>Every function of Prometheus 3's PromQL.</summary>
public static class Functions
{
    private const PromValueType S = PromValueType.Scalar, V = PromValueType.Vector, M = PromValueType.Matrix, Str = PromValueType.String;

    private static readonly FunctionDef[] All =
    [
        new("abs", [V], 0, V), new("absent", [V], 0, V), new("absent_over_time", [M], 0, V),
        new("acos", [V], 0, V), new("acosh", [V], 0, V), new("asin", [V], 0, V), new("asinh", [V], 0, V),
        new("atan", [V], 0, V), new("atanh", [V], 0, V), new("avg_over_time", [M], 0, V), new("ceil", [V], 0, V),
        new("changes", [M], 0, V), new("clamp", [V, S, S], 0, V), new("clamp_max", [V, S], 0, V), new("clamp_min", [V, S], 0, V),
        new("cos", [V], 0, V), new("cosh", [V], 0, V), new("count_over_time", [M], 0, V),
        new("days_in_month", [V], 1, V), new("day_of_month", [V], 1, V), new("day_of_week", [V], 1, V), new("day_of_year", [V], 1, V),
        new("deg", [V], 0, V), new("delta", [M], 0, V), new("deriv", [M], 0, V),
        new("double_exponential_smoothing", [M, S, S], 0, V, Experimental: true),
        new("exp", [V], 0, V), new("floor", [V], 0, V),
        new("first_over_time", [M], 0, V, Experimental: true),
        new("histogram_avg", [V], 0, V), new("histogram_count", [V], 0, V), new("histogram_fraction", [S, S, V], 0, V),
        new("histogram_quantile", [S, V], 0, V), new("histogram_quantiles", [V, Str, S], -1, V, Experimental: true), new("histogram_stddev", [V], 0, V), new("histogram_stdvar", [V], 0, V),
        new("histogram_sum", [V], 0, V), new("hour", [V], 1, V), new("idelta", [M], 0, V), new("increase", [M], 0, V),
        new("info", [V, V], 1, V, Experimental: true), new("irate", [M], 0, V),
        new("label_join", [V, Str, Str, Str], -1, V), new("label_replace", [V, Str, Str, Str, Str], 0, V),
        new("last_over_time", [M], 0, V), new("ln", [V], 0, V), new("log10", [V], 0, V), new("log2", [V], 0, V),
        new("mad_over_time", [M], 0, V, Experimental: true), new("max_over_time", [M], 0, V), new("min_over_time", [M], 0, V),
        new("minute", [V], 1, V), new("month", [V], 1, V), new("pi", [], 0, S), new("predict_linear", [M, S], 0, V),
        new("present_over_time", [M], 0, V), new("quantile_over_time", [S, M], 0, V), new("rad", [V], 0, V),
        new("rate", [M], 0, V), new("resets", [M], 0, V), new("round", [V, S], 1, V), new("scalar", [V], 0, S),
        new("sgn", [V], 0, V), new("sin", [V], 0, V), new("sinh", [V], 0, V), new("sort", [V], 0, V), new("sort_desc", [V], 0, V),
        new("sort_by_label", [V, Str], -1, V, Experimental: true), new("sort_by_label_desc", [V, Str], -1, V, Experimental: true),
        new("sqrt", [V], 0, V), new("start_timestamp", [V], 0, V, Experimental: true), new("stddev_over_time", [M], 0, V), new("stdvar_over_time", [M], 0, V),
        new("sum_over_time", [M], 0, V), new("tan", [V], 0, V), new("tanh", [V], 0, V), new("time", [], 0, S),
        new("timestamp", [V], 0, V), new("ts_of_first_over_time", [M], 0, V, Experimental: true),
        new("ts_of_last_over_time", [M], 0, V, Experimental: true), new("ts_of_max_over_time", [M], 0, V, Experimental: true),
        new("ts_of_min_over_time", [M], 0, V, Experimental: true), new("vector", [S], 0, V), new("year", [V], 1, V),
        new("step", [], 0, S), new("range", [], 0, S), new("start", [], 0, S), new("end", [], 0, S),
        new("min_of", [S, S], 0, S), new("max_of", [S, S], 0, S),
    ];

    private static readonly Dictionary<string, FunctionDef> ByName = All.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public static bool TryGet(string name, out FunctionDef function) => ByName.TryGetValue(name, out function!);

    public static IEnumerable<FunctionDef> List => All;
}
