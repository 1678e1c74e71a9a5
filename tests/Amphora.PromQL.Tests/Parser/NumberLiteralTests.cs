using Amphora.PromQL.Parser;
using Xunit;

namespace Amphora.PromQL.Tests.Parser;

/// <summary>
/// Issue 13, finding 10: number, duration and escape literals that overflowed .NET's parsers were 500s with an empty body.
/// They are parse errors (400 bad_data) with Prometheus 2.42's texts and positions (taken from its promtool), and the literals it accepts
/// have its values (a leading 0 is octal, as Go's ParseInt with base 0).
/// </summary>
public sealed class NumberLiteralTests
{
    [Theory]
    [InlineData("0xffffffffffffffffffff", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffffffff\": invalid syntax")]
    [InlineData("0xffffffffffffffff", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffff\": invalid syntax")]
    [InlineData("0x", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x\": invalid syntax")]
    [InlineData("0x1.8", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"0x1.8\": invalid syntax")]
    [InlineData("1e", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e\": invalid syntax")]
    [InlineData("1e999", "1:1: parse error: error parsing number: strconv.ParseFloat: parsing \"1e999\": value out of range")]
    [InlineData("1 + 0xffffffffffffffffffff", "1:5: parse error: error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffffffff\": invalid syntax")]
    [InlineData("rate(x[99999999999999y])", "1:8: parse error: duration out of range")]
    [InlineData("rate(x[293y])", "1:8: parse error: duration out of range")]
    [InlineData("x offset 99999999999999y", "1:10: parse error: duration out of range")]
    [InlineData("x[5m:99999999999999y]", "1:6: parse error: duration out of range")]
    [InlineData("x[99999999999999999999999999s]", "1:3: parse error: duration out of range")]
    [InlineData("x[1e300]", "1:3: parse error: duration out of range")]
    [InlineData("x @ 0xffffffffffffffffff", "1:5: parse error: error parsing number: strconv.ParseFloat: parsing \"0xffffffffffffffffff\": invalid syntax")]
    [InlineData("x @ Inf", "1:1: parse error: timestamp out of bounds for @ modifier: +Inf")]
    [InlineData("x @ -Inf", "1:1: parse error: timestamp out of bounds for @ modifier: -Inf")]
    [InlineData("x @ 1e300", "1:1: parse error: timestamp out of bounds for @ modifier: 1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.000000")]
    [InlineData("\"\\U00110000\"", "1:1: parse error: escape sequence is an invalid Unicode code point")]
    [InlineData("\"\\ud800\"", "1:1: parse error: escape sequence is an invalid Unicode code point")]
    [InlineData("\"\\UFFFFFFFF\"", "1:1: parse error: escape sequence is an invalid Unicode code point")]
    [InlineData("\"\\400\"", "1:1: parse error: escape sequence is an invalid Unicode code point")]
    [InlineData("\"\\19a\"", "1:1: parse error: invalid syntax in string \"\\19a\"")] // Prometheus: illegal character U+0039 '9' in escape sequence
    public void An_unrepresentable_literal_is_a_parse_error(string query, string message)
    {
        var e = Assert.Throws<ParseException>(() => PromQLParser.ParseExpr(query));
        Assert.Equal(message, e.Message);
    }

    [Theory]
    [InlineData("0x7fffffffffffffff", 9.223372036854775807e18)]
    [InlineData("0x1e5", 485)]
    [InlineData("010", 8)]
    [InlineData("0755", 493)]
    [InlineData("08", 8)]
    [InlineData("0755.5", 755.5)]
    [InlineData("99999999999999999999", 1e20)]
    [InlineData("1e-999", 0)]
    [InlineData(".5", 0.5)]
    [InlineData("5.", 5)]
    [InlineData("1E3", 1000)]
    public void A_number_has_prometheus_value(string query, double value)
    {
        var expr = Assert.IsType<NumberLiteral>(PromQLParser.ParseExpr(query));
        Assert.Equal(value, expr.Value);
    }

    [Theory]
    [InlineData("Inf", double.PositiveInfinity)]
    [InlineData("-inf", double.NegativeInfinity)]
    [InlineData("nAn", double.NaN)]
    public void Inf_and_NaN_are_numbers_in_any_case(string query, double value)
    {
        var expr = Assert.IsType<NumberLiteral>(PromQLParser.ParseExpr(query));
        Assert.Equal(value, expr.Value);
    }

    [Fact]
    public void The_longest_duration_is_what_Go_time_Duration_holds()
    {
        var ok = Assert.IsType<MatrixSelector>(PromQLParser.ParseExpr("x[292y]"));
        Assert.Equal(292L * 365 * 86_400_000, ok.RangeMs);
        Assert.Equal(DurationSyntax.OutOfRange, Durations.Parse("106751d23h47m16s855ms", out _));
        Assert.Equal(DurationSyntax.Valid, Durations.Parse("106751d23h47m16s854ms", out long max));
        Assert.Equal(Durations.MaxMs, max);
        Assert.Equal(DurationSyntax.Invalid, Durations.Parse("5m1h", out _));
    }
}
