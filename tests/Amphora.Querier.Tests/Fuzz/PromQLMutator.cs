using System.Text;
using System.Text.RegularExpressions;

namespace Amphora.Querier.Tests.Fuzz;

/// <summary>
/// Mutates a PromQL text the way a careless or hostile client would: token-level edits (delete, insert, duplicate, swap,
/// replace by another token), random characters anywhere (NUL, control characters, lone surrogates, non-ASCII), truncation,
/// deep nesting (past the nesting limit), long operator chains and unary runs, and huge numbers. Deterministic for a given
/// <see cref="Random"/>.
/// </summary>
internal sealed partial class PromQLMutator(Random rng)
{
    [GeneratedRegex("""
        "(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`|[A-Za-z_:][A-Za-z0-9_:]*|[0-9.][A-Za-z0-9.]*|==|!=|=~|!~|<=|>=|\s+|.
        """, RegexOptions.Singleline)]
    private static partial Regex TokenPattern();

    private static readonly string[] Vocabulary =
    [
        "(", ")", "{", "}", "[", "]", ",", ":", "@", "+", "-", "*", "/", "%", "^", "==", "!=", "<", "<=", ">", ">=", "=", "=~", "!~",
        "and", "or", "unless", "atan2", "bool", "on", "ignoring", "group_left", "group_right", "by", "without", "offset",
        "start()", "end()", "sum", "topk", "count_values", "quantile", "rate", "histogram_quantile", "label_replace", "absent",
        "up", "x", "__name__", "job", "5m", "1s", "0s", "1h30m", "1", "0", "-1", "0.5", "1e3", "0x1f", "Inf", "NaN", "\"a\"", "'b'",
        "`c`", "\"\"", " ", "#", "\n", "[5m:]", "[1m:1s]", "{job=\"api\"}", "by (job)",
    ];

    private T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];

    /// <summary>Applies one to four mutations to <paramref name="text"/>.</summary>
    public string Mutate(string text)
    {
        int rounds = 1 + rng.Next(4);
        for (int r = 0; r < rounds; r++) text = MutateOnce(text);
        return text;
    }

    private string MutateOnce(string text)
    {
        int kind = rng.Next(1000);
        // The expensive shapes are rare: each costs time proportional to its length.
        if (kind < 2) return DeepNesting(text);
        if (kind < 3) return LongChain(text);
        if (kind < 4) return new string(rng.Next(2) == 0 ? '-' : '+', 1 + rng.Next(20_000)) + text;
        if (kind < 20) return HugeNumber(text);
        if (kind < 120) return RandomCharacters(text);
        if (kind < 150) return text[..rng.Next(text.Length + 1)];
        var tokens = TokenPattern().Matches(text).Select(m => m.Value).ToList();
        if (tokens.Count == 0) return Pick(Vocabulary);
        int i = rng.Next(tokens.Count);
        switch (rng.Next(5))
        {
            case 0: tokens.RemoveAt(i); break;
            case 1: tokens.Insert(i, Pick(Vocabulary)); break;
            case 2: tokens.Insert(i, tokens[i]); break;
            case 3:
                int j = rng.Next(tokens.Count);
                (tokens[i], tokens[j]) = (tokens[j], tokens[i]);
                break;
            default: tokens[i] = Pick(Vocabulary); break;
        }
        return string.Concat(tokens);
    }

    private string DeepNesting(string text)
    {
        // Past the nesting limit (256) as often as below it.
        int n = 1 + rng.Next(600);
        return rng.Next(4) switch
        {
            0 => new string('(', n) + text + new string(')', n),
            1 => string.Concat(Enumerable.Repeat("abs(", n)) + text + new string(')', n),
            2 => string.Concat(Enumerable.Repeat("sum(", n)) + text + new string(')', n),
            _ => string.Concat(Enumerable.Repeat("(", n)) + text, // unbalanced
        };
    }

    private string LongChain(string text)
    {
        int n = 2 + rng.Next(5000);
        string op = Pick(new[] { " + ", " or ", " * ", "^", " and on(job) ", " > bool " });
        string operand = text.Length <= 20 ? text : "up";
        return string.Join(op, Enumerable.Repeat(operand, n));
    }

    private string HugeNumber(string text)
    {
        string number = rng.Next(5) switch
        {
            0 => new string('9', 1 + rng.Next(1000)),
            1 => "0x" + new string('f', 1 + rng.Next(200)),
            2 => "1e" + new string('9', 1 + rng.Next(30)),
            3 => new string('9', 1 + rng.Next(40)) + "y",
            _ => "0" + new string('7', 1 + rng.Next(60)),
        };
        int at = rng.Next(text.Length + 1);
        return text[..at] + number + text[at..];
    }

    private string RandomCharacters(string text)
    {
        var sb = new StringBuilder(text);
        int n = 1 + rng.Next(6);
        for (int k = 0; k < n; k++)
        {
            char c = rng.Next(6) switch
            {
                0 => (char)rng.Next(0, 32),               // NUL and control characters
                1 => (char)rng.Next(0xD800, 0xE000),      // a lone surrogate
                2 => (char)rng.Next(0x80, 0x800),
                3 => (char)rng.Next(0, 0x10000),
                _ => (char)rng.Next(32, 127),
            };
            int at = rng.Next(sb.Length + 1);
            if (rng.Next(3) == 0 && at < sb.Length) sb[at] = c;
            else sb.Insert(at, c);
        }
        return sb.ToString();
    }
}
