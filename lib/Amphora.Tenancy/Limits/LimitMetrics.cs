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

    public void Rejected(string workspace, string reason, long count = 1) =>
        _rejections.Add(count, new KeyValuePair<string, object?>("workspace", workspace), new KeyValuePair<string, object?>("reason", reason));

    public void Dispose() => _meter.Dispose();
}
