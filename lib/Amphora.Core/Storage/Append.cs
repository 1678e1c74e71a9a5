using Amphora.Model;

namespace Amphora.Storage;

/// <summary>The outcome of appending one sample. Expected outcomes are values that get counted, not exceptions.</summary>
public enum AppendStatus : byte
{
    Ok = 0,
    /// <summary>Older than the series' newest sample and outside the out-of-order window.</summary>
    OutOfOrder,
    /// <summary>Older than what the head still accepts (before the current block's start).</summary>
    TooOld,
    /// <summary>Same timestamp as a stored sample but a different value.</summary>
    DuplicateTimestamp,
    /// <summary>A per-workspace series limit refused a new series.</summary>
    SeriesLimit,
}

/// <summary>Why a series limit refused a new series: the stable error id (<see cref="Reason"/>, e.g.
/// <c>err-amphora-max-series-per-workspace</c>) and the message that names the limit and the setting that raises it.</summary>
public sealed record SeriesRefusal(string Reason, string Message);

/// <summary>Metric metadata as remote write carries it.</summary>
public sealed record MetricMetadata(string MetricFamilyName, string Type, string Help, string Unit);

/// <summary>
/// Appends samples to one workspace as a transaction: nothing is visible or durable until <see cref="CommitAsync"/>,
/// which writes the write-ahead log first and then changes memory. <see cref="Rollback"/> discards everything.
/// Not thread-safe; one appender per request. An appender is finished by exactly one Commit or Rollback.
/// </summary>
public interface IAppender
{
    /// <summary>Adds a float sample. <paramref name="seriesRef"/> caches the series between calls of the same request (0 = unknown).</summary>
    AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v);

    /// <summary>
    /// Adds an integer native histogram sample (valid: see <see cref="Histogram.Validate"/>); a staleness marker is
    /// <see cref="Histogram.Stale"/>. Storage that does not keep histograms throws <see cref="NotSupportedException"/>.
    /// </summary>
    AppendStatus AppendHistogram(ref ulong seriesRef, Labels labels, long t, Histogram histogram) =>
        throw new NotSupportedException("this storage does not store native histograms");

    /// <summary>Adds a float native histogram sample (absolute bucket counts); a staleness marker has the stale NaN as its sum.
    /// The appender keeps <paramref name="histogram"/>: the caller must not change it afterwards.</summary>
    AppendStatus AppendFloatHistogram(ref ulong seriesRef, Labels labels, long t, FloatHistogram histogram) =>
        throw new NotSupportedException("this storage does not store native histograms");

    /// <summary>
    /// The same three, with the sample's start timestamp <paramref name="st"/> (ms; 0 = none): when its counter or histogram
    /// started counting (see <see cref="ISampleIterator.AtST"/>). Storage that keeps no start timestamps stores the sample
    /// without it, as these defaults do.
    /// </summary>
    AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v, long st) => Append(ref seriesRef, labels, t, v);

    AppendStatus AppendHistogram(ref ulong seriesRef, Labels labels, long t, Histogram histogram, long st) =>
        AppendHistogram(ref seriesRef, labels, t, histogram);

    AppendStatus AppendFloatHistogram(ref ulong seriesRef, Labels labels, long t, FloatHistogram histogram, long st) =>
        AppendFloatHistogram(ref seriesRef, labels, t, histogram);

    void UpdateMetadata(MetricMetadata metadata);

    /// <summary>
    /// Adds an exemplar of a series that exists or that this request's samples create (Prometheus sends a series' exemplars
    /// in a TimeSeries of their own, without its samples); kept at the commit, after the samples. As in Prometheus, an
    /// exemplar never fails a write and never creates a series: a duplicate, an out-of-order one or one of an unknown series
    /// is dropped and counted. Appenders that keep no exemplars ignore it.
    /// </summary>
    void AppendExemplar(Labels series, Exemplar exemplar) { }

    /// <summary>
    /// Why the last <see cref="Append"/> that did not return <see cref="AppendStatus.Ok"/> was refused, when the appender knows
    /// more than the status (e.g. which series limit, and the setting that raises it); null otherwise.
    /// </summary>
    SeriesRefusal? LastRejection => null;

    ValueTask CommitAsync(CancellationToken ct = default);

    void Rollback();
}

/// <summary>Opens appenders per workspace.</summary>
public interface IWorkspaceAppendable
{
    IAppender Appender(string workspace);
}
