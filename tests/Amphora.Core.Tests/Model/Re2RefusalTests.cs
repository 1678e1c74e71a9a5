using Amphora.Model;
using Xunit;
using MatchType = Amphora.Model.MatchType;

namespace Amphora.Core.Tests.Model;

/// <summary>What RE2 refuses is refused with Go's message (texts from Go 1.19's regexp), and what passes a bound of
/// <see cref="Re2Limits"/> is refused naming the bound; nothing a pattern holds can crash the process.</summary>
public sealed class Re2RefusalTests
{
    [Theory]
    [InlineData("a\\E", "error parsing regexp: invalid escape sequence: `\\E`")]
    [InlineData("\\8", "error parsing regexp: invalid escape sequence: `\\8`")]
    [InlineData("\\1", "error parsing regexp: invalid escape sequence: `\\1`")]
    [InlineData("\\k<x>", "error parsing regexp: invalid escape sequence: `\\k`")]
    [InlineData("\\e", "error parsing regexp: invalid escape sequence: `\\e`")]
    [InlineData("\\Z", "error parsing regexp: invalid escape sequence: `\\Z`")]
    [InlineData("\\C", "error parsing regexp: invalid escape sequence: `\\C`")]
    [InlineData("a{1001}", "error parsing regexp: invalid repeat count: `{1001}`")]
    [InlineData("(a{100}){20}", "error parsing regexp: invalid repeat count: `{20}`")]
    [InlineData("a{2}{3}", "error parsing regexp: invalid nested repetition operator: `{2}{3}`")]
    [InlineData("a**", "error parsing regexp: invalid nested repetition operator: `**`")]
    [InlineData("a++", "error parsing regexp: invalid nested repetition operator: `++`")]
    [InlineData("a|*", "error parsing regexp: missing argument to repetition operator: `*`")]
    [InlineData("*", "error parsing regexp: missing argument to repetition operator: `*`")]
    [InlineData("(?=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?=`")]
    [InlineData("(?!a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?!`")]
    [InlineData("(?<=a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`")]
    [InlineData("(?<!a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?<`")]
    [InlineData("(?>a)", "error parsing regexp: invalid or unsupported Perl syntax: `(?>`")]
    [InlineData("(?#c)", "error parsing regexp: invalid or unsupported Perl syntax: `(?#`")]
    [InlineData("(?P=x)", "error parsing regexp: invalid or unsupported Perl syntax: `(?P`")]
    [InlineData("(?P<>a)", "error parsing regexp: invalid named capture: `(?P<>`")]
    [InlineData("(?P<a-b>a)", "error parsing regexp: invalid named capture: `(?P<a-b>`")]
    [InlineData("(?x)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?x`")]
    [InlineData("(?-)a", "error parsing regexp: invalid or unsupported Perl syntax: `(?-)`")]
    [InlineData("\\p{Zzzz}", "error parsing regexp: invalid character class range: `\\p{Zzzz}`")]
    [InlineData("\\p{Cn}", "error parsing regexp: invalid character class range: `\\p{Cn}`")]
    [InlineData("[[:foo:]]", "error parsing regexp: invalid character class range: `[:foo:]`")]
    [InlineData("[a-\\d]", "error parsing regexp: invalid escape sequence: `\\d`")]
    [InlineData("[z-a]", "error parsing regexp: invalid character class range: `z-a`")]
    [InlineData("\\x{110000}", "error parsing regexp: invalid escape sequence: `\\x{110000`")]
    [InlineData("\\xZ1", "error parsing regexp: invalid escape sequence: `\\xZ1`")]
    [InlineData("\\x{}", "error parsing regexp: invalid escape sequence: `\\x{}`")]
    [InlineData("x{1001,}", "error parsing regexp: invalid repeat count: `{1001,}`")]
    [InlineData("x{2,1}", "error parsing regexp: invalid repeat count: `{2,1}`")]
    public void Refuses_what_go_refuses_with_gos_message(string pattern, string message)
    {
        var e = Assert.Throws<Re2SyntaxException>(() => Re2.CompileUncached(pattern));
        Assert.Equal(message, e.Message);
        Assert.False(e.IsLimit);
    }

    /// <summary>Go reports these inside Prometheus's <c>^(?s:...)$</c> wrapper; the code is the same, the text names the user's pattern.</summary>
    [Theory]
    [InlineData("[a", Re2ErrorCode.MissingBracket)]
    [InlineData("a)", Re2ErrorCode.UnexpectedParen)]
    [InlineData("(a", Re2ErrorCode.MissingParen)]
    [InlineData("(?i)(?P<n>", Re2ErrorCode.MissingParen)]
    [InlineData("\\", Re2ErrorCode.TrailingBackslash)]
    public void Unbalanced_patterns_are_refused(string pattern, Re2ErrorCode code) =>
        Assert.Equal(code, Assert.Throws<Re2SyntaxException>(() => Re2.CompileUncached(pattern)).Code);

    /// <summary>Issue 13 finding 8: .NET's default automaton bound (10,000) refused this as "unsupported Perl syntax".</summary>
    [Fact]
    public void A_200_value_grafana_alternation_compiles_and_matches()
    {
        string pattern = Alternation(200);
        Assert.True(pattern.Length > 5_000);
        var regex = Re2.Compile(pattern);
        Assert.True(regex.IsMatch("host-0001\\.example\\.com:9100".Replace("\\", "")));
        Assert.True(regex.IsMatch("host-0200.example.com:9100"));
        Assert.False(regex.IsMatch("host-0201.example.com:9100"));
        Assert.False(regex.IsMatch("host-0001.example.com:9100\n"));
        Assert.False(regex.IsMatch("host-0001Xexample.com:9100"));
    }

    [Fact]
    public void A_1000_value_alternation_compiles()
    {
        var regex = Re2.CompileUncached(Alternation(1000));
        Assert.True(regex.IsMatch("host-0999.example.com:9100"));
    }

    [Fact]
    public void An_alternation_past_the_automaton_bound_is_refused_naming_the_bound()
    {
        var e = Assert.Throws<Re2SyntaxException>(() => Re2.CompileUncached(Alternation(5000)));
        Assert.True(e.IsLimit);
        Assert.Equal(Re2ErrorCode.Large, e.Code);
        Assert.StartsWith("error parsing regexp: expression too large:", e.Message);
        Assert.Contains(Re2Limits.MaxAutomatonSize.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.DoesNotContain("host-0001", e.Message);
    }

    [Fact]
    public void A_huge_class_repeated_is_refused_by_the_automaton_bound_not_a_crash() =>
        Assert.True(Assert.Throws<Re2SyntaxException>(() => Re2.CompileUncached("\\pL{1000}")).IsLimit);

    [Fact]
    public void Deep_nesting_is_refused_without_recursion()
    {
        var deep = new string('(', 100_000) + new string(')', 100_000);
        var e = Assert.Throws<Re2SyntaxException>(() => Re2.CompileUncached(deep));
        Assert.Equal(Re2ErrorCode.NestingDepth, e.Code);
        Assert.Contains(Re2Limits.MaxNestingDepth.ToString(System.Globalization.CultureInfo.InvariantCulture), e.Message);
        Assert.NotNull(Re2.CompileUncached(new string('(', 500) + "a" + new string(')', 500)));
    }

    [Fact]
    public void A_pattern_past_the_length_bound_is_refused_naming_the_bound()
    {
        var e = Assert.Throws<Re2SyntaxException>(() => Re2.CompileUncached(new string('a', Re2Limits.MaxPatternLength + 1)));
        Assert.True(e.IsLimit);
        Assert.Contains("more than the limit of", e.Message);
    }

    [Theory]
    [InlineData("a{1000}")]
    [InlineData("(a{10}){100}")]
    [InlineData("((a{10}){10}){10}")]
    public void Repeat_counts_up_to_1000_multiplied_are_accepted(string pattern) => Assert.NotNull(Re2.CompileUncached(pattern));

    [Theory]
    [InlineData("a{1000}{1000}", Re2ErrorCode.InvalidRepeatOp)]
    [InlineData("((a{10}){10}){11}", Re2ErrorCode.InvalidRepeatSize)]
    public void Repeat_counts_past_1000_are_refused(string pattern, Re2ErrorCode code) =>
        Assert.Equal(code, Assert.Throws<Re2SyntaxException>(() => Re2.CompileUncached(pattern)).Code);

    [Fact]
    public void Refusals_are_argument_exceptions_so_every_caller_answers_bad_data() =>
        Assert.IsAssignableFrom<ArgumentException>(Assert.Throws<Re2SyntaxException>(() => LabelMatcher.Create(MatchType.Regex, "a", "(?=x)")));

    [Fact]
    public void Label_matchers_are_fully_anchored_and_ascii_classes()
    {
        var m = LabelMatcher.Create(MatchType.Regex, "job", "api|web");
        Assert.True(m.Matches("api"));
        Assert.False(m.Matches("api\n"));
        Assert.False(m.Matches("xapi"));
        var digits = LabelMatcher.Create(MatchType.NotRegex, "code", "\\d+");
        Assert.False(digits.Matches("500"));
        Assert.True(digits.Matches("\u0665\u0660\u0660"));
    }

    internal static string Alternation(int values) =>
        string.Join("|", Enumerable.Range(1, values).Select(i => $"host-{i:D4}\\.example\\.com:9100"));

    [Fact]
    public void A_cancelled_compile_scope_stops_compilations_and_disposing_it_restores_the_outer_one()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        string pattern = "scope-" + Guid.NewGuid().ToString("N");
        using (Re2.CancelCompilationsWith(cancelled.Token))
        {
            Assert.Throws<OperationCanceledException>(() => Re2.Compile(pattern));
            // The parser's path: a matcher is refused by the deadline, not as a syntax error.
            Assert.Throws<OperationCanceledException>(() => LabelMatcher.Create(MatchType.Regex, "job", pattern + "x"));
            using (Re2.CancelCompilationsWith(CancellationToken.None))
                Assert.True(Re2.Compile(pattern).IsMatch(pattern));
            Assert.Throws<OperationCanceledException>(() => Re2.Compile(pattern));
        }
        Assert.True(Re2.Compile(pattern).IsMatch(pattern));
    }
}
