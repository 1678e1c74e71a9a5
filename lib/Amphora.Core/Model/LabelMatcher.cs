namespace Amphora.Model;

public enum MatchType { Equal, NotEqual, Regex, NotRegex }

/// <summary>
/// A label matcher as in PromQL selectors (<c>=</c>, <c>!=</c>, <c>=~</c>, <c>!~</c>). Regular expressions are
/// RE2 syntax, fully anchored, with <c>.</c> matching newlines, and run on .NET's non-backtracking engine
/// so matching time is linear in the input. An absent label matches as the empty string.
/// Immutable and thread-safe.
/// </summary>
public sealed class LabelMatcher
{
    public MatchType Type { get; }
    public string Name { get; }
    public string Value { get; }
    private readonly Re2Regex? _regex;

    private LabelMatcher(MatchType type, string name, string value, Re2Regex? regex)
    {
        Type = type;
        Name = name;
        Value = value;
        _regex = regex;
    }

    /// <summary>
    /// Creates a matcher; throws <see cref="Re2SyntaxException"/> (an <see cref="ArgumentException"/>) with an RE2-style message
    /// for an invalid regular expression or one beyond a <see cref="Re2Limits"/> bound.
    /// </summary>
    public static LabelMatcher Create(MatchType type, string name, string value)
    {
        Re2Regex? regex = null;
        if (type is MatchType.Regex or MatchType.NotRegex)
            regex = Re2.Compile(value);
        return new LabelMatcher(type, name, value, regex);
    }

    public static LabelMatcher Equal(string name, string value) => new(MatchType.Equal, name, value, null);

    public bool Matches(string value) => Type switch
    {
        MatchType.Equal => value == Value,
        MatchType.NotEqual => value != Value,
        MatchType.Regex => _regex!.IsMatch(value),
        MatchType.NotRegex => !_regex!.IsMatch(value),
        _ => false,
    };

    /// <summary>True when the matcher accepts the empty string, i.e. also series without the label.</summary>
    public bool MatchesEmpty => Matches("");

    public static string OperatorText(MatchType type) => type switch
    {
        MatchType.Equal => "=",
        MatchType.NotEqual => "!=",
        MatchType.Regex => "=~",
        _ => "!~",
    };

    public override string ToString() => $"{Name}{OperatorText(Type)}\"{Value.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"";
}
