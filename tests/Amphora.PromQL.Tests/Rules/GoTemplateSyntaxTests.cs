using Amphora.PromQL.Rules;
using Xunit;

namespace Amphora.PromQL.Tests.Rules;

/// <summary>Alert templates are checked for the structure Go's text/template parser requires.</summary>
public sealed class GoTemplateSyntaxTests
{
    [Theory]
    [InlineData("no actions at all")]
    [InlineData("{{ $labels.instance }} is down")]
    [InlineData("{{- $value | humanize -}} req/s")]
    [InlineData("{{ if gt $value 1.0 }}high{{ else if gt $value 0.5 }}medium{{ else }}low{{ end }}")]
    [InlineData("{{ range query \"up\" }}{{ .Labels.instance }}{{ break }}{{ end }}")]
    [InlineData("{{ with $labels.job }}{{ . }}{{ end }}")]
    [InlineData("{{ define \"x\" }}a{{ end }}{{ template \"x\" }}")]
    [InlineData("{{ \"}}\" }} and {{ `raw }}` }} and {{ '}' }}")]
    [InlineData("{{/* a comment with }} inside */}}")]
    [InlineData("{{- /* trimmed comment */ -}}")]
    [InlineData("{{ printf \"%.2f\" (index $labels \"ratio\") }}%")]
    [InlineData("{{ $x := 1 }}{{ $x }}")]
    [InlineData("a single { and } are text")]
    [InlineData("{{ humanizeDuration (parseDuration \"1h\") }} {{ stripPort \"a:1\" }} {{ reReplaceAll \"a\" \"b\" $labels.x }}")]
    [InlineData("{{ with query \"up\" }}{{ . | first | value | humanize1024 }}{{ end }} {{ 1e3 }} {{ -1 }} {{ nil }}")]
    public void Well_formed_templates_pass(string template) => Assert.Null(GoTemplateSyntax.Check(template));

    [Theory]
    [InlineData("{{ $labels.job ", "line 1: unclosed action")]
    [InlineData("ok\n{{ $labels.job ", "line 2: unclosed action")]
    [InlineData("{{}}", "missing value for command")]
    [InlineData("{{ end }}", "unexpected {{end}}")]
    [InlineData("{{ else }}", "unexpected {{else}}")]
    [InlineData("{{ if $value }}x", "{{if}} has no {{end}}")]
    [InlineData("{{ range $x }}{{ with $y }}{{ end }}", "{{range}} has no {{end}}")]
    [InlineData("{{ if }}x{{ end }}", "missing value for if")]
    [InlineData("{{ break }}", "{{break}} outside {{range}}")]
    [InlineData("{{ printf \"%s }}", "unterminated quoted string")]
    [InlineData("{{ `raw }}", "unterminated raw quoted string")]
    [InlineData("{{ (len $labels }}", "unclosed left paren")]
    [InlineData("{{ len $labels) }}", "unexpected right paren")]
    [InlineData("{{/* never closed }}", "unclosed comment")]
    [InlineData("{{ nosuch $value }}", "function \"nosuch\" not defined")]
    [InlineData("{{ $value | toDuration }}", "function \"toDuration\" not defined")]
    [InlineData("{{ if (upper $x) }}{{ end }}", "function \"upper\" not defined")]
    public void Malformed_templates_are_refused_with_Go_s_wording(string template, string expected) =>
        Assert.Contains(expected, GoTemplateSyntax.Check(template));
}
