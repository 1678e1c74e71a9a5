using System.Diagnostics.Metrics;

namespace Amphora.Tenancy.Limits;

/// <summary>The rejection counter shared by the limiters: <c>amphora_limit_rejections_total{workspace, reason}</c>.</summary>
public sealed class LimitMetrics : IDisposable
{
    private readonly Meter _meter = new("Amphora.Tenancy");
    private readonly Counter<long> _rejections;

    public LimitMetrics()
    {
        _rejections = _meter.CreateCounter<long>("amphora_limit_rejections", description: "Requests, series or samples refused by a per-workspace limit, by workspace and reason (a stable error id).");
    }

    /// <summary>
    /// Publishes <c>amphora_limit_series_limit_use_ratio{workspace}</c>: each workspace's active series over its
    /// <c>max_series_per_workspace</c> (without the workspace label, the fullest workspace's).
    /// </summary>
    public void ObserveSeriesLimitUse(Func<IEnumerable<Measurement<double>>> observe) =>
        _meter.CreateObservableGauge("amphora_limit_series_limit_use_ratio", observe, unit: null,
            description: "Active series of a workspace over its max_series_per_workspace limit, by workspace (1 means new series are refused).",
            tags: [new KeyValuePair<string, object?>(Amphora.Metrics.MetricsExporter.AcrossWorkspacesTag, Amphora.Metrics.MetricsExporter.AcrossWorkspacesMax)]);

    public void Rejected(string workspace, string reason, long count = 1) =>
        _rejections.Add(count, new KeyValuePair<string, object?>("workspace", workspace), new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
