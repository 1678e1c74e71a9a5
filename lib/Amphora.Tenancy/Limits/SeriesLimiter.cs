using Amphora.Model;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.Limits;

/// <summary>
/// Active-series limits of each workspace: in total, per metric name, and per label set of the workspace configuration's
/// <c>limitsPerLabelSet</c> (a series counts against every label set whose pairs it carries; one that matches none counts
/// against the empty label set, AMP's default bucket, when there is one). The ingester calls <see cref="TryAdd"/> when it is
/// about to create a NEW series and <see cref="Remove"/> when a series goes away; existing series are never refused.
/// Thread-safe (one lock per workspace).
/// <para>In a cluster every ingester counts only the series it holds. With <paramref name="share"/> below 1 (an ingester's
/// share of the cluster's series: replication factor ÷ ingesters) each limit is applied as its share, rounded up, so the
/// cluster as a whole admits about the configured number; the refusal says so.</para>
/// </summary>
public sealed class SeriesLimiter(Overrides overrides, Func<string, WorkspaceConfiguration?> configuration, LimitMetrics? metrics = null,
    double share = 1)
{
    /// <summary>The part of each limit this limiter enforces (1 = all of it).</summary>
    public double Share { get; } = share is > 0 and <= 1 ? share
        : throw new ArgumentOutOfRangeException(nameof(share), share, "a series limit share is above 0 and at most 1");

    private long Part(long limit) => Share >= 1 ? limit : (long)Math.Ceiling(limit * Share);

    private string OfShare(long limit) => Share >= 1 ? "" : $" (this ingester's share, {Part(limit)}, is reached: it holds about {Share:0.###} of the workspace's series)";

    private readonly Dictionary<string, Counts> _byWorkspace = new(StringComparer.Ordinal);

    private sealed class Counts
    {
        public long Total;
        public readonly Dictionary<string, long> PerMetric = new(StringComparer.Ordinal);
        public readonly Dictionary<string, long> PerLabelSet = new(StringComparer.Ordinal);
    }

    public SeriesLimiter(Overrides overrides, WorkspaceRegistry registry, LimitMetrics? metrics = null, double share = 1)
        : this(overrides, ws => registry.Find(ws)?.Configuration, metrics, share)
    {
    }

    /// <summary>Publishes the use of each workspace's series limit (see <see cref="LimitMetrics.ObserveSeriesLimitUse"/>).</summary>
    public SeriesLimiter ObserveUse()
    {
        metrics?.ObserveSeriesLimitUse(() => Use().Select(u => new System.Diagnostics.Metrics.Measurement<double>(
            u.MaxSeries > 0 ? (double)u.ActiveSeries / u.MaxSeries : 0,
            new KeyValuePair<string, object?>(Amphora.Metrics.MetricsExporter.WorkspaceLabel, u.Workspace))));
        return this;
    }

    /// <summary>Each workspace's counted series and its <c>max_series_per_workspace</c>, read under the workspaces' own locks.</summary>
    public IReadOnlyList<(string Workspace, long ActiveSeries, long MaxSeries)> Use()
    {
        List<KeyValuePair<string, Counts>> all;
        lock (_byWorkspace) all = _byWorkspace.ToList();
        var result = new List<(string, long, long)>(all.Count);
        foreach (var (workspace, counts) in all)
        {
            long total;
            lock (counts) total = counts.Total;
            result.Add((workspace, total, Part(overrides.For(workspace).MaxSeriesPerWorkspace)));
        }
        return result;
    }

    /// <summary>Counts a new series, or returns the limit it would break (400) and counts nothing.</summary>
    public LimitViolation? TryAdd(string workspace, Labels series)
    {
        var limits = overrides.For(workspace);
        var labelSets = MatchingLabelSets(workspace, series);
        string metric = series.MetricName;
        var counts = CountsOf(workspace);
        lock (counts)
        {
            if (counts.Total >= Part(limits.MaxSeriesPerWorkspace))
                return Violation(workspace, LimitErrors.MaxSeriesPerWorkspace,
                    $"the per-workspace series limit of {limits.MaxSeriesPerWorkspace} is reached{OfShare(limits.MaxSeriesPerWorkspace)}; raise max_series_per_workspace in the overrides ({LimitErrors.MaxSeriesPerWorkspace})");
            long perMetric = counts.PerMetric.GetValueOrDefault(metric);
            if (perMetric >= Part(limits.MaxSeriesPerMetric))
                return Violation(workspace, LimitErrors.MaxSeriesPerMetric,
                    $"the per-metric series limit of {limits.MaxSeriesPerMetric} is reached for metric {metric}{OfShare(limits.MaxSeriesPerMetric)}; raise max_series_per_metric in the overrides ({LimitErrors.MaxSeriesPerMetric})");
            foreach (var (key, max) in labelSets)
            {
                if (counts.PerLabelSet.GetValueOrDefault(key) >= Part(max))
                    return Violation(workspace, LimitErrors.MaxSeriesPerLabelSet,
                        $"the series limit of {max} for label set {key} is reached{OfShare(max)}; raise maxSeries of this label set in the workspace configuration's limitsPerLabelSet ({LimitErrors.MaxSeriesPerLabelSet})");
            }
            counts.Total++;
            counts.PerMetric[metric] = perMetric + 1;
            foreach (var (key, _) in labelSets) counts.PerLabelSet[key] = counts.PerLabelSet.GetValueOrDefault(key) + 1;
            return null;
        }
    }

    /// <summary>Releases a series counted by <see cref="TryAdd"/> (it was removed from the head).</summary>
    public void Remove(string workspace, Labels series)
    {
        var labelSets = MatchingLabelSets(workspace, series);
        string metric = series.MetricName;
        var counts = CountsOf(workspace);
        lock (counts)
        {
            if (counts.Total > 0) counts.Total--;
            Decrement(counts.PerMetric, metric);
            foreach (var (key, _) in labelSets) Decrement(counts.PerLabelSet, key);
        }
    }

    /// <summary>Replaces a workspace's counts by counting its active series again (after a restart or a configuration change).</summary>
    public void Recount(string workspace, IEnumerable<Labels> activeSeries)
    {
        var fresh = new Counts();
        foreach (var s in activeSeries)
        {
            fresh.Total++;
            fresh.PerMetric[s.MetricName] = fresh.PerMetric.GetValueOrDefault(s.MetricName) + 1;
            foreach (var (key, _) in MatchingLabelSets(workspace, s)) fresh.PerLabelSet[key] = fresh.PerLabelSet.GetValueOrDefault(key) + 1;
        }
        lock (_byWorkspace) _byWorkspace[workspace] = fresh;
    }

    public long ActiveSeries(string workspace)
    {
        var counts = CountsOf(workspace);
        lock (counts) return counts.Total;
    }

    private Counts CountsOf(string workspace)
    {
        lock (_byWorkspace)
        {
            if (!_byWorkspace.TryGetValue(workspace, out var c)) _byWorkspace[workspace] = c = new Counts();
            return c;
        }
    }

    private List<(string Key, long Max)> MatchingLabelSets(string workspace, Labels series)
    {
        var result = new List<(string, long)>();
        var entries = configuration(workspace)?.LimitsPerLabelSet;
        if (entries is null || entries.Count == 0) return result;
        LimitsPerLabelSet? defaultBucket = null;
        foreach (var entry in entries)
        {
            if (entry.LabelSet.Count == 0) { defaultBucket = entry; continue; }
            bool all = true;
            foreach (var (name, value) in entry.LabelSet)
            {
                if (series.Get(name) != value) { all = false; break; }
            }
            if (all) result.Add((WorkspaceValidation.LabelSetKey(entry.LabelSet), entry.Limits.MaxSeries));
        }
        if (result.Count == 0 && defaultBucket is not null) result.Add(("{}", defaultBucket.Limits.MaxSeries));
        return result;
    }

    private LimitViolation Violation(string workspace, string id, string message)
    {
        metrics?.Rejected(workspace, id);
        return new LimitViolation(id, message, 400);
    }

    private static void Decrement(Dictionary<string, long> d, string key)
    {
        if (!d.TryGetValue(key, out long n)) return;
        if (n <= 1) d.Remove(key);
        else d[key] = n - 1;
    }
}
