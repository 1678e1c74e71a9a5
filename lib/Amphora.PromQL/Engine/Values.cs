using Amphora.Model;

namespace Amphora.PromQL.Engine;

/// <summary>
/// A sample of a series at one time: a float, or a native histogram when <see cref="H"/> is set (then F is unused).
/// Histograms in points are not shared between results: whoever changes one works on its own copy.
/// </summary>
public readonly record struct FPoint(long T, double F, FloatHistogram? H = null);

/// <summary>One element of an instant vector: a float, or a native histogram when <see cref="H"/> is set.</summary>
public readonly record struct Sample(Labels Metric, long T, double F, FloatHistogram? H = null);

/// <summary>A series with its points, as in a range vector or a range query's result.</summary>
public sealed class Series(Labels metric, List<FPoint> points)
{
    public Labels Metric { get; set; } = metric;
    public List<FPoint> Points { get; } = points;
}

/// <summary>A query's value: one of <see cref="ScalarValue"/>, <see cref="StringValue"/>, <see cref="VectorValue"/>, <see cref="MatrixValue"/>.</summary>
public abstract class QueryValue;

public sealed class ScalarValue(long t, double v) : QueryValue
{
    public long T { get; } = t;
    public double V { get; } = v;
}

public sealed class StringValue(long t, string v) : QueryValue
{
    public long T { get; } = t;
    public string V { get; } = v;
}

public sealed class VectorValue(List<Sample> samples) : QueryValue
{
    public List<Sample> Samples { get; } = samples;
}

public sealed class MatrixValue(List<Series> series) : QueryValue
{
    public List<Series> Series { get; } = series;
}

/// <summary>The outcome of a query: its value and the annotations (warnings, infos) Prometheus would attach.</summary>
public sealed class QueryResult(QueryValue value, IReadOnlyList<string> warnings, IReadOnlyList<string> infos, long samplesProcessed = 0)
{
    public QueryValue Value { get; } = value;
    public IReadOnlyList<string> Warnings { get; } = warnings;
    public IReadOnlyList<string> Infos { get; } = infos;
    /// <summary>Samples read from storage to evaluate it (see <c>Evaluator.SamplesProcessed</c>).</summary>
    public long SamplesProcessed { get; } = samplesProcessed;
}

/// <summary>Prometheus's API error types, which decide the HTTP status of a failed query.</summary>
public enum PromQLErrorType { BadData, Execution, Timeout, Canceled, Internal }

/// <summary>A query that failed to evaluate (parse errors are <see cref="Parser.ParseException"/>).</summary>
public sealed class PromQLException(PromQLErrorType type, string message) : Exception(message)
{
    public PromQLErrorType ErrorType { get; } = type;

    public static PromQLException TooManySamples() =>
        new(PromQLErrorType.Execution, "query processing would load too many samples into memory in query execution");
}
