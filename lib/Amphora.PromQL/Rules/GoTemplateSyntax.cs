namespace Amphora.PromQL.Rules;

/// <summary>
/// The structure of a Go <c>text/template</c>, which Prometheus renders alert labels and annotations with: every
/// <c>{{ action }}</c> closed (strings, raw strings, character constants and <c>/* comments */</c> inside an action
/// skipped; <c>{{-</c> and <c>-}}</c> trim markers), parentheses balanced within an action, no empty action, and the
/// control structures (<c>if</c>, <c>range</c>, <c>with</c>, <c>define</c>, <c>block</c> … <c>else</c> … <c>end</c>)
/// nested properly, and every function named one that Prometheus 2.42 gives its alert templates (<see cref="Functions"/>).
/// It does not check the functions' arguments: that is for the template engine that renders them. Messages follow Go's
/// (<c>unclosed action</c>, <c>unexpected {{end}}</c>, <c>function "x" not defined</c>).
/// </summary>
public static class GoTemplateSyntax
{
    /// <summary>The functions of an alert template: Go's text/template built-ins and Prometheus 2.42's template functions.</summary>
    public static readonly IReadOnlySet<string> Functions = new HashSet<string>(StringComparer.Ordinal)
    {
        "and", "or", "not", "len", "index", "slice", "print", "printf", "println", "html", "js", "urlquery", "call",
        "eq", "ne", "lt", "le", "gt", "ge",
        "query", "first", "label", "value", "strvalue", "args", "reReplaceAll", "safeHtml", "match", "title", "toUpper",
        "toLower", "graphLink", "tableLink", "sortByLabel", "humanize", "humanize1024", "humanizeDuration",
        "humanizePercentage", "humanizeTimestamp", "toTime", "pathPrefix", "externalURL", "parseDuration", "stripPort",
        "stripDomain",
    };

    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "if", "else", "end", "range", "with", "define", "block", "template", "break", "continue", "nil", "true", "false",
    };

    /// <summary>Null when <paramref name="text"/> is a well-formed template, else what is wrong (with its 1-based line).</summary>
    public static string? Check(string text)
    {
        var open = new Stack<string>();
        int i = 0;
        while (true)
        {
            int start = text.IndexOf("{{", i, StringComparison.Ordinal);
            if (start < 0) break;
            int p = start + 2;
            if (p + 1 < text.Length && text[p] == '-' && IsSpace(text[p + 1])) p += 2; // left trim marker
            int end;
            string? problem;
            if (text.AsSpan(SkipSpaces(text, p)).StartsWith("/*"))
                (end, problem) = Comment(text, SkipSpaces(text, p) + 2);
            else
                (end, problem) = Action(text, p, open);
            // The line is counted only for a refusal: counting it for every action made a large file quadratic.
            if (problem is not null) return $"line {LineAt(text, start)}: {problem}";
            i = end;
        }
        return open.Count == 0 ? null : $"line {LineAt(text, text.Length)}: unexpected EOF: {{{{{open.Peek()}}}}} has no {{{{end}}}}";
    }

    /// <summary>A comment action: <c>*/</c> then (after an optional trim marker) <c>}}</c>.</summary>
    private static (int End, string? Problem) Comment(string text, int p)
    {
        int close = text.IndexOf("*/", p, StringComparison.Ordinal);
        if (close < 0) return (0, "unclosed comment");
        int q = close + 2;
        if (q + 2 < text.Length && IsSpace(text[q]) && text[q + 1] == '-') q = SkipSpaces(text, q) + 1;
        return text.AsSpan(q).StartsWith("}}") ? (q + 2, null) : (0, "comment ends before closing delimiter");
    }

    /// <summary>Scans one action from <paramref name="p"/> (after <c>{{</c>) to its <c>}}</c>, checking quotes and parentheses
    /// and updating the stack of open control structures.</summary>
    private static (int End, string? Problem) Action(string text, int p, Stack<string> open)
    {
        int depth = 0, from = p;
        while (p < text.Length)
        {
            char c = text[p];
            if (c is '"' or '`' or '\'')
            {
                int close = EndOfQuoted(text, p);
                if (close < 0) return (0, c == '`' ? "unterminated raw quoted string" : c == '"' ? "unterminated quoted string" : "unterminated character constant");
                p = close + 1;
                continue;
            }
            if (c == '(') depth++;
            else if (c == ')' && --depth < 0) return (0, "unexpected right paren");
            else if (c == '}' && p + 1 < text.Length && text[p + 1] == '}')
            {
                int bodyEnd = p > from && text[p - 1] == '-' && p - 1 > from && IsSpace(text[p - 2]) ? p - 1 : p; // right trim marker
                string body = text[from..bodyEnd].Trim();
                if (depth > 0) return (0, "unclosed left paren");
                return (p + 2, Structure(body, open) ?? UnknownFunction(body));
            }
            p++;
        }
        return (0, "unclosed action");
    }

    /// <summary>Checks the action's keyword against the open control structures.</summary>
    private static string? Structure(string body, Stack<string> open)
    {
        if (body.Length == 0) return "missing value for command";
        int space = body.IndexOfAny([' ', '\t', '\n', '\r', '(']);
        string keyword = space < 0 ? body : body[..space];
        string rest = space < 0 ? "" : body[space..].Trim();
        switch (keyword)
        {
            case "if" or "range" or "with" or "define" or "block":
                if (rest.Length == 0) return $"missing value for {keyword}";
                open.Push(keyword);
                return null;
            case "else":
                if (open.Count == 0 || open.Peek() is not ("if" or "range" or "with")) return "unexpected {{else}}";
                return null;
            case "end":
                if (open.Count == 0) return "unexpected {{end}}";
                open.Pop();
                return null;
            case "break" or "continue":
                return open.Contains("range") ? null : $"{{{{{keyword}}}}} outside {{{{range}}}}";
            default:
                return null;
        }
    }

    /// <summary>The first identifier in function position that is not a known function, as Go's "function not defined".</summary>
    private static string? UnknownFunction(string body)
    {
        int i = 0;
        while (i < body.Length)
        {
            char c = body[i];
            if (c is '"' or '`' or '\'')
            {
                i = EndOfQuoted(body, i) + 1;
                if (i == 0) return null; // unterminated: reported by the scan
                continue;
            }
            int start = i;
            if (c is '$' or '.' || char.IsAsciiDigit(c))
            {
                // A variable ($x), a field chain (.a.b) or a number: none of it names a function.
                i++;
                while (i < body.Length && (char.IsAsciiLetterOrDigit(body[i]) || body[i] is '_' or '.')) i++;
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                while (i < body.Length && (char.IsAsciiLetterOrDigit(body[i]) || body[i] == '_')) i++;
                string name = body[start..i];
                if (!Keywords.Contains(name) && !Functions.Contains(name)) return $"function \"{name}\" not defined";
                while (i < body.Length && (char.IsAsciiLetterOrDigit(body[i]) || body[i] is '_' or '.')) i++; // a method chain: f.x
                continue;
            }
            i++;
        }
        return null;
    }

    /// <summary>The index of the quote closing the string, raw string or character constant that starts at <paramref name="p"/>, or -1.</summary>
    private static int EndOfQuoted(string text, int p)
    {
        char quote = text[p];
        for (int i = p + 1; i < text.Length; i++)
        {
            char c = text[i];
            if (quote != '`' && c == '\\') { i++; continue; }
            if (quote != '`' && c == '\n') return -1;
            if (c == quote) return i;
        }
        return -1;
    }

    private static int SkipSpaces(string text, int p)
    {
        while (p < text.Length && IsSpace(text[p])) p++;
        return p;
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    private static int LineAt(string text, int index)
    {
        int line = 1;
        for (int i = 0; i < index && i < text.Length; i++)
            if (text[i] == '\n') line++;
        return line;
    }
}
