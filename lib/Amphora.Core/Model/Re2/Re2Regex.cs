using System.Text.RegularExpressions;

namespace Amphora.Model;

/// <summary>
/// A compiled RE2 pattern: fully anchored, on .NET's non-backtracking engine (matching time linear in the value's length),
/// with capture groups numbered as RE2 numbers them and their names. Immutable and thread-safe.
/// </summary>
public sealed class Re2Regex
{
    private readonly IReadOnlyList<string?> _groupNames;

    internal Re2Regex(string pattern, Regex regex, IReadOnlyList<string?> groupNames, int translatedLength)
    {
        Pattern = pattern;
        Regex = regex;
        _groupNames = groupNames;
        TranslatedLength = translatedLength;
    }

    /// <summary>The RE2 pattern as written.</summary>
    public string Pattern { get; }

    /// <summary>The .NET regular expression; its groups 1..n are the RE2 pattern's capture groups in RE2's order.</summary>
    public Regex Regex { get; }

    /// <summary>Length of the .NET translation, the cache's measure of what this compilation holds.</summary>
    internal int TranslatedLength { get; }

    /// <summary>Number of capture groups, plus one for the whole match.</summary>
    public int GroupCount => _groupNames.Count;

    /// <summary>The name of capture group <paramref name="number"/>, or null for an unnamed group.</summary>
    public string? GroupName(int number) => _groupNames[number];

    /// <summary>True when the whole value matches; throws <see cref="RegexMatchTimeoutException"/> past <see cref="Re2Limits.MatchTimeout"/>.</summary>
    public bool IsMatch(string value) => Regex.IsMatch(value);

    public Match Match(string value) => Regex.Match(value);
}
