using Amphora.Model;
using Amphora.PromQL.Rules;

namespace Amphora.Ruler;

/// <summary>A rule's health after its last evaluation, as <c>/api/v1/rules</c> shows it.</summary>
public enum RuleHealth { Unknown, Ok, Err }

/// <summary>The state of an alert: pending until its <c>for</c> elapsed, then firing; inactive once resolved.</summary>
public enum AlertState { Inactive, Pending, Firing }

/// <summary>One active (or recently resolved) alert of an alerting rule. Mutated by its group's evaluation only; readers get
/// copies through <see cref="AlertingRuleState.Snapshot"/>.</summary>
public sealed class ActiveAlert
{
    public required Labels Labels { get; init; }
    public Labels Annotations { get; set; } = Labels.Empty;
    public AlertState State { get; set; }
    public double Value { get; set; }
    public DateTimeOffset ActiveAt { get; set; }
    public DateTimeOffset FiredAt { get; set; }
    public DateTimeOffset ResolvedAt { get; set; }
    public DateTimeOffset LastSentAt { get; set; }
    public DateTimeOffset ValidUntil { get; set; }
    public DateTimeOffset KeepFiringSince { get; set; }

    public ActiveAlert Copy() => (ActiveAlert)MemberwiseClone();

    /// <summary>Prometheus's rule: a pending alert is never sent; a resolved one once; a firing one every resend delay.</summary>
    public bool NeedsSending(DateTimeOffset ts, TimeSpan resendDelay)
    {
        if (State == AlertState.Pending) return false;
        if (ResolvedAt > LastSentAt) return true;
        return LastSentAt + resendDelay < ts;
    }
}

/// <summary>What every rule shows between evaluations. Written by the group's loop, read by the API (published as a whole).</summary>
public sealed record RuleStatus(RuleHealth Health, string? LastError, DateTimeOffset? LastEvaluation, TimeSpan EvaluationTime)
{
    public static readonly RuleStatus Initial = new(RuleHealth.Unknown, null, null, TimeSpan.Zero);
}

/// <summary>A rule with its last status; the alerting kind adds its alerts.</summary>
public abstract class RuleState(Rule rule)
{
    public Rule Rule { get; } = rule;
    public volatile RuleStatus Status = RuleStatus.Initial;

    /// <summary>The series this rule wrote at its last evaluation, to write stale markers for those that disappear.</summary>
    internal HashSet<Labels> PreviousSeries { get; set; } = new();
}

public sealed class RecordingRuleState(Rule rule) : RuleState(rule);

public sealed class AlertingRuleState(Rule rule) : RuleState(rule)
{
    internal Dictionary<Labels, ActiveAlert> Active { get; } = new();

    /// <summary>False until the group restored this rule's state from <c>ALERTS_FOR_STATE</c>; until then no ALERTS series is written.</summary>
    internal bool Restored { get; set; }

    private volatile IReadOnlyList<ActiveAlert> _snapshot = [];

    /// <summary>Copies of the active alerts (pending and firing) at the end of the last evaluation.</summary>
    public IReadOnlyList<ActiveAlert> Snapshot => _snapshot;

    internal void Publish()
    {
        var list = new List<ActiveAlert>(Active.Count);
        foreach (var a in Active.Values)
            if (a.State != AlertState.Inactive) list.Add(a.Copy());
        list.Sort((x, y) => x.Labels.CompareTo(y.Labels));
        _snapshot = list;
    }

    /// <summary>The state the rule as a whole shows: the highest of its alerts'.</summary>
    public AlertState OverallState
    {
        get
        {
            var s = AlertState.Inactive;
            foreach (var a in _snapshot)
                if (a.State > s) s = a.State;
            return s;
        }
    }
}
