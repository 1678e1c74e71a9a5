using Amphora.PromQL.Parser;
using Xunit;

namespace Amphora.PromQL.Tests.Parser;

/// <summary>String literals unquote as Go's do: \x and octal escapes are bytes, read together as UTF-8.</summary>
public sealed class StringLiteralTests
{
    private static string Parse(string literal) => ((StringLiteral)PromQLParser.ParseExpr(literal, 100)).Value;

    [Fact]
    public void Byte_escapes_that_form_utf8_read_as_that_character() =>
        Assert.Equal("å", Parse("\"\\xc3\\xa5\""));

    [Fact]
    public void Octal_and_hex_byte_escapes_combine() =>
        Assert.Equal("aåb", Parse("\"a\\303\\xa5b\""));

    [Fact]
    public void An_invalid_utf8_byte_is_kept_and_quoted_back_as_go_does() =>
        Assert.Equal("\"a\\xc5z\"", Lexer.GoQuote(Parse("\"a\\xc5z\"")));
}
