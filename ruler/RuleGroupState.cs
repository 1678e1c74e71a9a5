using Amphora.Model;
using Amphora.PromQL.Rules;

namespace Amphora.Ruler;

/// <summary>Names one rule group: its workspace, its rule groups namespace (the "file") and its name.</summary>
public readonly record struct GroupKey(string Workspace, string Namespace, string Group)
{
    /// <summary>The stable hash that places a group's evaluations in its interval and on a ruler replica.</summary>
    public ulong Hash => StableHashing.Fnv1a64(Group, StableHashing.Fnv1a64(Namespace + "\0", StableHashing.Fnv1a64(Workspace + "\0", StableHashing.Fnv1aOffset)));

    public override string ToString() => $"{Workspace}/{Namespace}/{Group}";
}

/// <summary>
/// One rule group being evaluated: its definition, the state of its rules, and what the API shows of its last evaluation.
/// Evaluation (<see cref="GroupEvaluator"/>) runs on the group's own loop, one at a time; the API reads the published fields.
/// </summary>
public sealed class RuleGroupState
{
    public RuleGroupState(GroupKey key, RuleGroup group, TimeSpan defaultInterval)
    {
        Key = key;
        Definition = group;
        Interval = group.IntervalMs is { } ms and > 0 ? TimeSpan.FromMilliseconds(ms) : defaultInterval;
        QueryOffset = TimeSpan.FromMilliseconds(group.QueryOffsetMs ?? 0);
        Rules = group.Rules.Select(r => r.IsAlerting ? (RuleState)new AlertingRuleState(r) : new RecordingRuleState(r)).ToList();
    }

    public GroupKey Key { get; }
    public RuleGroup Definition { get; }
    public TimeSpan Interval { get; }
    public TimeSpan QueryOffset { get; }
    public int Limit => Definition.Limit;
    public IReadOnlyList<RuleState> Rules { get; }

    public volatile RuleStatus Status = RuleStatus.Initial;

    /// <summary>Whether <c>ALERTS_FOR_STATE</c> is still to be read (after the second evaluation, as Prometheus does).</summary>
    internal bool ShouldRestore { get; set; } = true;
    internal int Evaluations { get; set; }

    /// <summary>
    /// The evaluation time at or before <paramref name="nowMs"/>: a multiple of the interval shifted by a fixed offset taken
    /// from the group's hash, so groups spread over the interval and one group's evaluations never drift (Prometheus's rule).
    /// </summary>
    public long EvalTimestamp(long nowMs)
    {
        long interval = (long)Interval.TotalMilliseconds;
        long offset = (long)(Key.Hash % (ulong)interval);
        long adjusted = nowMs - offset;
        long baseMs = adjusted - Mod(adjusted, interval);
        return baseMs + offset;
    }

    private static long Mod(long a, long m) => ((a % m) + m) % m;

    /// <summary>Takes over the state of the same group's previous definition (alerts keep their activeAt across an update).</summary>
    internal void CopyStateFrom(RuleGroupState old)
    {
        ShouldRestore = old.ShouldRestore;
        Evaluations = old.Evaluations;
        Status = old.Status;
        var byName = new Dictionary<(string, string), Queue<RuleState>>();
        foreach (var r in old.Rules)
        {
            var k = (r.Rule.Name, r.Rule.Expr);
            if (!byName.TryGetValue(k, out var q)) byName[k] = q = new Queue<RuleState>();
            q.Enqueue(r);
        }
        foreach (var r in Rules)
        {
            if (!byName.TryGetValue((r.Rule.Name, r.Rule.Expr), out var q) || q.Count == 0) continue;
            var from = q.Dequeue();
            r.Status = from.Status;
            r.PreviousSeries = from.PreviousSeries;
            if (r is AlertingRuleState a && from is AlertingRuleState b && a.Rule.IsAlerting)
            {
                foreach (var (k, v) in b.Active) a.Active[k] = v;
                a.Restored = b.Restored;
                a.Publish();
            }
        }
    }
}
