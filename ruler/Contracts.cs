using Amphora.Model;
using Amphora.PromQL.Engine;

namespace Amphora.Ruler;

/// <summary>One sample a rule produced (a recorded series, <c>ALERTS</c>, <c>ALERTS_FOR_STATE</c>, or a stale marker).</summary>
public readonly record struct RuleSample(Labels Labels, long T, double V);

/// <summary>
/// Where the ruler's instant queries run: the querier's PromQL engine over the same storage the query API reads. Errors are
/// exceptions whose message is what <c>lastError</c> shows. Thread-safe; groups query concurrently.
/// </summary>
public interface IRuleQueries
{
    Task<QueryValue> QueryAsync(string workspace, string expr, long timeMs, CancellationToken ct);
}

/// <summary>
/// The write path recorded samples take (validation, limits and per-workspace accounting apply). Returns null when every
/// sample was stored, else the refusal's message (the first one). Thread-safe.
/// </summary>
public interface IRuleSampleWriter
{
    Task<string?> WriteAsync(string workspace, IReadOnlyList<RuleSample> samples, CancellationToken ct);
}

/// <summary>An alert as Alertmanager's API v2 takes it (a postable alert).</summary>
public sealed record PostableAlert(Labels Labels, Labels Annotations, DateTimeOffset StartsAt, DateTimeOffset EndsAt, string GeneratorUrl);

/// <summary>
/// Where firing and resolved alerts go: a workspace's Alertmanager. <see cref="SendAsync"/> throws on failure (the notifier
/// counts and logs it; the alert is sent again at the next resend). Thread-safe.
/// </summary>
public interface IAlertSink
{
    Task SendAsync(string workspace, IReadOnlyList<PostableAlert> alerts, CancellationToken ct);
}

/// <summary>One rule groups namespace of a workspace as the control plane stores it: its name and rule file text.</summary>
public sealed record RuleNamespace(string Name, byte[] Data, DateTimeOffset ModifiedAt);

/// <summary>An ACTIVE workspace and its namespaces.</summary>
public sealed record WorkspaceRules(string Workspace, IReadOnlyList<RuleNamespace> Namespaces);
