using Amphora.PromQL.Parser;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Amphora.Operator.Validation;

/// <summary>A problem in a user's file: the 1-based line (0 when unknown) and what is wrong there.</summary>
public sealed record FileProblem(int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"line {Line}: {Message}" : Message;
}

/// <summary>
/// Checks a Prometheus rule file the way Prometheus loads one (rulefmt): YAML structure, known fields only, unique group
/// names, durations, exactly one of record/alert per rule, valid metric and label names, and every expression parsed by
/// Amphora's PromQL parser. Returns the first problem with its line, or null.
/// </summary>
public static class RuleFileValidator
{
    private static readonly HashSet<string> GroupFields = ["name", "interval", "limit", "rules", "query_offset"];
    private static readonly HashSet<string> RuleFields = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"];

    public static FileProblem? Validate(string text)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
                return new FileProblem(1, "a rule file must be a mapping with a groups list");
            root = m;
        }
        catch (YamlException e)
        {
            return new FileProblem((int)e.Start.Line, "invalid YAML: " + (e.InnerException?.Message ?? e.Message));
        }
        foreach (var (k, _) in root.Children)
            if (Scalar(k) != "groups") return At(k, $"field {Scalar(k)} is not allowed at the top level (only groups)");
        if (!root.Children.TryGetValue(new YamlScalarNode("groups"), out var groupsNode) || groupsNode is not YamlSequenceNode groups)
            return new FileProblem(Line(root), "groups: a list of rule groups is required");
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var g in groups)
        {
            if (g is not YamlMappingNode group) return At(g, "a rule group must be a mapping");
            foreach (var (k, _) in group.Children)
                if (!GroupFields.Contains(Scalar(k))) return At(k, $"field {Scalar(k)} is not allowed in a rule group");
            var nameNode = Get(group, "name");
            string name = nameNode is null ? "" : Scalar(nameNode);
            if (name.Length == 0) return At(nameNode ?? group, "a rule group needs a name");
            if (!names.Add(name)) return At(nameNode!, $"group \"{name}\": the name is used by another group");
            if (Get(group, "interval") is { } interval && !IsDuration(Scalar(interval)))
                return At(interval, $"group \"{name}\": interval \"{Scalar(interval)}\" is not a duration (like 30s, 1m)");
            if (Get(group, "rules") is not YamlSequenceNode rules) return At(nameNode!, $"group \"{name}\": rules must be a list");
            int index = 0;
            foreach (var r in rules)
            {
                index++;
                var problem = ValidateRule(r, name, index);
                if (problem is not null) return problem;
            }
        }
        return null;
    }

    private static FileProblem? ValidateRule(YamlNode node, string group, int index)
    {
        string where = $"group \"{group}\", rule {index}";
        if (node is not YamlMappingNode rule) return At(node, $"{where}: a rule must be a mapping");
        foreach (var (k, _) in rule.Children)
            if (!RuleFields.Contains(Scalar(k))) return At(k, $"{where}: field {Scalar(k)} is not allowed in a rule");
        var record = Get(rule, "record");
        var alert = Get(rule, "alert");
        if ((record is null) == (alert is null)) return At(rule, $"{where}: exactly one of record and alert is required");
        if (record is not null)
        {
            string r = Scalar(record);
            if (!IsMetricName(r)) return At(record, $"{where}: record \"{r}\" is not a valid metric name");
            if (Get(rule, "for") is { } f) return At(f, $"{where}: for is only allowed in alerting rules");
            if (Get(rule, "annotations") is { } a) return At(a, $"{where}: annotations are only allowed in alerting rules");
        }
        else if (Scalar(alert!).Length == 0) return At(alert!, $"{where}: alert needs a name");
        var expr = Get(rule, "expr");
        if (expr is null || Scalar(expr).Length == 0) return At(rule, $"{where}: expr is required");
        try
        {
            PromQLParser.ParseExpr(Scalar(expr));
        }
        catch (ParseException e)
        {
            return At(expr, $"{where}: expr: {e.Message}");
        }
        foreach (var d in new[] { "for", "keep_firing_for" })
            if (Get(rule, d) is { } dur && !IsDuration(Scalar(dur)))
                return At(dur, $"{where}: {d} \"{Scalar(dur)}\" is not a duration (like 5m)");
        foreach (var m in new[] { "labels", "annotations" })
        {
            if (Get(rule, m) is not { } map) continue;
            if (map is not YamlMappingNode pairs) return At(map, $"{where}: {m} must be a mapping of names to strings");
            foreach (var (k, v) in pairs.Children)
            {
                if (!IsLabelName(Scalar(k))) return At(k, $"{where}: {m}: \"{Scalar(k)}\" is not a valid label name");
                if (v is not YamlScalarNode) return At(v, $"{where}: {m}: the value of {Scalar(k)} must be a string");
            }
        }
        return null;
    }

    private static YamlNode? Get(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;
    private static string Scalar(YamlNode n) => n is YamlScalarNode s ? s.Value ?? "" : "";
    private static int Line(YamlNode n) => (int)n.Start.Line;
    private static FileProblem At(YamlNode n, string message) => new(Line(n), message);

    private static bool IsDuration(string s) => s.Length > 0 && Durations.TryParse(s, out _);

    private static bool IsMetricName(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] is '_' or ':') && s.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or ':');

    private static bool IsLabelName(string s) =>
        s.Length > 0 && (char.IsAsciiLetter(s[0]) || s[0] == '_') && s.All(c => char.IsAsciiLetterOrDigit(c) || c == '_');
}
