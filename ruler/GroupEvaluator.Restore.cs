using Amphora.Model;
using Amphora.PromQL.Engine;

namespace Amphora.Ruler;

public sealed partial class GroupEvaluator
{
    /// <summary>
    /// Restores the activeAt of the group's pending and firing alerts from the <c>ALERTS_FOR_STATE</c> series written before a
    /// restart (or before the group moved to this replica), with Prometheus's rules: only within the outage tolerance, only for
    /// rules whose <c>for</c> is at least the grace period; an alert that was firing keeps its activeAt; one that was pending is
    /// credited the time it had already waited, but still waits at least the grace period.
    /// </summary>
    public async Task RestoreAsync(RuleGroupState group, DateTimeOffset now, CancellationToken ct)
    {
        long nowMs = now.ToUnixTimeMilliseconds();
        foreach (var rule in group.Rules)
        {
            if (rule is not AlertingRuleState alerting) continue;
            var hold = TimeSpan.FromMilliseconds(alerting.Rule.ForMs);
            if (hold < options.ForGracePeriod || alerting.Active.Count == 0)
            {
                alerting.Restored = true;
                continue;
            }
            List<Series> stored;
            try
            {
                stored = await ForStateSeriesAsync(group.Key.Workspace, alerting, nowMs, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                // As in Prometheus: a failed read leaves the rule unrestored, so no ALERTS series are written for it.
                alerting.Status = alerting.Status with { Health = RuleHealth.Err, LastError = $"restoring alert state: {e.Message}" };
                continue;
            }
            var byLabels = new Dictionary<Labels, FPoint>();
            foreach (var s in stored)
                if (s.Points.Count > 0) byLabels[s.Metric.WithoutMetricName()] = s.Points[^1];
            foreach (var alert in alerting.Active.Values)
            {
                if (!byLabels.TryGetValue(alert.Labels, out var last)) continue;
                var downAt = DateTimeOffset.FromUnixTimeSeconds(last.T / 1000);
                var restoredActiveAt = DateTimeOffset.FromUnixTimeSeconds((long)last.F);
                var remaining = hold - (downAt - restoredActiveAt);
                if (remaining <= TimeSpan.Zero)
                {
                    // It was firing (or would have been): it keeps its activeAt and fires at the next evaluation.
                }
                else if (remaining < options.ForGracePeriod)
                    restoredActiveAt = now + options.ForGracePeriod - hold;
                else
                    restoredActiveAt += now - downAt; // the time it was down does not count as pending
                alert.ActiveAt = restoredActiveAt;
            }
            alerting.Restored = true;
            alerting.Publish();
        }
    }

    /// <summary>The rule's <c>ALERTS_FOR_STATE</c> samples within the outage tolerance: an instant query of a range selector.</summary>
    private async Task<List<Series>> ForStateSeriesAsync(string workspace, AlertingRuleState rule, long nowMs, CancellationToken ct)
    {
        var matchers = new List<string> { $"__name__=\"{AlertForStateMetricName}\"", $"{AlertNameLabel}={Quote(rule.Rule.Alert!)}" };
        foreach (var (name, value) in rule.Rule.Labels)
            if (!value.Contains("{{", StringComparison.Ordinal)) matchers.Add($"{name}={Quote(value)}");
        long toleranceMs = Math.Max(1, (long)options.ForOutageTolerance.TotalMilliseconds);
        var value2 = await queries.QueryAsync(workspace, "{" + string.Join(",", matchers) + "}[" + toleranceMs + "ms]", nowMs, ct);
        return value2 is MatrixValue m ? m.Series : [];
    }

    private static string Quote(string s) => "\"" + s.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n") + "\"";
}
