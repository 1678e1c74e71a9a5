using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Rules;

/// <summary>
/// A Prometheus rule file as <see cref="RuleFileParser"/> read it: its groups in file order. Immutable; what the ruler
/// evaluates and what the control plane stores (as the original text) once it parsed.
/// </summary>
public sealed record RuleFile(IReadOnlyList<RuleGroup> Groups);

/// <summary>One rule group (Prometheus's rulefmt). Durations in milliseconds; null where the file leaves them out (the
/// evaluator's defaults apply). <see cref="Limit"/> 0 means no limit.</summary>
public sealed record RuleGroup(string Name, long? IntervalMs, long? QueryOffsetMs, int Limit, IReadOnlyList<Rule> Rules, int Line);

/// <summary>
/// One recording rule (<see cref="Record"/> set) or alerting rule (<see cref="Alert"/> set), with its expression text and its
/// parsed form. <see cref="Line"/> is where the rule starts in the file (1-based).
/// </summary>
public sealed record Rule(
    string? Record,
    string? Alert,
    string Expr,
    Expr Parsed,
    long ForMs,
    long KeepFiringForMs,
    IReadOnlyDictionary<string, string> Labels,
    IReadOnlyDictionary<string, string> Annotations,
    int Line)
{
    public bool IsAlerting => Alert is not null;

    /// <summary>The record or alert name.</summary>
    public string Name => Record ?? Alert!;
}

/// <summary>
/// A rule file that Prometheus would not load. <see cref="Message"/> names the line, the group and the rule where they are
/// known: <c>line 7: group "api", rule 2 (alert "HighLatency"): expr: 1:5: parse error: ...</c>.
/// </summary>
public sealed class RuleFileException(int line, string? group, int? rule, string? ruleName, string detail)
    : Exception(Format(line, group, rule, ruleName, detail))
{
    /// <summary>1-based line of the problem; 0 when unknown.</summary>
    public int Line { get; } = line;
    public string? Group { get; } = group;
    /// <summary>1-based index of the rule within its group, when the problem is in a rule.</summary>
    public int? Rule { get; } = rule;
    /// <summary>The rule's <c>record "name"</c> or <c>alert "name"</c>, when known.</summary>
    public string? RuleName { get; } = ruleName;
    public string Detail { get; } = detail;

    /// <summary>The message without its line: <c>group "api", rule 2 (alert "HighLatency"): ...</c>, for callers that show
    /// <see cref="Line"/> themselves.</summary>
    public string Place => Format(0, Group, Rule, RuleName, Detail);

    private static string Format(int line, string? group, int? rule, string? ruleName, string detail)
    {
        var parts = new List<string>(3);
        if (line > 0) parts.Add($"line {line}");
        if (group is not null)
            parts.Add($"group \"{group}\"" + (rule is { } r ? $", rule {r}" : "") + (ruleName is null ? "" : $" ({ruleName})"));
        parts.Add(detail);
        return string.Join(": ", parts);
    }
}
