using Amphora.Model;
using Xunit;

namespace Amphora.Core.Tests.Model;

/// <summary>
/// Matching and captures compared with Go's regexp, which Prometheus uses: every expected outcome below was produced by
/// Go 1.19's regexp for <c>^(?s:PATTERN)$</c> (how Prometheus anchors a matcher) and is hard-coded here. null: no match;
/// otherwise the capture groups 1..n of the match ("" for a group that did not take part).
/// </summary>
public sealed class Re2ConformanceTests
{
    public sealed record Case(string Pattern, string Input, string[]? Groups);

    private static readonly Case[] Cases =
    [
        new("foo", "foo", []),
        new("foo", "foo\u000A", null),
        new("foo", "xfoo", null),
        new("a|b", "a", []),
        new("a|b", "b", []),
        new("a|b", "ab", null),
        new("a.c", "abc", []),
        new("a.c", "a\u000Ac", []),
        new("(?-s)a.c", "abc", []),
        new("(?-s)a.c", "a\u000Ac", null),
        new("\\d+", "0123456789", []),
        new("\\d+", "\u0663", null),
        new("\\d+", "\uFF11", null),
        new("\\w+", "aZ_09", []),
        new("\\w+", "\u00E9", null),
        new("\\w+", "\u0430", null),
        new("\\s+", " \u0009\u000A\u000C\u000D", []),
        new("\\s+", "\u000B", null),
        new("\\s+", "\u00A0", null),
        new("\\s+", "\u2003", null),
        new("\\D", "\u0663", []),
        new("\\D", "1", null),
        new("\\W", "\u00E9", []),
        new("\\W", "a", null),
        new("\\S", "\u000B", []),
        new("\\S", "\u00A0", []),
        new("\\S", " ", null),
        new("\\Qa.b*c\\E", "a.b*c", []),
        new("\\Qa.b*c\\E", "aXbbc", null),
        new("\\Q(\\E+", "(((", []),
        new("\\x{41}\\x42\\x{1F600}", "AB\U0001F600", []),
        new("\\101\\0", "A\u0000", []),
        new("\\a\\f\\t\\n\\r\\v", "\u0007\u000C\u0009\u000A\u000D\u000B", []),
        new("\\pL+", "abc", []),
        new("\\pL+", "\u00E9\u4E2D", []),
        new("\\pL+", "1", null),
        new("\\PL", "1", []),
        new("\\PL", "a", null),
        new("\\pN\\p{Lu}\\p{^Lu}", "5Aa", []),
        new("\\pN\\p{Lu}\\p{^Lu}", "5AA", null),
        new("\\p{Greek}+", "\u03B1\u03B2", []),
        new("\\p{Greek}+", "a", null),
        new("\\p{Han}", "\u4E2D", []),
        new("\\p{Han}", "a", null),
        new("\\p{Any}", "\u000A", []),
        new("\\p{Any}", "\U0001F600", []),
        new("[[:alpha:]]+", "abcXYZ", []),
        new("[[:alpha:]]+", "\u00E9", null),
        new("[[:^alpha:]]+", "12 !", []),
        new("[[:^alpha:]]+", "a", null),
        new("[^[:digit:]x]", "y", []),
        new("[^[:digit:]x]", "x", null),
        new("[^[:digit:]x]", "5", null),
        new("[[:word:][:space:]]+", "a_1 \u0009", []),
        new("[\\d\\pL-]+", "a-1\u00E9", []),
        new("[]a]+", "]a]", []),
        new("[^]a]", "b", []),
        new("[^]a]", "]", null),
        new("[a-]+", "a-", []),
        new("[-a]+", "-a", []),
        new("(?i)hello", "HeLLo", []),
        new("(?i)hello", "hellO", []),
        new("(?i)k", "K", []),
        new("(?i)k", "\u212A", []),
        new("(?i)s", "\u017F", []),
        new("(?i)s", "S", []),
        new("(?i)[a-c]+", "ABC", []),
        new("(?i)[a-c]+", "abc", []),
        new("(?i)[^k]", "\u212A", null),
        new("(?i)[^k]", "x", []),
        new("(?i)\u03C3", "\u03A3", []),
        new("(?i)\u03C3", "\u03C2", []),
        new("(?i)\u00E9", "\u00C9", []),
        new("(?i)i", "\u0130", null),
        new("(?i)i", "\u0131", null),
        new("(?i)i", "I", []),
        new("a(?i)b", "aB", []),
        new("a(?i)b", "AB", null),
        new("(?i:a)b", "Ab", []),
        new("(?i:a)b", "AB", null),
        new("(?i)a(?-i)b", "Ab", []),
        new("(?i)a(?-i)b", "AB", null),
        new("(?m)^a$", "a", []),
        new("(?m)a$\\n^b", "a\u000Ab", []),
        new("\\Aab\\z", "ab", []),
        new("a^b", "ab", null),
        new("a$b", "ab", null),
        new("(a+)(a*)", "aaa", ["aaa", ""]),
        new("(?U)(a+)(a*)", "aaa", ["a", "aa"]),
        new("(a+?)(a*)", "aaa", ["a", "aa"]),
        new("(?U)(a+?)(a*)", "aaa", ["aaa", ""]),
        new("(a*)(a{2})", "aaaa", ["aa", "aa"]),
        new("(a{1,2})(a*)", "aaa", ["aa", "a"]),
        new("(?P<x>a)(b)", "ab", ["a", "b"]),
        new("(?P<x>a)|(?P<x>b)", "a", ["a", ""]),
        new("(?P<x>a)|(?P<x>b)", "b", ["", "b"]),
        new("(a)(?:b)(c)", "abc", ["a", "c"]),
        new("((a)|b)+", "ab", ["b", "a"]),
        new("((a)|b)+", "ba", ["a", "a"]),
        new("(a|ab)(c|bcd)(d*)", "abcd", ["a", "bcd", ""]),
        new("a{2,}", "a", null),
        new("a{2,}", "aa", []),
        new("a{2,}", "aaaaa", []),
        new("a{,2}", "a{,2}", []),
        new("a{2", "a{2", []),
        new("x{0}y", "y", []),
        new("{", "{", []),
        new("a{1000}", "a", null),
        new("\\.\\*\\+\\?\\(\\)\\[\\]\\{\\}\\|\\^\\$\\\\", ".*+?()[]{}|^$\\", []),
        new("\\-\\!\\@\\#\\~", "-!@#~", []),
        new("(?s).", "\u000A", []),
        new(".", "\u000A", []),
        new(".", "\U0001F600", []),
        new(".", "\U0001F600\U0001F600", null),
        new("..", "\U0001F600", null),
        new("[^a]", "\u000A", []),
        new("[^a]", "\U0001F600", []),
        new("\\x{10FFFF}", "\U0010FFFF", []),
        new("a\\b", "a", []),
        new("\\bfoo\\b", "foo", []),
        new("a\\Bb", "ab", []),
    ];

    public static TheoryData<int> CaseNumbers()
    {
        var data = new TheoryData<int>();
        for (int i = 0; i < Cases.Length; i++) data.Add(i);
        return data;
    }

    [Theory]
    [MemberData(nameof(CaseNumbers))]
    public void Matches_and_captures_as_go_regexp(int number)
    {
        var c = Cases[number];
        var match = Re2.CompileUncached(c.Pattern).Match(c.Input);
        if (c.Groups is null)
        {
            Assert.False(match.Success, $"{c.Pattern} should not match {c.Input}");
            return;
        }
        Assert.True(match.Success, $"{c.Pattern} should match {c.Input}");
        var groups = Enumerable.Range(1, match.Groups.Count - 1).Select(g => match.Groups[g].Success ? match.Groups[g].Value : "").ToArray();
        Assert.Equal(c.Groups, groups);
    }

    [Fact]
    public void Group_names_are_numbered_in_order_of_their_opening_parenthesis_as_go()
    {
        var regex = Re2.CompileUncached("(?P<x>a)(b)(?<y>c)(?P<x>d)");
        Assert.Equal(5, regex.GroupCount);
        Assert.Equal(new[] { null, "x", null, "y", "x" }, Enumerable.Range(0, 5).Select(regex.GroupName).ToArray());
        Assert.Equal("b", regex.Match("abcd").Groups[2].Value);
    }
}
