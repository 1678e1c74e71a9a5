using System.Globalization;
using System.Text;

namespace Amphora.Ruler.Templates;

/// <summary>A template that does not parse: <c>template: NAME:LINE: message</c>, as Go words it.</summary>
public sealed class TemplateException(string message) : Exception(message);

/// <summary>
/// Parses Go text/template source into nodes: text, actions with pipelines (<c>|</c>, variables, fields, literals,
/// parenthesised pipelines), <c>if</c>/<c>range</c>/<c>with</c> with <c>else</c> and <c>else if</c>, <c>define</c>,
/// <c>template</c>, <c>block</c>, <c>break</c>, <c>continue</c>, comments and trim markers.
/// </summary>
internal sealed class TemplateParser
{
    private readonly string _name;
    private readonly string _text;
    private int _pos;
    public Dictionary<string, ListNode> Defines { get; } = new(StringComparer.Ordinal);

    private TemplateParser(string name, string text)
    {
        _name = name;
        _text = text;
    }

    public static (ListNode Root, Dictionary<string, ListNode> Defines) Parse(string name, string text)
    {
        var p = new TemplateParser(name, text);
        var root = p.ParseList(out var end, topLevel: true);
        if (end is not null) throw p.Error(end.Value.Pos, $"unexpected {{{{{end.Value.Word}}}}}");
        return (root, p.Defines);
    }

    private TemplateException Error(int pos, string message)
    {
        int line = 1;
        for (int i = 0; i < pos && i < _text.Length; i++) if (_text[i] == '\n') line++;
        return new TemplateException($"template: {_name}:{line}: {message}");
    }

    private readonly record struct Terminator(string Word, int Pos);

    /// <summary>Nodes until <c>{{end}}</c> or <c>{{else ...}}</c> (returned in <paramref name="end"/>, with <see cref="_pos"/> after
    /// the keyword) or the end of the text.</summary>
    private ListNode ParseList(out Terminator? end, bool topLevel = false)
    {
        var nodes = new List<Node>();
        int listPos = _pos;
        end = null;
        bool trimNext = false;
        while (_pos < _text.Length)
        {
            int open = _text.IndexOf("{{", _pos, StringComparison.Ordinal);
            string text = open < 0 ? _text[_pos..] : _text[_pos..open];
            bool trimLeft = open >= 0 && open + 3 < _text.Length && _text[open + 2] == '-' && IsSpace(_text[open + 3]);
            if (trimNext) text = text.TrimStart(' ', '\t', '\r', '\n');
            if (trimLeft) text = text.TrimEnd(' ', '\t', '\r', '\n');
            if (text.Length > 0) nodes.Add(new TextNode(_pos, text));
            if (open < 0) { _pos = _text.Length; break; }
            _pos = open + 2 + (trimLeft ? 2 : 0);
            int actionStart = _pos;
            SkipSpaces();
            if (Peek("/*"))
            {
                int close = _text.IndexOf("*/", _pos, StringComparison.Ordinal);
                if (close < 0) throw Error(open, "unclosed comment");
                _pos = close + 2;
                trimNext = CloseAction(open);
                continue;
            }
            string word = PeekWord();
            switch (word)
            {
                case "end":
                    _pos += 3;
                    trimNext = CloseAction(open);
                    end = new Terminator("end", open);
                    return Finish(nodes, listPos, trimNext);
                case "else":
                    _pos += 4;
                    end = new Terminator("else", open);
                    return Finish(nodes, listPos, false);
                case "if" or "range" or "with":
                    _pos += word.Length;
                    nodes.Add(ParseBranch(open, word, out trimNext));
                    continue;
                case "define" or "block":
                {
                    _pos += word.Length;
                    SkipSpaces();
                    string name = ReadQuoted(open);
                    PipeNode? pipe = null;
                    if (word == "block") { SkipSpaces(); pipe = ParsePipe(open, allowDecl: false); }
                    CloseAction(open);
                    var body = ParseList(out var e);
                    if (e?.Word != "end") throw Error(open, $"unexpected EOF in {word}");
                    Defines[name] = body;
                    trimNext = _lastTrimRight;
                    if (word == "block") nodes.Add(new TemplateCallNode(open, name, pipe));
                    continue;
                }
                case "template":
                {
                    _pos += 8;
                    SkipSpaces();
                    string name = ReadQuoted(open);
                    SkipSpaces();
                    PipeNode? pipe = AtClose() ? null : ParsePipe(open, allowDecl: false);
                    trimNext = CloseAction(open);
                    nodes.Add(new TemplateCallNode(open, name, pipe));
                    continue;
                }
                case "break" or "continue":
                    _pos += word.Length;
                    trimNext = CloseAction(open);
                    nodes.Add(word == "break" ? new BreakNode(open) : new ContinueNode(open));
                    continue;
            }
            _pos = actionStart;
            SkipSpaces();
            var action = ParsePipe(_pos, allowDecl: true);
            trimNext = CloseAction(open);
            nodes.Add(new ActionNode(action.Pos, action));
        }
        if (!topLevel) throw Error(_pos, "unexpected EOF");
        return new ListNode(listPos, nodes);
    }

    private bool _lastTrimRight;

    private ListNode Finish(List<Node> nodes, int pos, bool trimRight)
    {
        _lastTrimRight = trimRight;
        return new ListNode(pos, nodes);
    }

    private Node ParseBranch(int open, string word, out bool trimNext)
    {
        SkipSpaces();
        var pipe = ParsePipe(_pos, allowDecl: true);
        CloseAction(open);
        var list = ParseList(out var end);
        ListNode? elseList = null;
        if (end?.Word == "else")
        {
            SkipSpaces();
            string next = PeekWord();
            if (next == "if" || (next == "with" && word == "with"))
            {
                // {{else if ...}}: a nested branch that shares this one's {{end}}.
                _pos += next.Length;
                int elsePos = _pos;
                var nested = ParseBranch(open, next, out trimNext);
                elseList = new ListNode(elsePos, [nested]);
                return new BranchNode(open, Kind(word), pipe, list, elseList);
            }
            CloseAction(open);
            elseList = ParseList(out end);
        }
        if (end?.Word != "end") throw Error(open, $"unexpected EOF in {word}");
        trimNext = _lastTrimRight;
        return new BranchNode(open, Kind(word), pipe, list, elseList);
    }

    private static BranchKind Kind(string word) => word switch { "if" => BranchKind.If, "range" => BranchKind.Range, _ => BranchKind.With };

    /// <summary>Expects <c>}}</c> (or <c>-}}</c>); returns whether it trims the text after it.</summary>
    private bool CloseAction(int open)
    {
        SkipSpaces();
        if (Peek("-}}")) { _pos += 3; _lastTrimRight = true; return true; }
        if (Peek("}}")) { _pos += 2; _lastTrimRight = false; return false; }
        throw Error(open, _pos >= _text.Length ? "unclosed action" : $"unexpected \"{_text[_pos]}\" in command");
    }

    private bool AtClose() => Peek("}}") || IsTrimClose();

    private bool IsTrimClose()
    {
        int p = _pos;
        if (p >= _text.Length || _text[p] != '-') return false;
        return p + 2 < _text.Length && _text[p + 1] == '}' && _text[p + 2] == '}';
    }

    private PipeNode ParsePipe(int pos, bool allowDecl)
    {
        var vars = new List<string>();
        bool assign = false;
        if (allowDecl && Peek("$"))
        {
            int save = _pos;
            var names = new List<string>();
            while (true)
            {
                string v = ReadVariableName();
                names.Add(v);
                SkipSpaces();
                if (Peek(",")) { _pos++; SkipSpaces(); if (Peek("$")) continue; }
                break;
            }
            if (Peek(":=")) { _pos += 2; vars = names; }
            else if (Peek("=") && !Peek("==")) { _pos += 1; vars = names; assign = true; }
            else _pos = save;
            SkipSpaces();
        }
        var commands = new List<CommandNode>();
        while (true)
        {
            SkipSpaces();
            var cmd = ParseCommand();
            if (cmd.Args.Count == 0) throw Error(pos, "missing value for command");
            commands.Add(cmd);
            SkipSpaces();
            if (Peek("|") ) { _pos++; continue; }
            break;
        }
        return new PipeNode(pos, vars, assign, commands);
    }

    private CommandNode ParseCommand()
    {
        int pos = _pos;
        var args = new List<ArgNode>();
        while (true)
        {
            SkipSpaces();
            if (_pos >= _text.Length) throw Error(pos, "unclosed action");
            char c = _text[_pos];
            if (c == '|' || c == ')' || Peek("}}") || IsTrimClose()) break;
            args.Add(ParseArg());
        }
        return new CommandNode(pos, args);
    }

    private ArgNode ParseArg()
    {
        int pos = _pos;
        char c = _text[_pos];
        if (c == '(')
        {
            _pos++;
            var pipe = ParsePipe(pos, allowDecl: true);
            SkipSpaces();
            if (!Peek(")")) throw Error(pos, "unclosed left paren");
            _pos++;
            return new PipeArg(pos, pipe, ReadFields());
        }
        if (c == '.')
        {
            if (_pos + 1 < _text.Length && IsIdentChar(_text[_pos + 1])) return new FieldArg(pos, ReadFields());
            _pos++;
            return new FieldArg(pos, []);
        }
        if (c == '$') return new VariableArg(pos, ReadVariableName(), ReadFields());
        if (c is '"' or '`') { string raw = ReadRawToken(); return new LiteralArg(pos, Unquote(raw, pos), raw); }
        if (c == '\'')
        {
            string raw = ReadRawToken();
            string s = Unquote("\"" + raw[1..^1].Replace("\"", "\\\"") + "\"", pos);
            return new LiteralArg(pos, (long)char.ConvertToUtf32(s, 0), raw);
        }
        if (char.IsAsciiDigit(c) || ((c is '-' or '+') && _pos + 1 < _text.Length && (char.IsAsciiDigit(_text[_pos + 1]) || _text[_pos + 1] == '.')))
        {
            int start = _pos;
            _pos++;
            while (_pos < _text.Length && (char.IsAsciiLetterOrDigit(_text[_pos]) || _text[_pos] is '.' or '_' || (_text[_pos] is '+' or '-' && _text[_pos - 1] is 'e' or 'E' or 'p' or 'P')))
                _pos++;
            string num = _text[start.._pos];
            return new LiteralArg(pos, ParseNumber(num, pos), num);
        }
        if (IsIdentChar(c))
        {
            string word = ReadIdent();
            return word switch
            {
                "true" => new LiteralArg(pos, true, word),
                "false" => new LiteralArg(pos, false, word),
                "nil" => new LiteralArg(pos, null, word),
                _ => new IdentifierArg(pos, word),
            };
        }
        throw Error(pos, $"unexpected \"{c}\" in command");
    }

    private object ParseNumber(string num, int pos)
    {
        string clean = num.Replace("_", "");
        bool neg = clean.StartsWith('-');
        string body = clean.TrimStart('-', '+');
        try
        {
            if (body.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && !body.Contains('p', StringComparison.OrdinalIgnoreCase))
                return (neg ? -1 : 1) * Convert.ToInt64(body[2..], 16);
            if (body.StartsWith("0b", StringComparison.OrdinalIgnoreCase)) return (neg ? -1 : 1) * Convert.ToInt64(body[2..], 2);
            if (body.StartsWith("0o", StringComparison.OrdinalIgnoreCase)) return (neg ? -1 : 1) * Convert.ToInt64(body[2..], 8);
            if (!body.Contains('.') && !body.Contains('e') && !body.Contains('E'))
                return long.Parse(clean, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            return double.Parse(clean, NumberStyles.Float, CultureInfo.InvariantCulture);
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
        {
            throw Error(pos, $"bad number syntax: \"{num}\"");
        }
    }

    private string[] ReadFields()
    {
        var fields = new List<string>();
        while (_pos + 1 < _text.Length && _text[_pos] == '.' && IsIdentChar(_text[_pos + 1]))
        {
            _pos++;
            fields.Add(ReadIdent());
        }
        return fields.ToArray();
    }

    private string ReadVariableName()
    {
        int start = _pos;
        _pos++; // $
        while (_pos < _text.Length && IsIdentChar(_text[_pos])) _pos++;
        return _text[start.._pos];
    }

    private string ReadIdent()
    {
        int start = _pos;
        while (_pos < _text.Length && IsIdentChar(_text[_pos])) _pos++;
        return _text[start.._pos];
    }

    private string ReadQuoted(int open)
    {
        if (_pos >= _text.Length || _text[_pos] is not ('"' or '`')) throw Error(open, "template name must be a string");
        int pos = _pos;
        return Unquote(ReadRawToken(), pos);
    }

    /// <summary>A quoted token as written (quotes included); the closing quote must come before the end of the action.</summary>
    private string ReadRawToken()
    {
        char q = _text[_pos];
        int start = _pos++;
        while (_pos < _text.Length && _text[_pos] != q)
        {
            if (q != '`' && _text[_pos] == '\\') _pos++;
            else if (q != '`' && _text[_pos] == '\n') break;
            _pos++;
        }
        if (_pos >= _text.Length || _text[_pos] != q) throw Error(start, q == '`' ? "unterminated raw quoted string" : "unterminated quoted string");
        _pos++;
        return _text[start.._pos];
    }

    private string Unquote(string raw, int pos)
    {
        if (raw[0] == '`') return raw[1..^1];
        var sb = new StringBuilder();
        for (int i = 1; i < raw.Length - 1; i++)
        {
            char c = raw[i];
            if (c != '\\') { sb.Append(c); continue; }
            char e = raw[++i];
            switch (e)
            {
                case 'n': sb.Append('\n'); break;
                case 't': sb.Append('\t'); break;
                case 'r': sb.Append('\r'); break;
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case '"': sb.Append('"'); break;
                case '\'': sb.Append('\''); break;
                case 'x': sb.Append((char)Convert.ToInt32(raw.Substring(i + 1, 2), 16)); i += 2; break;
                case 'u': sb.Append(char.ConvertFromUtf32(Convert.ToInt32(raw.Substring(i + 1, 4), 16))); i += 4; break;
                case 'U': sb.Append(char.ConvertFromUtf32(Convert.ToInt32(raw.Substring(i + 1, 8), 16))); i += 8; break;
                default:
                    if (e is >= '0' and <= '7') { sb.Append((char)Convert.ToInt32(raw.Substring(i, 3), 8)); i += 2; break; }
                    throw Error(pos, $"invalid syntax: {raw}");
            }
        }
        return sb.ToString();
    }

    private string PeekWord()
    {
        int p = _pos;
        while (p < _text.Length && IsIdentChar(_text[p])) p++;
        return _text[_pos..p];
    }

    private bool Peek(string s) => string.CompareOrdinal(_text, _pos, s, 0, s.Length) == 0;

    private void SkipSpaces()
    {
        while (_pos < _text.Length && IsSpace(_text[_pos])) _pos++;
    }

    private static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';
    private static bool IsIdentChar(char c) => char.IsLetterOrDigit(c) || c == '_';
}
