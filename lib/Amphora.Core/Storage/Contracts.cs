using Amphora.Model;

namespace Amphora.Storage;

/// <summary>
/// What an iterator is positioned on: a float, an integer native histogram or a float native histogram. Readers that want
/// histograms call <see cref="ISampleIterator.AtFloatHistogram"/> for either histogram kind.
/// </summary>
public enum ValueType : byte { None = 0, Float = 1, Histogram = 2, FloatHistogram = 3 }

/// <summary>
/// A pull iterator over one series' samples in timestamp order (milliseconds since the epoch).
/// Reusable: a caller may hand an old iterator back to <see cref="ISeries.Iterator"/>.
/// Not thread-safe. Errors are sticky: once <see cref="Err"/> is set, <see cref="Next"/> returns <see cref="ValueType.None"/>.
/// </summary>
public interface ISampleIterator
{
    /// <summary>Advances to the next sample; <see cref="ValueType.None"/> at the end or on error.</summary>
    ValueType Next();

    /// <summary>Advances to the first sample with timestamp &gt;= <paramref name="t"/>; never moves backwards (if already there, stays).</summary>
    ValueType Seek(long t);

    /// <summary>The current float sample. Only valid after Next/Seek returned <see cref="ValueType.Float"/>.</summary>
    (long T, double V) At();

    /// <summary>
    /// The current histogram sample as a float histogram. Only valid after Next/Seek returned <see cref="ValueType.Histogram"/>
    /// (converted) or <see cref="ValueType.FloatHistogram"/>. The histogram returned belongs to the caller: it is
    /// <paramref name="into"/>, overwritten, when one is given, else a new one. Iterators over floats only keep this
    /// default, which throws.
    /// </summary>
    (long T, FloatHistogram H) AtFloatHistogram(FloatHistogram? into = null) =>
        throw new NotSupportedException($"{GetType().Name} has no histogram samples");

    /// <summary>
    /// The current integer histogram sample, its counts as stored (delta-encoded, not converted). Only valid after Next/Seek
    /// returned <see cref="ValueType.Histogram"/>; a new object that belongs to the caller. Used where histograms are copied
    /// on (re-encoded into chunks), not evaluated. Iterators without integer histograms keep this default, which throws.
    /// </summary>
    Histogram AtHistogram() => throw new NotSupportedException($"{GetType().Name} has no integer histogram samples");

    /// <summary>The current sample's timestamp.</summary>
    long AtT();

    /// <summary>
    /// The current sample's start timestamp (ms since the epoch): when the counter or histogram it belongs to started
    /// counting (remote write 2.0's per-sample start timestamp, OTLP's <c>start_time_unix_nano</c>, a created timestamp). 0
    /// when unknown, which is what stores without start timestamps keep as this default. Returned as stored: readers decide
    /// what an ST at or after the sample's own time means.
    /// </summary>
    long AtST() => 0;

    Exception? Err { get; }
}

/// <summary>A series: its labels and a way to iterate its samples. Implementations may be lazy.</summary>
public interface ISeries
{
    Labels Labels { get; }

    /// <summary>Returns an iterator over the series; may reuse <paramref name="reuse"/> when it is of the right kind.</summary>
    ISampleIterator Iterator(ISampleIterator? reuse = null);
}

/// <summary>
/// A pull iterator over series, sorted by labels when asked for. Not thread-safe. <see cref="At"/> is valid until the next
/// <see cref="Next"/>. Errors are sticky; <see cref="Warnings"/> carries non-fatal annotations (e.g. a skipped corrupt block).
/// </summary>
public interface ISeriesSet
{
    bool Next();
    ISeries At();
    Exception? Err { get; }
    IReadOnlyList<string> Warnings { get; }
}

/// <summary>Hints for a select, as PromQL knows them; storage may use them to load less. All times in ms.</summary>
public sealed record SelectHints(long Start, long End, long Step = 0, long Range = 0, string? Function = null);

/// <summary>
/// Reads one workspace over a fixed time range [MinT, MaxT]. Disposing releases what it holds (block readers, locks).
/// Select may be called several times and concurrently with appends; returned sets see a consistent snapshot.
/// </summary>
public interface IQuerier : IDisposable
{
    /// <summary>Selects the series matching all <paramref name="matchers"/>. Sorted by labels when <paramref name="sorted"/>.</summary>
    ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default);

    /// <summary>Sorted distinct values of label <paramref name="name"/> over series matching <paramref name="matchers"/> (all series when empty).</summary>
    ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default);

    /// <summary>Sorted distinct label names over series matching <paramref name="matchers"/> (all series when empty).</summary>
    ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default);
}

/// <summary>Opens queriers on one workspace's data.</summary>
public interface IQueryable
{
    IQuerier Querier(long minT, long maxT);
}

/// <summary>Opens a queryable per workspace. The querier service receives this, never storage internals.</summary>
public interface IWorkspaceQueryable
{
    IQueryable ForWorkspace(string workspace);
}

/// <summary>Storage that cannot answer right now (too many replicas unreachable); APIs answer 503 so clients retry.</summary>
public class StorageUnavailableException(string message) : Exception(message);
