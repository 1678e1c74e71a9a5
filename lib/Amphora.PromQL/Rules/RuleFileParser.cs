using System.Globalization;
using Amphora.Model;
using Amphora.PromQL.Parser;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Amphora.PromQL.Rules;

/// <summary>
/// Reads a Prometheus rule file the way Prometheus loads one (its rulefmt): one YAML document <c>groups: [...]</c>, known
/// fields only, unique group names, Prometheus durations, exactly one of <c>record</c> and <c>alert</c> per rule, valid
/// metric and label names, every <c>expr</c> parsed and type-checked by Amphora's PromQL parser, and an alerting rule's
/// label and annotation templates checked as Go templates (<see cref="GoTemplateSyntax"/>). The first problem is a
/// <see cref="RuleFileException"/> naming its line, group and rule.
/// </summary>
public static class RuleFileParser
{
    private static readonly string[] GroupFields = ["name", "interval", "query_offset", "limit", "rules"];
    private static readonly string[] RuleFields = ["record", "alert", "expr", "for", "keep_firing_for", "labels", "annotations"];

    public static RuleFile Parse(string text)
    {
        var root = Load(text);
        if (root is null) return new RuleFile([]); // an empty file, as Prometheus: no groups
        if (root is not YamlMappingNode top) throw new RuleFileException(Line(root), null, null, null, "a rule file must be a mapping with a groups list");
        RejectUnknown(top, ["groups"], "the top level", null, null, null);
        var groupsNode = Get(top, "groups");
        if (groupsNode is null || IsNull(groupsNode)) return new RuleFile([]);
        if (groupsNode is not YamlSequenceNode seq) throw new RuleFileException(Line(groupsNode), null, null, null, "groups: must be a list of rule groups");
        var groups = new List<RuleGroup>(seq.Children.Count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var node in seq)
        {
            var group = ParseGroup(node);
            if (!names.Add(group.Name))
                throw new RuleFileException(group.Line, group.Name, null, null, "the group name is repeated in the same file");
            groups.Add(group);
        }
        return new RuleFile(groups);
    }

    private static YamlNode? Load(string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlException e)
        {
            throw new RuleFileException((int)e.Start.Line, null, null, null, "invalid YAML: " + Innermost(e).Message);
        }
        if (stream.Documents.Count > 1)
            throw new RuleFileException(Line(stream.Documents[1].RootNode), null, null, null, "a rule file must be one YAML document");
        return stream.Documents.Count == 0 || IsNull(stream.Documents[0].RootNode) ? null : stream.Documents[0].RootNode;
    }

    private static RuleGroup ParseGroup(YamlNode node)
    {
        if (node is not YamlMappingNode g) throw new RuleFileException(Line(node), null, null, null, "a rule group must be a mapping");
        var nameNode = Get(g, "name");
        string name = nameNode is YamlScalarNode s ? s.Value ?? "" : "";
        if (name.Length == 0) throw new RuleFileException(Line(nameNode ?? g), null, null, null, "a rule group needs a name (groupname must not be empty)");
        RejectUnknown(g, GroupFields, "a rule group", name, null, null);
        long? interval = OptionalDuration(g, "interval", name, null, null);
        long? offset = OptionalDuration(g, "query_offset", name, null, null);
        int limit = 0;
        if (Get(g, "limit") is { } limitNode && !IsNull(limitNode))
        {
            if (!int.TryParse(Scalar(limitNode, "limit", name, null, null), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out limit))
                throw new RuleFileException(Line(limitNode), name, null, null, $"limit: \"{Text(limitNode)}\" is not a whole number");
            limit = Math.Max(0, limit); // as in Prometheus, 0 or less is no limit
        }
        var rulesNode = Get(g, "rules");
        var rules = new List<Rule>();
        if (rulesNode is not null && !IsNull(rulesNode))
        {
            if (rulesNode is not YamlSequenceNode list) throw new RuleFileException(Line(rulesNode), name, null, null, "rules: must be a list of rules");
            int index = 0;
            foreach (var r in list) rules.Add(ParseRule(r, name, ++index));
        }
        return new RuleGroup(name, interval, offset, limit, rules, Line(g));
    }

    private static Rule ParseRule(YamlNode node, string group, int index)
    {
        if (node is not YamlMappingNode r) throw new RuleFileException(Line(node), group, index, null, "a rule must be a mapping");
        var recordNode = Get(r, "record");
        var alertNode = Get(r, "alert");
        string? record = recordNode is null ? null : Scalar(recordNode, "record", group, index, null);
        string? alert = alertNode is null ? null : Scalar(alertNode, "alert", group, index, null);
        string? who = record is not null ? $"record \"{record}\"" : alert is not null ? $"alert \"{alert}\"" : null;
        RejectUnknown(r, RuleFields, "a rule", group, index, who);
        if (record is null && alert is null) throw new RuleFileException(Line(r), group, index, null, "one of 'record' or 'alert' must be set");
        if (record is not null && alert is not null)
            throw new RuleFileException(Line(r), group, index, who, "only one of 'record' and 'alert' must be set");
        if (record is not null)
        {
            if (!LabelNames.IsValidMetricName(record))
                throw new RuleFileException(Line(recordNode!), group, index, who, $"invalid recording rule name: \"{record}\" is not a valid metric name");
            foreach (string field in (string[])["for", "keep_firing_for", "annotations"])
                if (Get(r, field) is { } f) throw new RuleFileException(Line(f), group, index, who, $"invalid field '{field}' in recording rule");
        }
        else if (alert!.Length == 0) throw new RuleFileException(Line(alertNode!), group, index, null, "the alert name must not be empty");

        var exprNode = Get(r, "expr");
        string expr = exprNode is null ? "" : Scalar(exprNode, "expr", group, index, who);
        if (expr.Trim().Length == 0) throw new RuleFileException(Line(exprNode ?? r), group, index, who, "field 'expr' must be set in rule");
        Expr parsed;
        try
        {
            parsed = PromQLParser.ParseExpr(expr);
        }
        catch (ParseException e)
        {
            throw new RuleFileException(ExprLine(exprNode!, expr, e.Start), group, index, who, "could not parse expression: " + e.Message);
        }
        long forMs = OptionalDuration(r, "for", group, index, who) ?? 0;
        long keepFiringMs = OptionalDuration(r, "keep_firing_for", group, index, who) ?? 0;
        var labels = StringMap(r, "labels", group, index, who, templates: alert is not null);
        var annotations = StringMap(r, "annotations", group, index, who, templates: true);
        return new Rule(record, alert, expr, parsed, forMs, keepFiringMs, labels, annotations, Line(r));
    }

    /// <summary>A mapping of label names to strings; with <paramref name="templates"/>, each value must parse as a Go template.</summary>
    private static Dictionary<string, string> StringMap(YamlMappingNode r, string field, string group, int index, string? who, bool templates)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        var node = Get(r, field);
        if (node is null || IsNull(node)) return result;
        if (node is not YamlMappingNode map) throw new RuleFileException(Line(node), group, index, who, $"{field}: must be a mapping of names to strings");
        foreach (var (k, v) in map.Children)
        {
            string name = Scalar(k, field, group, index, who);
            if (!LabelNames.IsValid(name) || name == LabelNames.MetricName)
                throw new RuleFileException(Line(k), group, index, who, $"{field}: invalid label name \"{name}\"");
            string value = IsNull(v) ? "" : Scalar(v, $"{field}: the value of {name}", group, index, who);
            if (templates && GoTemplateSyntax.Check(value) is { } problem)
                throw new RuleFileException(Line(v), group, index, who, $"{field}: {name}: invalid template: {problem}");
            result[name] = value;
        }
        return result;
    }

    /// <summary>The file line of offset <paramref name="offset"/> of an expression: in a literal block (<c>expr: |</c>) the
    /// text starts on the next line and keeps its line breaks; otherwise the expression's own line.</summary>
    private static int ExprLine(YamlNode node, string expr, int offset)
    {
        if (node is not YamlScalarNode { Style: ScalarStyle.Literal }) return Line(node);
        int line = Line(node) + 1;
        for (int i = 0; i < offset && i < expr.Length; i++)
            if (expr[i] == '\n') line++;
        return line;
    }

    private static long? OptionalDuration(YamlMappingNode m, string field, string group, int? index, string? who)
    {
        if (Get(m, field) is not { } node || IsNull(node)) return null;
        string text = Scalar(node, field, group, index, who);
        if (text == "0") return 0; // Prometheus's model.Duration allows a bare zero
        return Durations.Parse(text, out long ms) switch
        {
            DurationSyntax.Valid => ms,
            DurationSyntax.OutOfRange => throw new RuleFileException(Line(node), group, index, who, $"{field}: \"{text}\": {Durations.OutOfRangeMessage}"),
            _ => throw new RuleFileException(Line(node), group, index, who, $"{field}: \"{text}\" is not a valid duration (like 30s, 5m, 1h30m)"),
        };
    }

    private static void RejectUnknown(YamlMappingNode m, string[] known, string where, string? group, int? index, string? who)
    {
        foreach (var (k, _) in m.Children)
        {
            string key = k is YamlScalarNode s ? s.Value ?? "" : "";
            if (Array.IndexOf(known, key) < 0)
                throw new RuleFileException(Line(k), group, index, who, $"field {key} is not allowed in {where} (allowed: {string.Join(", ", known)})");
        }
    }

    private static string Scalar(YamlNode node, string field, string? group, int? index, string? who) =>
        node is YamlScalarNode s ? s.Value ?? "" : throw new RuleFileException(Line(node), group, index, who, $"{field}: must be a string, not a {Kind(node)}");

    private static string Text(YamlNode node) => node is YamlScalarNode s ? s.Value ?? "" : Kind(node);

    private static string Kind(YamlNode node) => node switch
    {
        YamlMappingNode => "mapping",
        YamlSequenceNode => "list",
        _ => "value",
    };

    private static bool IsNull(YamlNode node) =>
        node is YamlScalarNode { Style: ScalarStyle.Plain, Value: "" or "~" or "null" or "Null" or "NULL" };

    private static YamlNode? Get(YamlMappingNode m, string key) => m.Children.TryGetValue(new YamlScalarNode(key), out var v) ? v : null;

    private static int Line(YamlNode node) => (int)node.Start.Line;

    private static Exception Innermost(Exception e)
    {
        while (e.InnerException is not null) e = e.InnerException;
        return e;
    }
}
