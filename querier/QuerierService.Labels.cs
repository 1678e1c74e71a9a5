using Amphora.Model;
using Amphora.Querier.Api;
using Amphora.Storage;

namespace Amphora.Querier;

/// <summary>The series, label names and label values APIs: bounded by the query timeout and stopped by a disconnect.</summary>
public sealed partial class QuerierService
{
    /// <summary>The series API. Bounded by the query timeout (503 timeout) and stopped by the client's disconnect.</summary>
    /// <paramref name="matchSets"/> parses the selectors; it runs under the timeout, since parsing compiles their regular expressions.
    public Task<IReadOnlyList<Labels>> SeriesAsync(string workspace, Func<IReadOnlyList<IReadOnlyList<LabelMatcher>>> matchSets,
        long start, long end, int limit, CancellationToken ct) =>
        WithTimeoutAsync(workspace, "the series request", matchSets, (sets, token) => SeriesCoreAsync(workspace, sets, start, end, limit, token), ct);

    /// <summary>The label names API, bounded and stopped as <see cref="SeriesAsync"/>.</summary>
    public Task<IReadOnlyList<string>> LabelNamesAsync(string workspace, Func<IReadOnlyList<IReadOnlyList<LabelMatcher>>> matchSets,
        long start, long end, int limit, CancellationToken ct) =>
        WithTimeoutAsync(workspace, "the label names request", matchSets, (sets, token) => LabelNamesCoreAsync(workspace, sets, start, end, limit, token), ct);

    /// <summary>The label values API, bounded and stopped as <see cref="SeriesAsync"/>.</summary>
    public Task<IReadOnlyList<string>> LabelValuesAsync(string workspace, string name,
        Func<IReadOnlyList<IReadOnlyList<LabelMatcher>>> matchSets, long start, long end, int limit, CancellationToken ct) =>
        WithTimeoutAsync(workspace, "the label values request", matchSets,
            (sets, token) => LabelValuesCoreAsync(workspace, name, sets, start, end, limit, token), ct);

    /// <summary>
    /// Runs a metadata request under the query timeout (the workspace's, when lower): <paramref name="parse"/> first (its
    /// regular expressions compile against the deadline), then the work. Past the deadline the work is cancelled and the
    /// request fails as 503 <c>timeout</c>, as it does when a regular expression takes longer than
    /// <see cref="Re2Limits.MatchTimeout"/> on one value; a client's disconnect cancels it too (the caller sees the cancellation).
    /// </summary>
    private async Task<T> WithTimeoutAsync<TParsed, T>(string workspace, string what, Func<TParsed> parse,
        Func<TParsed, CancellationToken, Task<T>> work, CancellationToken ct)
    {
        var timeout = TimeoutFor(workspace);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        try
        {
            TParsed parsed;
            using (Re2.CancelCompilationsWith(deadline.Token, timeout)) parsed = parse();
            return await work(parsed, deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested &&
                                                 (deadline.IsCancellationRequested || System.Diagnostics.Stopwatch.GetElapsedTime(started) >= timeout))
        {
            throw new ApiException(ApiErrorType.Timeout,
                $"{what} timed out after {timeout.TotalSeconds:0.###}s (the limit is --query.timeout, per workspace query_timeout)");
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new ApiException(ApiErrorType.Timeout,
                $"{what} timed out: a regular expression took longer than {e.MatchTimeout.TotalSeconds:0.###}s to match one value: {e.Pattern}");
        }
    }

    /// <summary>The workspace's query timeout: its own limit when lower than <c>--query.timeout</c>.</summary>
    public TimeSpan TimeoutFor(string workspace) =>
        Limits?.Timeout(workspace) is { } t && t < _options.Timeout ? t : _options.Timeout;

    private async Task<IReadOnlyList<Labels>> SeriesCoreAsync(string workspace, IReadOnlyList<IReadOnlyList<LabelMatcher>> matchSets,
        long start, long end, int limit, CancellationToken ct)
    {
        using var querier = _storage.ForWorkspace(workspace).Querier(start, end);
        var seen = new HashSet<Labels>();
        var result = new List<Labels>();
        foreach (var matchers in matchSets)
        {
            var set = await querier.SelectAsync(true, new SelectHints(start, end, Function: "series"), matchers, ct);
            while (set.Next())
            {
                if ((result.Count & 1023) == 1023) ct.ThrowIfCancellationRequested();
                var labels = set.At().Labels;
                if (seen.Add(labels)) result.Add(labels);
            }
            if (set.Err is { } err) throw new ApiException(ApiErrorType.Internal, err.Message);
        }
        result.Sort();
        if (limit > 0 && result.Count > limit) result.RemoveRange(limit, result.Count - limit);
        return result;
    }

    private async Task<IReadOnlyList<string>> LabelNamesCoreAsync(string workspace, IReadOnlyList<IReadOnlyList<LabelMatcher>> matchSets,
        long start, long end, int limit, CancellationToken ct)
    {
        using var querier = _storage.ForWorkspace(workspace).Querier(start, end);
        var names = new SortedSet<string>(StringComparer.Ordinal);
        if (matchSets.Count == 0) names.UnionWith(await querier.LabelNamesAsync([], ct));
        foreach (var matchers in matchSets)
        {
            ct.ThrowIfCancellationRequested();
            names.UnionWith(await querier.LabelNamesAsync(matchers, ct));
        }
        ct.ThrowIfCancellationRequested();
        return Limit(names, limit);
    }

    private async Task<IReadOnlyList<string>> LabelValuesCoreAsync(string workspace, string name,
        IReadOnlyList<IReadOnlyList<LabelMatcher>> matchSets, long start, long end, int limit, CancellationToken ct)
    {
        using var querier = _storage.ForWorkspace(workspace).Querier(start, end);
        var values = new SortedSet<string>(StringComparer.Ordinal);
        if (matchSets.Count == 0) values.UnionWith(await querier.LabelValuesAsync(name, [], ct));
        foreach (var matchers in matchSets)
        {
            ct.ThrowIfCancellationRequested();
            values.UnionWith(await querier.LabelValuesAsync(name, matchers, ct));
        }
        ct.ThrowIfCancellationRequested();
        return Limit(values, limit);
    }

    private static List<string> Limit(SortedSet<string> items, int limit)
    {
        var list = new List<string>(items);
        if (limit > 0 && list.Count > limit) list.RemoveRange(limit, list.Count - limit);
        return list;
    }
}
