using Amphora.PromQL.Parser;
using Xunit;

namespace Amphora.PromQL.Tests.Parser;

/// <summary>Parse errors read exactly as Prometheus's (texts and positions taken from Prometheus 2.42's HTTP API).</summary>
public sealed class ParserErrorTests
{
    [Theory]
    [InlineData("", "1:1: parse error: no expression found in input")]
    [InlineData("(1", "1:3: parse error: unclosed left parenthesis")]
    [InlineData("sum(", "1:5: parse error: unclosed left parenthesis")]
    [InlineData("rate(x", "1:7: parse error: unclosed left parenthesis")]
    [InlineData("foo{", "1:5: parse error: unexpected end of input inside braces")]
    [InlineData("foo{a", "1:6: parse error: unexpected end of input inside braces")]
    [InlineData("foo{a=", "1:7: parse error: unexpected end of input inside braces")]
    [InlineData("foo{a=\"b\"", "1:10: parse error: unexpected end of input inside braces")]
    [InlineData("foo bar", "1:5: parse error: unexpected identifier \"bar\"")]
    [InlineData("1 +", "1:4: parse error: unexpected end of input")]
    [InlineData("rate(x)", "1:6: parse error: expected type range vector in call to function \"rate\", got instant vector")]
    [InlineData("foo[5m", "1:7: parse error: unclosed left bracket")]
    [InlineData("{}", "1:1: parse error: vector selector must contain at least one non-empty matcher")]
    [InlineData("{a=\"\"}", "1:1: parse error: vector selector must contain at least one non-empty matcher")]
    // Only info()'s second argument, a bare label selector, may match the empty string alone.
    [InlineData("info({a=~\".*\"}, {b=~\".*\"})", "1:6: parse error: vector selector must contain at least one non-empty matcher")]
    [InlineData("info(x, {b=~\".*\"} + 1)", "1:9: parse error: expected label selectors as the second argument to \"info\" function, got {b=~\".*\"} + 1")]
    [InlineData("info(x, rate({b=~\".*\"}[1m]))", "1:14: parse error: vector selector must contain at least one non-empty matcher")]
    [InlineData("foo offset", "1:11: parse error: unexpected end of input in offset, expected duration")]
    [InlineData("foo @", "1:6: parse error: unexpected end of input in @, expected timestamp")]
    [InlineData("1 == 1", "1:3: parse error: comparisons between scalars must use BOOL modifier")]
    [InlineData("1 and 1", "1:1: parse error: set operator \"and\" not allowed in binary scalar expression")]
    [InlineData("foo[5m] + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types")]
    [InlineData("sum(foo[5m])", "1:5: parse error: expected type instant vector in aggregation expression, got range vector")]
    [InlineData("abs(1,2)", "1:1: parse error: expected 1 argument(s) in call to \"abs\", got 2")]
    [InlineData("round()", "1:1: parse error: expected at least 1 argument(s) in call to \"round\", got 0")]
    [InlineData("nosuch(x)", "1:1: parse error: unknown function with name \"nosuch\"")]
    [InlineData("\"a\" + 1", "1:1: parse error: binary expression must contain only scalar and instant vector types")]
    [InlineData("foo{__name__=\"a\"}", "1:1: parse error: metric name must not be set twice: \"foo\" or \"a\"")]
    [InlineData("label_join(x)", "1:1: parse error: expected at least 3 argument(s) in call to \"label_join\", got 1")]
    [InlineData("topk(x)", "1:1: parse error: wrong number of arguments for aggregate expression provided, expected 2, got 1")]
    [InlineData("count_values(1, x)", "1:14: parse error: expected type string in aggregation parameter, got scalar")]
    [InlineData("1 + on(a) x", "1:1: parse error: vector matching only allowed between instant vectors")]
    [InlineData("x and on(a) group_left y", "1:1: parse error: no grouping allowed for \"and\" operation")]
    [InlineData("foo[0s]", "1:5: parse error: duration must be greater than 0")]
    [InlineData("foo[5m:0s]", "1:8: parse error: duration must be greater than 0")]
    [InlineData("-", "1:2: parse error: unexpected end of input")]
    public void A_bad_query_fails_with_prometheus_message(string query, string message)
    {
        var e = Assert.Throws<ParseException>(() => PromQLParser.ParseExpr(query));
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("x{a=~\"a(?=b)\"}")]
    [InlineData("x{a=~\"(a)\\\\1\"}")]
    public void Regular_expressions_that_re2_rejects_are_parse_errors(string query)
    {
        var e = Assert.Throws<ParseException>(() => PromQLParser.ParseExpr(query));
        Assert.Contains("parse error", e.Message);
    }

    [Theory]
    [InlineData("-2 ^ 2", "-4")]
    [InlineData("2 ^ 3 ^ 2", "512")]
    [InlineData("1 + 2 * 3", "7")]
    [InlineData("(1 + 2) * 3", "9")]
    [InlineData("0x10 + 1", "17")]
    [InlineData("1h30m", "5400")]
    public async Task Precedence_and_literals_follow_promql(string query, string value)
    {
        var engine = new Amphora.PromQL.Engine.PromQLEngine(new());
        var result = await engine.InstantQuery(new Scripts.ScriptStorage(), query, 0).ExecAsync(CancellationToken.None);
        var scalar = Assert.IsType<Amphora.PromQL.Engine.ScalarValue>(result.Value);
        Assert.Equal(double.Parse(value, System.Globalization.CultureInfo.InvariantCulture), scalar.V);
    }

    [Fact]
    public void Every_aggregation_parses_with_grouping_before_or_after()
    {
        foreach (var op in new[] { "sum", "avg", "min", "max", "count", "stddev", "stdvar", "group" })
        {
            Assert.IsType<AggregateExpr>(PromQLParser.ParseExpr($"{op} by (a) (x)"));
            Assert.IsType<AggregateExpr>(PromQLParser.ParseExpr($"{op}(x) without (a)"));
        }
        foreach (var op in new[] { "topk", "bottomk", "quantile", "limitk", "limit_ratio" })
            Assert.IsType<AggregateExpr>(PromQLParser.ParseExpr($"{op} by (a) (1, x)"));
        Assert.IsType<AggregateExpr>(PromQLParser.ParseExpr("count_values without (a) (\"v\", x)"));
    }
}
