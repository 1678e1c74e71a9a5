namespace Amphora.Model;

/// <summary>
/// The bounds of a regular expression in a label matcher, <c>label_replace()</c> or a <c>match[]</c> selector, in one place
/// (docs/security.md lists them). Each is fixed; a pattern beyond one is refused with an <see cref="Re2SyntaxException"/>
/// naming the limit (a 400 <c>bad_data</c> at the HTTP API), before anything is matched.
/// </summary>
public static class Re2Limits
{
    /// <summary>Longest pattern, in UTF-16 characters: room for a Grafana multi-value variable of several thousand values.</summary>
    public const int MaxPatternLength = 256 * 1024;

    /// <summary>Largest count of one repetition (<c>{n,m}</c>) and of nested repetitions multiplied together, as RE2's.</summary>
    public const int MaxRepeat = 1000;

    /// <summary>How deeply groups may nest, as Go's regexp (the translation itself never recurses).</summary>
    public const int MaxNestingDepth = 1000;

    /// <summary>
    /// Largest automaton .NET's non-backtracking engine may build for one pattern, in the engine's own estimate of its NFA
    /// size (<c>REGEX_NONBACKTRACKING_MAX_AUTOMATA_SIZE</c>; .NET's default of 10,000 refused a 200-value alternation).
    /// It bounds what compiling costs: at the limit, compiling takes well under a second and tens of megabytes.
    /// </summary>
    public const int MaxAutomatonSize = 200_000;

    /// <summary>Longest .NET pattern a translation may produce (character classes are spelled out as code point ranges).</summary>
    public const int MaxTranslatedLength = 4 * 1024 * 1024;

    /// <summary>
    /// Backstop for one match of one value. Matching is linear in the value's length on the non-backtracking engine, so only
    /// a pattern near <see cref="MaxAutomatonSize"/> on a long value comes close; past it the query fails as timed out.
    /// </summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(1);

    /// <summary>Compiled patterns kept for reuse (dashboards send the same selectors on every refresh)...</summary>
    public const int CacheMaxEntries = 1024;

    /// <summary>...and the total length of their translations, which bounds the cache's memory with the size of each automaton.</summary>
    public const long CacheMaxTranslatedChars = 16 * 1024 * 1024;
}
