namespace Amphora.Ruler;

/// <summary>The ruler's options, mapped from <c>--ruler.*</c> flags; defaults are Prometheus's.</summary>
public sealed record RulerOptions
{
    /// <summary>The interval of a group that sets none (Prometheus's <c>global.evaluation_interval</c>).</summary>
    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>How often the ruler looks at the tenancy state for new, changed and removed rule groups.</summary>
    public TimeSpan SyncInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the ruler may have been down for pending/firing state to be restored from <c>ALERTS_FOR_STATE</c>
    /// (Prometheus's <c>--rules.alert.for-outage-tolerance</c>).</summary>
    public TimeSpan ForOutageTolerance { get; init; } = TimeSpan.FromHours(1);

    /// <summary>The least time a restored alert still waits before it fires (Prometheus's <c>--rules.alert.for-grace-period</c>);
    /// alerts whose <c>for</c> is shorter are not restored.</summary>
    public TimeSpan ForGracePeriod { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>How often a firing alert is sent to the Alertmanager again (Prometheus's <c>--rules.alert.resend-delay</c>).</summary>
    public TimeSpan ResendDelay { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>The URL alerts link back to (<c>generatorURL</c>, <c>$externalURL</c>).</summary>
    public Uri ExternalUrl { get; init; } = new("http://localhost:9090/");

    /// <summary>This replica's name (unique among the rulers) and the replicas groups are spread over; empty means this one only.</summary>
    public string Name { get; init; } = "ruler";
    public IReadOnlyList<string> Members { get; init; } = [];

    public void Validate()
    {
        if (EvaluationInterval <= TimeSpan.Zero) throw new ArgumentException("--ruler.evaluation-interval must be positive");
        if (SyncInterval <= TimeSpan.Zero) throw new ArgumentException("--ruler.sync-interval must be positive");
        if (ResendDelay <= TimeSpan.Zero) throw new ArgumentException("--ruler.resend-delay must be positive");
        if (ForGracePeriod < TimeSpan.Zero) throw new ArgumentException("--ruler.for-grace-period must not be negative");
        if (ForOutageTolerance < TimeSpan.Zero) throw new ArgumentException("--ruler.for-outage-tolerance must not be negative");
        if (Members.Count > 0 && !Members.Contains(Name))
            throw new ArgumentException($"--ruler.name \"{Name}\" is not one of --ruler.members ({string.Join(",", Members)})");
    }
}
