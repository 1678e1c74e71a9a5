using Amphora.PromQL.Parser;
using Xunit;

namespace Amphora.PromQL.Tests.Parser;

/// <summary>
/// A parsed expression prints to a query that parses back to the same expression. Cases found by the PromQL fuzz test
/// (issue 13): a metric named like a keyword after an empty ignoring() printed as the keyword; a quoted label name that
/// is not a legacy name printed unquoted.
/// </summary>
public sealed class PrinterTests
{
    [Theory]
    [InlineData("x and ignoring() bool", "x and {__name__=\"bool\"}")]
    [InlineData("x >= ignoring() on", "x >= {__name__=\"on\"}")]
    [InlineData("x != ignoring() on{a=\"b\"}", "x != {__name__=\"on\", a=\"b\"}")]
    [InlineData("sum{job=\"a\"}", "{__name__=\"sum\", job=\"a\"}")]
    [InlineData("{\"a b\"=\"x\", c=\"d\"}", "{\"a b\"=\"x\", c=\"d\"}")]
    [InlineData("up{job=\"api\"} offset 5m", "up{job=\"api\"} offset 5m")]
    public void An_expression_prints_to_a_query_that_reads_back_the_same(string query, string printed)
    {
        string first = PromQLParser.ParseExpr(query).ToString();
        Assert.Equal(printed, first);
        Assert.Equal(first, PromQLParser.ParseExpr(first).ToString());
    }
}
