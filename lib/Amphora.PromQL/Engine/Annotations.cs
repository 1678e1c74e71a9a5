namespace Amphora.PromQL.Engine;

/// <summary>
/// The texts of the warning and info annotations Prometheus attaches to query results (its <c>util/annotations</c>);
/// the query API returns them in <c>warnings</c> and <c>infos</c>, and the conformance scripts match them exactly.
/// </summary>
internal static class Annotations
{
    private const string Warning = "PromQL warning: ", Info = "PromQL info: ";

    /// <summary>A Go <c>%q</c> of a plain string: quoted, with quotes and backslashes escaped.</summary>
    internal static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string ForMetric(string text, string metric) => metric.Length == 0 ? text : $"{text} for metric name {Quote(metric)}";

    public static string MixedFloatsHistograms(string metric) => $"{Warning}encountered a mix of histograms and floats for metric name {Quote(metric)}";
    public static string MixedFloatsHistogramsInAggregation() => $"{Warning}encountered a mix of histograms and floats for aggregation";
    public static string MixedClassicNativeHistograms(string metric) => ForMetric($"{Warning}vector contains a mix of classic and native histograms", metric);
    public static string NotCounter(string metric) => $"{Warning}this native histogram metric is not a counter: {Quote(metric)}";
    public static string NotGauge(string metric) => $"{Warning}this native histogram metric is not a gauge: {Quote(metric)}";
    public static string MixedExponentialCustom(string metric) =>
        $"{Warning}vector contains a mix of histograms with exponential and custom buckets schemas for metric name {Quote(metric)}";
    public static string IncompatibleBucketLayout(string op) => $"{Warning}incompatible bucket layout encountered for binary operator {op}";
    public static string CounterResetCollision(string operation) => $"{Warning}conflicting counter resets during histogram {operation}";
    public static string StartTimeOverlap(string metric) =>
        $"{Warning}sample has start time that overlaps with previous sample timestamp for metric {Quote(metric)}";

    public static string IncompatibleTypes(string lhs, string op, string rhs) =>
        $"{Info}incompatible sample types encountered for binary operator {Quote(op)}: {lhs} {op} {rhs}";
    public static string HistogramIgnoredInAggregation(string aggregation) => $"{Info}ignored histogram in {aggregation} aggregation";
    public static string HistogramIgnoredInMixedRange(string metric) =>
        $"{Info}ignored histograms in a range containing both floats and histograms for metric name {Quote(metric)}";
    public static string QuantileNaNResult(string metric) => ForMetric($"{Info}input to histogram_quantile has NaN observations, result is NaN", metric);
    public static string QuantileNaNSkew(string metric) => ForMetric($"{Info}input to histogram_quantile has NaN observations, result is skewed higher", metric);
    public static string FractionNaNs(string metric) =>
        ForMetric($"{Info}input to histogram_fraction has NaN observations, which are excluded from all fractions", metric);
    public static string MismatchedCustomBuckets(string operation) => $"{Info}mismatched custom buckets were reconciled during {operation}";
}

/// <summary>Collects the annotations of one query (shared by its nested evaluators); duplicates are dropped when read.</summary>
internal sealed class Notes(List<string> warnings, List<string> infos)
{
    public void Warn(string text) => warnings.Add(text);
    public void Info(string text) => infos.Add(text);
}
