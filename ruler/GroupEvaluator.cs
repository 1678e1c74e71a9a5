using System.Diagnostics;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Ruler.Alerts;
using Amphora.Ruler.Templates;

namespace Amphora.Ruler;

/// <summary>
/// Evaluates rule groups with Prometheus's semantics: rules in order at one timestamp (the evaluation time less the group's
/// <c>query_offset</c>), each rule's output written through the write path with stale markers for the series it no longer
/// returns, alerts moved through pending → firing → resolved and handed to the notifier. Stateless itself; the state lives in
/// <see cref="RuleGroupState"/>. Errors of one rule are that rule's <c>lastError</c>; later rules still run.
/// </summary>
public sealed partial class GroupEvaluator(IRuleQueries queries, IRuleSampleWriter writer, AlertNotifier notifier, RulerOptions options)
{
    /// <summary>How long a resolved alert is kept (and sent as resolved) before it is forgotten, as in Prometheus.</summary>
    public static readonly TimeSpan ResolvedRetention = TimeSpan.FromMinutes(15);

    public const string AlertMetricName = "ALERTS";
    public const string AlertForStateMetricName = "ALERTS_FOR_STATE";
    public const string AlertNameLabel = "alertname";
    public const string AlertStateLabel = "alertstate";

    public async Task EvaluateAsync(RuleGroupState group, long evalMs, CancellationToken ct)
    {
        long started = Stopwatch.GetTimestamp();
        long ts = evalMs - (long)group.QueryOffset.TotalMilliseconds;
        // The API shows when the evaluation ran; queries and samples are at the offset time.
        var at = DateTimeOffset.FromUnixTimeMilliseconds(evalMs);
        foreach (var rule in group.Rules)
        {
            ct.ThrowIfCancellationRequested();
            long ruleStarted = Stopwatch.GetTimestamp();
            List<RuleSample> output;
            try
            {
                output = rule is AlertingRuleState a
                    ? await EvalAlertingAsync(group, a, ts, ct)
                    : await EvalRecordingAsync(group, (RecordingRuleState)rule, ts, ct);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                rule.Status = new RuleStatus(RuleHealth.Err, e.Message, at, Stopwatch.GetElapsedTime(ruleStarted));
                continue;
            }
            if (rule is AlertingRuleState alerting) SendAlerts(group, alerting, DateTimeOffset.FromUnixTimeMilliseconds(ts)); // the alerts' own clock
            var returned = new HashSet<Labels>(output.Count);
            foreach (var s in output) returned.Add(s.Labels);
            foreach (var previous in rule.PreviousSeries)
                if (!returned.Contains(previous)) output.Add(new RuleSample(previous, ts, StaleNaN.Value));
            string? refused = output.Count == 0 ? null : await writer.WriteAsync(group.Key.Workspace, output, ct);
            rule.PreviousSeries = returned;
            rule.Status = new RuleStatus(refused is null ? RuleHealth.Ok : RuleHealth.Err, refused, at, Stopwatch.GetElapsedTime(ruleStarted));
        }
        group.Evaluations++;
        group.Status = new RuleStatus(RuleHealth.Ok, null, at, Stopwatch.GetElapsedTime(started));
    }

    /// <summary>Writes stale markers for everything the group wrote last (the group was removed from its namespace).</summary>
    public async Task MarkStaleAsync(RuleGroupState group, long nowMs, CancellationToken ct)
    {
        var output = new List<RuleSample>();
        foreach (var rule in group.Rules)
            foreach (var s in rule.PreviousSeries) output.Add(new RuleSample(s, nowMs, StaleNaN.Value));
        if (output.Count > 0) await writer.WriteAsync(group.Key.Workspace, output, ct);
    }

    /// <summary>A rule's query: a vector as it is, a scalar as one sample without labels, anything else an error.</summary>
    private async Task<List<Sample>> QueryVectorAsync(string workspace, string expr, long ts, CancellationToken ct)
    {
        var value = await queries.QueryAsync(workspace, expr, ts, ct);
        return value switch
        {
            VectorValue v => v.Samples,
            ScalarValue s => [new Sample(Labels.Empty, s.T, s.V)],
            _ => throw new InvalidOperationException("rule result is not a vector or scalar"),
        };
    }

    private async Task<List<RuleSample>> EvalRecordingAsync(RuleGroupState group, RecordingRuleState rule, long ts, CancellationToken ct)
    {
        var vector = await QueryVectorAsync(group.Key.Workspace, rule.Rule.Expr, ts, ct);
        var output = new List<RuleSample>(vector.Count);
        var seen = new HashSet<Labels>(vector.Count);
        var builder = new LabelsBuilder();
        foreach (var s in vector)
        {
            builder.Reset(s.Metric).Set(Label.MetricName, rule.Rule.Record!);
            foreach (var (name, value) in rule.Rule.Labels) builder.Set(name, value);
            var labels = builder.Build();
            if (!seen.Add(labels)) throw new InvalidOperationException("vector contains metrics with the same labelset after applying rule labels");
            output.Add(new RuleSample(labels, ts, s.F));
        }
        if (group.Limit > 0 && output.Count > group.Limit)
            throw new InvalidOperationException($"exceeded limit of {group.Limit} with {output.Count} series");
        return output;
    }

    private async Task<List<RuleSample>> EvalAlertingAsync(RuleGroupState group, AlertingRuleState rule, long ts, CancellationToken ct)
    {
        string workspace = group.Key.Workspace;
        var at = DateTimeOffset.FromUnixTimeMilliseconds(ts);
        var vector = await QueryVectorAsync(workspace, rule.Rule.Expr, ts, ct);
        var expander = new TemplateExpander("__alert_" + rule.Rule.Alert, options.ExternalUrl, ts,
            (q, c) => queries.QueryAsync(workspace, q, ts, c));
        var seen = new HashSet<Labels>(vector.Count);
        var builder = new LabelsBuilder();
        foreach (var s in vector)
        {
            var data = new AlertTemplateData(s.Metric, s.F);
            builder.Reset(s.Metric).Delete(Label.MetricName);
            foreach (var (name, text) in rule.Rule.Labels) builder.Set(name, await expander.ExpandAsync(text, data, ct));
            builder.Set(AlertNameLabel, rule.Rule.Alert!);
            var labels = builder.Build();
            var annotations = new LabelsBuilder();
            foreach (var (name, text) in rule.Rule.Annotations) annotations.Set(name, await expander.ExpandAsync(text, data, ct));
            if (!seen.Add(labels)) throw new InvalidOperationException("vector contains metrics with the same labelset after applying alert labels");
            if (rule.Active.TryGetValue(labels, out var existing) && existing.State != AlertState.Inactive)
            {
                existing.Value = s.F;
                existing.Annotations = annotations.Build();
                continue;
            }
            rule.Active[labels] = new ActiveAlert { Labels = labels, Annotations = annotations.Build(), ActiveAt = at, State = AlertState.Pending, Value = s.F };
        }

        var output = new List<RuleSample>();
        int activeCount = 0;
        var hold = TimeSpan.FromMilliseconds(rule.Rule.ForMs);
        var keepFiringFor = TimeSpan.FromMilliseconds(rule.Rule.KeepFiringForMs);
        foreach (var (labels, alert) in rule.Active.ToList())
        {
            if (!seen.Contains(labels))
            {
                bool keepFiring = false;
                if (alert.State == AlertState.Firing && keepFiringFor > TimeSpan.Zero)
                {
                    if (alert.KeepFiringSince == default) alert.KeepFiringSince = at;
                    keepFiring = at - alert.KeepFiringSince < keepFiringFor;
                }
                if (alert.State == AlertState.Pending || (alert.ResolvedAt != default && at - alert.ResolvedAt > ResolvedRetention))
                    rule.Active.Remove(labels);
                if (alert.State != AlertState.Inactive && !keepFiring)
                {
                    alert.State = AlertState.Inactive;
                    alert.ResolvedAt = at;
                }
                if (!keepFiring) continue;
            }
            else
            {
                alert.KeepFiringSince = default;
            }
            activeCount++;
            if (alert.State == AlertState.Pending && at - alert.ActiveAt >= hold)
            {
                alert.State = AlertState.Firing;
                alert.FiredAt = at;
            }
            if (rule.Restored)
            {
                output.Add(new RuleSample(AlertSeries(alert), ts, 1));
                output.Add(new RuleSample(ForStateSeries(alert), ts, alert.ActiveAt.ToUnixTimeSeconds()));
            }
        }
        if (group.Limit > 0 && activeCount > group.Limit)
        {
            rule.Active.Clear();
            rule.Publish();
            throw new InvalidOperationException($"exceeded limit of {group.Limit} with {activeCount} alerts");
        }
        rule.Publish();
        return output;
    }

    private static Labels AlertSeries(ActiveAlert alert) =>
        new LabelsBuilder(alert.Labels).Set(Label.MetricName, AlertMetricName)
            .Set(AlertStateLabel, alert.State == AlertState.Firing ? "firing" : "pending").Build();

    private static Labels ForStateSeries(ActiveAlert alert) =>
        new LabelsBuilder(alert.Labels).Set(Label.MetricName, AlertForStateMetricName).Build();

    private void SendAlerts(RuleGroupState group, AlertingRuleState rule, DateTimeOffset at)
    {
        var alerts = new List<PostableAlert>();
        var delta = group.Interval > options.ResendDelay ? group.Interval : options.ResendDelay;
        foreach (var alert in rule.Active.Values)
        {
            if (!alert.NeedsSending(at, options.ResendDelay)) continue;
            alert.LastSentAt = at;
            alert.ValidUntil = at + 4 * delta;
            alerts.Add(new PostableAlert(alert.Labels, alert.Annotations, alert.FiredAt,
                alert.ResolvedAt != default ? alert.ResolvedAt : alert.ValidUntil,
                GeneratorUrl(group.Key.Workspace, rule.Rule.Expr)));
        }
        if (alerts.Count > 0) notifier.Enqueue(group.Key.Workspace, alerts);
    }

    /// <summary>Where an alert links back to: the expression in a table view of the workspace, as Prometheus's graph link.</summary>
    private string GeneratorUrl(string workspace, string expr) =>
        new Uri(options.ExternalUrl, $"workspaces/{Uri.EscapeDataString(workspace)}/graph?g0.expr={Uri.EscapeDataString(expr)}&g0.tab=1").ToString();
}
