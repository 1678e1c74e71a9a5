using Amphora.Model;

namespace Amphora.Storage;

/// <summary>
/// Hides samples older than each workspace's retention, wherever they are still stored (a block not yet deleted, a head
/// that holds more than the retention): queries never see data past retention.
/// </summary>
public sealed class RetentionWorkspaceQueryable(IWorkspaceQueryable inner, Func<string, TimeSpan> retention, TimeProvider? time = null)
    : IWorkspaceQueryable
{
    public IQueryable ForWorkspace(string workspace)
    {
        long oldest = (time ?? TimeProvider.System).GetUtcNow().ToUnixTimeMilliseconds() - (long)retention(workspace).TotalMilliseconds;
        return new Clamped(inner.ForWorkspace(workspace), oldest);
    }

    private sealed class Clamped(IQueryable inner, long oldest) : IQueryable
    {
        public IQuerier Querier(long minT, long maxT) => new ClampedQuerier(inner.Querier(Math.Max(minT, oldest), maxT), oldest);
    }

    private sealed class ClampedQuerier(IQuerier inner, long oldest) : IQuerier
    {
        public async ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var clampedHints = hints is null ? null : hints with { Start = Math.Max(hints.Start, oldest) };
            return new ClampedSet(await inner.SelectAsync(sorted, clampedHints, matchers, ct), oldest);
        }

        public ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            inner.LabelValuesAsync(name, matchers, ct);

        public ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default) =>
            inner.LabelNamesAsync(matchers, ct);

        public void Dispose() => inner.Dispose();
    }

    private sealed class ClampedSet(ISeriesSet inner, long oldest) : ISeriesSet
    {
        public bool Next() => inner.Next();
        public ISeries At() => new ClampedSeries(inner.At(), oldest);
        public Exception? Err => inner.Err;
        public IReadOnlyList<string> Warnings => inner.Warnings;
    }

    private sealed class ClampedSeries(ISeries inner, long oldest) : ISeries
    {
        public Labels Labels => inner.Labels;
        public ISampleIterator Iterator(ISampleIterator? reuse = null) => new RangeSampleIterator(inner.Iterator(), oldest);
    }
}
