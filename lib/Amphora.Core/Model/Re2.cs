using System.Text;
using System.Text.RegularExpressions;

namespace Amphora.Model;

/// <summary>
/// Translates RE2 syntax (what Prometheus accepts) into a fully anchored .NET regular expression on the
/// non-backtracking engine. Constructs RE2 rejects (backreferences, lookaround, possessive or atomic groups)
/// are rejected here too, with an <see cref="ArgumentException"/> whose message reads like RE2's.
/// </summary>
public static class Re2
{
    private const int CacheLimit = 1024;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Regex> Cache = new(StringComparer.Ordinal);

    /// <summary>
    /// Compiles (or returns the cached compilation of) a pattern. Building a non-backtracking automaton costs far more than
    /// matching, and dashboards send the same selectors again and again.
    /// </summary>
    public static Regex Compile(string pattern)
    {
        if (Cache.TryGetValue(pattern, out var cached)) return cached;
        var regex = CompileUncached(pattern);
        if (Cache.Count >= CacheLimit) Cache.Clear();
        Cache[pattern] = regex;
        return regex;
    }

    private static Regex CompileUncached(string pattern)
    {
        string translated = Translate(pattern);
        try
        {
            return new Regex("^(?:" + translated + ")$",
                RegexOptions.NonBacktracking | RegexOptions.Singleline | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException($"error parsing regexp: {FirstSentence(e.Message)}: `{pattern}`", e);
        }
        catch (NotSupportedException e)
        {
            throw new ArgumentException($"error parsing regexp: invalid or unsupported Perl syntax: `{pattern}`", e);
        }
    }

    private static string FirstSentence(string message)
    {
        int i = message.IndexOf(" - ", StringComparison.Ordinal);
        return i >= 0 ? message[(i + 3)..] : message;
    }

    /// <summary>Rewrites the few RE2 forms .NET spells differently and rejects what RE2 does not support.</summary>
    public static string Translate(string pattern)
    {
        var sb = new StringBuilder(pattern.Length + 8);
        bool inClass = false;
        for (int i = 0; i < pattern.Length; i++)
        {
            char c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                char n = pattern[i + 1];
                if (n is >= '1' and <= '9' && !inClass)
                    throw Invalid("invalid escape sequence", $"\\{n}", pattern);
                if (n is 'k' or 'g' && !inClass)
                    throw Invalid("invalid escape sequence", $"\\{n}", pattern);
                if (n == 'z') { sb.Append("\\z"); i++; continue; }
                if (n == 'Z') throw Invalid("invalid escape sequence", "\\Z", pattern);
                sb.Append(c).Append(n);
                i++;
                continue;
            }
            if (inClass)
            {
                if (c == ']') inClass = false;
                if (c == '[' && i + 1 < pattern.Length && pattern[i + 1] == ':')
                {
                    int end = pattern.IndexOf(":]", i + 2, StringComparison.Ordinal);
                    if (end > 0)
                    {
                        sb.Append(PosixClass(pattern[(i + 2)..end], pattern));
                        i = end + 1;
                        continue;
                    }
                }
                sb.Append(c);
                continue;
            }
            if (c == '[')
            {
                inClass = true;
                sb.Append(c);
                if (i + 1 < pattern.Length && pattern[i + 1] == '^') { sb.Append('^'); i++; }
                if (i + 1 < pattern.Length && pattern[i + 1] == ']') { sb.Append("\\]"); i++; }
                continue;
            }
            if (c == '(' && i + 1 < pattern.Length && pattern[i + 1] == '?')
            {
                if (i + 2 < pattern.Length)
                {
                    char k = pattern[i + 2];
                    if (k is '=' or '!' or '>')
                        throw Invalid("invalid or unsupported Perl syntax", $"(?{k}", pattern);
                    if (k == '<' && i + 3 < pattern.Length && pattern[i + 3] is '=' or '!')
                        throw Invalid("invalid or unsupported Perl syntax", $"(?<{pattern[i + 3]}", pattern);
                    if (k == 'P' && i + 3 < pattern.Length && pattern[i + 3] == '<')
                    {
                        sb.Append("(?<");
                        i += 3;
                        continue;
                    }
                }
            }
            if ((c is '+' or '*' or '?' or '}') && i + 1 < pattern.Length && pattern[i + 1] == '+')
                throw Invalid("invalid nested repetition operator", $"{c}+", pattern);
            sb.Append(c);
        }
        return sb.ToString();
    }

    private static string PosixClass(string name, string pattern) => name switch
    {
        "alnum" => "0-9A-Za-z",
        "alpha" => "A-Za-z",
        "ascii" => "\\x00-\\x7F",
        "blank" => "\\t ",
        "cntrl" => "\\x00-\\x1F\\x7F",
        "digit" => "0-9",
        "graph" => "!-~",
        "lower" => "a-z",
        "print" => " -~",
        "punct" => "!-/:-@\\[-`{-~",
        "space" => "\\t\\n\\v\\f\\r ",
        "upper" => "A-Z",
        "word" => "0-9A-Za-z_",
        "xdigit" => "0-9A-Fa-f",
        _ => throw Invalid("invalid character class range", $"[:{name}:]", pattern),
    };

    private static ArgumentException Invalid(string what, string fragment, string pattern) =>
        new($"error parsing regexp: {what}: `{fragment}`");
}
