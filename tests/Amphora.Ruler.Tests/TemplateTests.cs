using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Ruler.Templates;

namespace Amphora.Ruler.Tests;

public sealed class TemplateTests
{
    private static Task<string> Render(string text, double value = 1234.5678, string labels = "up{instance=\"host-1.example.com:9100\",job=\"node\"}")
    {
        var expander = new TemplateExpander("__alert_Test", new Uri("http://amphora.example:9009/"), 0,
            (q, ct) => Task.FromResult<QueryValue>(new VectorValue([
                new Sample(Labels.FromStrings("__name__", "m", "b", "2"), 0, 2),
                new Sample(Labels.FromStrings("__name__", "m", "b", "1"), 0, 1)])));
        return expander.ExpandAsync(text, new AlertTemplateData(RulerHarness.ParseSeries(labels), value), default);
    }

    [Theory]
    [InlineData("{{ $labels.instance }} of {{ $labels.job }}", "host-1.example.com:9100 of node")]
    [InlineData("{{ .Labels.job }} {{ .Value }}", "node 1234.5678")]
    [InlineData("{{ $value | humanize }}", "1.235k")]
    [InlineData("{{ humanize 0.00123 }}", "1.23m")]
    [InlineData("{{ humanize1024 1048576.0 }}", "1Mi")]
    [InlineData("{{ humanizeDuration 3661.0 }}", "1h 1m 1s")]
    [InlineData("{{ humanizeDuration 0.25 }}", "250ms")]
    [InlineData("{{ humanizePercentage 0.1234 }}", "12.34%")]
    [InlineData("{{ humanizeTimestamp 1700000000.5 }}", "2023-11-14 22:13:20.5 +0000 UTC")]
    [InlineData("{{ printf \"%.2f\" $value }} {{ printf \"%d items, %s\" 3 \"ok\" }}", "1234.57 3 items, ok")]
    [InlineData("{{ printf \"%5.1f|%-4d|%q\" 3.14159 7 \"a\" }}", "  3.1|7   |\"a\"")]
    [InlineData("{{ if gt $value 1000.0 }}big{{ else if gt $value 10.0 }}mid{{ else }}small{{ end }}", "big")]
    [InlineData("{{ with $labels.job }}job={{ . }}{{ end }}{{ with $labels.nope }}x{{ else }} none{{ end }}", "job=node none")]
    [InlineData("{{ range query \"m\" }}{{ .Labels.b }}={{ .Value }};{{ end }}", "2=2;1=1;")]
    [InlineData("{{ range $i, $s := query \"m\" | sortByLabel \"b\" }}{{ $i }}:{{ label \"b\" $s }} {{ end }}", "0:1 1:2 ")]
    [InlineData("{{ with query \"m\" }}{{ . | first | value }}{{ end }}", "2")]
    [InlineData("{{ toUpper \"abc\" }} {{ toLower \"ABC\" }} {{ title \"hello world-wide\" }}", "ABC abc Hello World-Wide")]
    [InlineData("{{ reReplaceAll \"(.*):.*\" \"$1\" $labels.instance }}", "host-1.example.com")]
    [InlineData("{{ match \"^host\" $labels.instance }} {{ stripPort $labels.instance }} {{ stripDomain $labels.instance }}", "true host-1.example.com host-1:9100")]
    [InlineData("{{ externalURL }} {{ pathPrefix }}|{{ parseDuration \"1m30s\" }}", "http://amphora.example:9009 |90")]
    [InlineData("{{ $x := 1 }}{{ if eq $x 1 }}one{{ end }} {{ len \"héllo\" }} {{ index $labels \"job\" }}", "one 6 node")]
    [InlineData("{{- \"a\" -}}   {{ \"b\" }}", "ab")]
    [InlineData("{{/* a comment */}}x{{ and 1 0 }}{{ or 0 \"y\" }}{{ not false }}", "x0ytrue")]
    [InlineData("{{ define \"t\" }}[{{ . }}]{{ end }}{{ template \"t\" \"in\" }}", "[in]")]
    [InlineData("{{ args 1 \"two\" }} {{ (args 1 \"two\").arg1 }}", "map[arg0:1 arg1:two] two")]
    [InlineData("{{ safeHtml \"<b>\" }} {{ html \"<b>\" }} {{ urlquery \"a b&c\" }}", "<b> &lt;b&gt; a+b%26c")]
    [InlineData("{{ graphLink \"up == 0\" }}", "/graph?g0.expr=up+%3D%3D+0&g0.tab=0")]
    [InlineData("{{ $value }} {{ 1e6 }} {{ 123456789.0 }} {{ 0.00001 }}", "1234.5678 1e+06 1.23456789e+08 1e-05")]
    [InlineData("{{ range $k, $v := $labels }}{{ $k }}={{ $v }},{{ end }}", "__name__=up,instance=host-1.example.com:9100,job=node,")]
    public async Task A_template_renders_as_Prometheus_renders_it(string template, string expected) =>
        Assert.Equal(expected, await Render(template));

    [Fact]
    public async Task A_template_that_fails_gives_Prometheus_error_text()
    {
        // What Prometheus 2.42 put in the annotation for this template (observed with Debian's prometheus).
        Assert.Equal("<error expanding template: error executing template __alert_Test: template: __alert_Test:1:115: executing " +
                     "\"__alert_Test\" at <humanize \"x\">: error calling humanize: strconv.ParseFloat: parsing \"x\": invalid syntax>",
            await Render("{{ humanize \"x\" }}"));
        Assert.Contains("incompatible types for comparison", await Render("{{ if gt $value 10 }}x{{ end }}"));
    }
}
