using Amphora.PromQL.Parser;
using Amphora.PromQL.Rules;
using Xunit;

namespace Amphora.PromQL.Tests.Rules;

/// <summary>A rule file is read as Prometheus loads one; each refusal names the line, the group and the rule.</summary>
public sealed class RuleFileParserTests
{
    internal const string ValidFile = """
        groups:
          - name: api
            interval: 30s
            limit: 10
            rules:
              - record: job:http_requests:rate5m
                expr: sum by (job) (rate(http_requests_total[5m]))
                labels:
                  team: a
              - alert: HighErrorRate
                expr: |
                  sum by (job) (rate(http_errors_total[5m]))
                    / sum by (job) (rate(http_requests_total[5m])) > 0.1
                for: 10m
                keep_firing_for: 5m
                labels:
                  severity: page
                annotations:
                  summary: '{{ $labels.job }} fails {{ $value | humanizePercentage }} of requests'
                  description: '{{ if gt $value 0.5 }}most{{ else }}some{{ end }} requests fail'
          - name: other
            query_offset: 1m
            rules: []
        """;

    [Fact]
    public void A_valid_file_is_read_with_its_groups_rules_durations_and_parsed_expressions()
    {
        var file = RuleFileParser.Parse(ValidFile);
        Assert.Equal(["api", "other"], file.Groups.Select(g => g.Name));
        var api = file.Groups[0];
        Assert.Equal(30_000, api.IntervalMs);
        Assert.Equal(10, api.Limit);
        Assert.Null(api.QueryOffsetMs);
        Assert.Equal(60_000, file.Groups[1].QueryOffsetMs);
        Assert.Equal(2, api.Rules.Count);
        var record = api.Rules[0];
        Assert.Equal("job:http_requests:rate5m", record.Record);
        Assert.False(record.IsAlerting);
        Assert.IsType<AggregateExpr>(record.Parsed);
        Assert.Equal("a", record.Labels["team"]);
        Assert.Equal(6, record.Line);
        var alert = api.Rules[1];
        Assert.Equal("HighErrorRate", alert.Name);
        Assert.Equal(600_000, alert.ForMs);
        Assert.Equal(300_000, alert.KeepFiringForMs);
        Assert.Equal("page", alert.Labels["severity"]);
        Assert.Contains("humanizePercentage", alert.Annotations["summary"]);
    }

    [Theory]
    [InlineData("", 0)]
    [InlineData("groups: []", 0)]
    [InlineData("groups:", 0)]
    public void An_empty_file_or_groups_list_has_no_groups_as_in_Prometheus(string text, int groups) =>
        Assert.Equal(groups, RuleFileParser.Parse(text).Groups.Count);

    [Theory]
    // YAML structure
    [InlineData("groups:\n  - name: a\n    rules: x: y", 3, null, null, "invalid YAML")]
    [InlineData("- a\n- b", 1, null, null, "must be a mapping with a groups list")]
    [InlineData("groups:\n  - name: a\n    rules: []\nextra: 1", 4, null, null, "field extra is not allowed in the top level")]
    [InlineData("groups: {a: 1}", 1, null, null, "groups: must be a list")]
    [InlineData("groups:\n  - rules: []", 2, null, null, "needs a name")]
    [InlineData("groups:\n  - name: a\n    evaluation: 1m\n    rules: []", 3, "a", null, "field evaluation is not allowed in a rule group")]
    [InlineData("groups:\n  - name: a\n    rules: {}", 3, "a", null, "rules: must be a list")]
    // Durations and the limit
    [InlineData("groups:\n  - name: a\n    interval: 5 minutes\n    rules: []", 3, "a", null, "interval: \"5 minutes\" is not a valid duration")]
    [InlineData("groups:\n  - name: a\n    interval: 1m1h\n    rules: []", 3, "a", null, "not a valid duration")]
    [InlineData("groups:\n  - name: a\n    interval: 300y\n    rules: []", 3, "a", null, "duration out of range")]
    [InlineData("groups:\n  - name: a\n    limit: ten\n    rules: []", 3, "a", null, "limit: \"ten\" is not a whole number")]
    [InlineData("groups:\n  - name: a\n    rules: []\n    name: b", 4, null, null, "invalid YAML")]
    // Unique group names
    [InlineData("groups:\n  - name: a\n    rules: []\n  - name: a\n    rules: []", 4, "a", null, "repeated in the same file")]
    // Rules
    [InlineData("groups:\n  - name: a\n    rules:\n      - expr: up", 4, "a", 1, "one of 'record' or 'alert' must be set")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x\n        alert: y\n        expr: up", 4, "a", 1, "only one of 'record' and 'alert'")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: 1bad\n        expr: up", 4, "a", 1, "invalid recording rule name")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        for: 5m", 6, "a", 1, "invalid field 'for' in recording rule")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        annotations: {a: b}", 6, "a", 1, "invalid field 'annotations' in recording rule")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x", 4, "a", 1, "field 'expr' must be set")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        labels: {0a: b}", 6, "a", 1, "labels: invalid label name \"0a\"")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        labels: {a: [1]}", 6, "a", 1, "must be a string, not a list")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        severity: page", 6, "a", 1, "field severity is not allowed in a rule")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        for: soon", 6, "a", 1, "for: \"soon\" is not a valid duration")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        keep_firing_for: 1x", 6, "a", 1, "keep_firing_for")]
    // Expressions
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: sum(rate(y[5m])", 5, "a", 1, "could not parse expression: 1:")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: rate(y)", 5, "a", 1, "could not parse expression")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - record: ok\n        expr: up\n      - record: x\n        expr: nosuchfn(y)", 7, "a", 2, "could not parse expression")]
    // Templates of alerting rules
    [InlineData("groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        annotations:\n          s: '{{ $labels.job '", 7, "a", 1, "annotations: s: invalid template: line 1: unclosed action")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        annotations:\n          s: '{{ if $value }}x'", 7, "a", 1, "has no {{end}}")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        labels:\n          s: 'x{{ end }}'", 7, "a", 1, "labels: s: invalid template: line 1: unexpected {{end}}")]
    [InlineData("groups:\n  - name: a\n    rules:\n      - alert: x\n        expr: up\n        annotations:\n          s: '{{ $value | nosuch }}'", 7, "a", 1, "annotations: s: invalid template: line 1: function \"nosuch\" not defined")]
    public void An_invalid_file_is_refused_naming_line_group_and_rule(string text, int line, string? group, int? rule, string detail)
    {
        var e = Assert.Throws<RuleFileException>(() => RuleFileParser.Parse(text));
        Assert.Contains(detail, e.Message);
        Assert.Equal(line, e.Line);
        Assert.Equal(group, e.Group);
        Assert.Equal(rule, e.Rule);
        Assert.StartsWith($"line {line}: ", e.Message);
        if (group is not null) Assert.Contains($"group \"{group}\"", e.Message);
    }

    [Fact]
    public void The_message_names_the_rule_by_its_record_or_alert_name()
    {
        var e = Assert.Throws<RuleFileException>(() => RuleFileParser.Parse("groups:\n  - name: api\n    rules:\n      - alert: Down\n        expr: up ==\n"));
        Assert.StartsWith("line 5: group \"api\", rule 1 (alert \"Down\"): could not parse expression: 1:", e.Message);
    }

    [Fact]
    public void An_error_inside_a_multi_line_expression_names_the_line_of_the_file_it_is_on()
    {
        const string text = "groups:\n  - name: g\n    rules:\n      - record: r\n        expr: |\n          sum by (job) (\n            rate(x[5m]) +\n          )\n";
        var e = Assert.Throws<RuleFileException>(() => RuleFileParser.Parse(text));
        Assert.Equal(8, e.Line);
        // promtool 2.42 names the expr key's line (5) and the position inside the expression (3:1); the ')' is on line 8.
        Assert.StartsWith("line 8: group \"g\", rule 1 (record \"r\"): could not parse expression: 3:", e.Message);
    }

    [Fact]
    public void Recording_rule_labels_are_not_templates_and_are_kept_as_written()
    {
        var file = RuleFileParser.Parse("groups:\n  - name: a\n    rules:\n      - record: x\n        expr: up\n        labels: {t: '{{'}");
        Assert.Equal("{{", file.Groups[0].Rules[0].Labels["t"]);
    }
}
