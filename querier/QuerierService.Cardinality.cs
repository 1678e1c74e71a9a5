using Amphora.Model;

namespace Amphora.Querier;

/// <summary>Cardinality of a workspace's recent series: what <c>/api/v1/status/tsdb</c> and the cardinality API report.</summary>
public sealed partial class QuerierService
{
    /// <summary>
    /// How far back the cardinality figures look: series with samples in the last three hours, what an ingester's head
    /// holds at most with two-hour blocks (Prometheus reports its head). In a cluster the series come from the ingesters
    /// through the query path, each counted once however many replicas hold it.
    /// </summary>
    public static readonly TimeSpan CardinalityWindow = TimeSpan.FromHours(3);

    /// <summary>Counts the series matching <paramref name="matchers"/> (all series when empty), under the query timeout.</summary>
    /// <paramref name="matchers"/> parses the selector (empty for all series) under the timeout.
    public Task<Cardinality> CardinalityAsync(string workspace, Func<IReadOnlyList<LabelMatcher>> matchers, CancellationToken ct)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        return WithTimeoutAsync(workspace, "the cardinality request", matchers, async (parsed, token) =>
        {
            IReadOnlyList<LabelMatcher> selector = parsed.Count > 0 ? parsed : [LabelMatcher.Create(Amphora.Model.MatchType.Regex, Label.MetricName, ".+")];
            return Cardinality.Of(await SeriesCoreAsync(workspace, [selector], now - (long)CardinalityWindow.TotalMilliseconds, Api.ApiParams.MaxTimeMs, 0, token));
        }, ct);
    }
}
