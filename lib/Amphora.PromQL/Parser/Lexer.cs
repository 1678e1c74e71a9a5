using System.Globalization;
using System.Text;

namespace Amphora.PromQL.Parser;

/// <summary>
/// Splits a PromQL query into tokens. Numbers include hex, exponents, <c>Inf</c> and <c>NaN</c>; a number directly followed by
/// duration units is a duration; strings are Go-quoted (double or single quotes, with escapes) or raw (backquotes).
/// </summary>
public sealed class Lexer(string input)
{
    private int _pos;

    public List<Token> Tokenize()
    {
        var tokens = new List<Token>();
        while (true)
        {
            var t = Next();
            tokens.Add(t);
            if (t.Kind == TokenKind.Eof) return tokens;
        }
    }

    private Token Next()
    {
        SkipSpaceAndComments();
        if (_pos >= input.Length) return new Token(TokenKind.Eof, input.Length, "");
        int start = _pos;
        char c = input[_pos];
        char next = _pos + 1 < input.Length ? input[_pos + 1] : '\0';
        switch (c)
        {
            case '(': _pos++; return new Token(TokenKind.LeftParen, start, "(");
            case ')': _pos++; return new Token(TokenKind.RightParen, start, ")");
            case '{': _pos++; return new Token(TokenKind.LeftBrace, start, "{");
            case '}': _pos++; return new Token(TokenKind.RightBrace, start, "}");
            case '[': _pos++; return new Token(TokenKind.LeftBracket, start, "[");
            case ']': _pos++; return new Token(TokenKind.RightBracket, start, "]");
            case ',': _pos++; return new Token(TokenKind.Comma, start, ",");
            case '@': _pos++; return new Token(TokenKind.At, start, "@");
            case '+': _pos++; return new Token(TokenKind.Add, start, "+");
            case '-': _pos++; return new Token(TokenKind.Sub, start, "-");
            case '*': _pos++; return new Token(TokenKind.Mul, start, "*");
            case '/': _pos++; return new Token(TokenKind.Div, start, "/");
            case '%': _pos++; return new Token(TokenKind.Mod, start, "%");
            case '^': _pos++; return new Token(TokenKind.Pow, start, "^");
            case ':': _pos++; return new Token(TokenKind.Colon, start, ":");
            case '=':
                if (next == '=') { _pos += 2; return new Token(TokenKind.Eql, start, "=="); }
                if (next == '~') { _pos += 2; return new Token(TokenKind.EqlRegex, start, "=~"); }
                _pos++;
                return new Token(TokenKind.Assign, start, "=");
            case '!':
                if (next == '=') { _pos += 2; return new Token(TokenKind.Neq, start, "!="); }
                if (next == '~') { _pos += 2; return new Token(TokenKind.NeqRegex, start, "!~"); }
                throw new ParseException(start, start + 1, "unexpected character after '!': " + Describe(next));
            case '<':
                if (next == '=') { _pos += 2; return new Token(TokenKind.Lte, start, "<="); }
                if (next == '/') { _pos += 2; return new Token(TokenKind.TrimUpper, start, "</"); }
                _pos++;
                return new Token(TokenKind.Lss, start, "<");
            case '>':
                if (next == '=') { _pos += 2; return new Token(TokenKind.Gte, start, ">="); }
                if (next == '/') { _pos += 2; return new Token(TokenKind.TrimLower, start, ">/"); }
                _pos++;
                return new Token(TokenKind.Gtr, start, ">");
            case '"' or '\'':
                return LexQuoted(c);
            case '`':
                return LexRaw();
        }
        if (char.IsAsciiDigit(c) || (c == '.' && char.IsAsciiDigit(next))) return LexNumberOrDuration();
        if (char.IsAsciiLetter(c) || c == '_' || c == ':') return LexIdentifier();
        throw new ParseException(start, start + 1, $"unexpected character: {Describe(c)}");
    }

    private static string Describe(char c) => c == '\0' ? "end of input" : $"'{c}'";

    private void SkipSpaceAndComments()
    {
        while (_pos < input.Length)
        {
            char c = input[_pos];
            if (c is ' ' or '\t' or '\n' or '\r') { _pos++; continue; }
            if (c == '#')
            {
                while (_pos < input.Length && input[_pos] != '\n') _pos++;
                continue;
            }
            break;
        }
    }

    private Token LexIdentifier()
    {
        int start = _pos;
        bool colon = false;
        while (_pos < input.Length && (char.IsAsciiLetterOrDigit(input[_pos]) || input[_pos] is '_' or ':'))
        {
            colon |= input[_pos] == ':';
            _pos++;
        }
        string word = input[start.._pos];
        if (colon) return new Token(TokenKind.MetricIdentifier, start, word);
        if (word.Equals("inf", StringComparison.OrdinalIgnoreCase) || word.Equals("nan", StringComparison.OrdinalIgnoreCase))
            return new Token(TokenKind.Number, start, word);
        return Tokens.TryKeyword(word, out var kind) ? new Token(kind, start, word) : new Token(TokenKind.Identifier, start, word);
    }

    private Token LexNumberOrDuration()
    {
        int start = _pos;
        if (input[_pos] == '0' && _pos + 1 < input.Length && input[_pos + 1] is 'x' or 'X')
        {
            // As Prometheus's lexer: hex digits, optionally a fraction of hex digits (which then fails to parse as a number).
            _pos += 2;
            while (_pos < input.Length && char.IsAsciiHexDigit(input[_pos])) _pos++;
            if (_pos < input.Length && input[_pos] == '.')
            {
                _pos++;
                while (_pos < input.Length && char.IsAsciiHexDigit(input[_pos])) _pos++;
            }
            return CheckNumberEnd(start);
        }
        // A duration: digits immediately followed by unit letters, possibly repeated (1h30m).
        int scan = _pos;
        while (scan < input.Length && char.IsAsciiDigit(input[scan])) scan++;
        if (scan < input.Length && input[scan] is 'y' or 'w' or 'd' or 'h' or 'm' or 's')
        {
            int end = scan;
            while (end < input.Length && char.IsAsciiLetterOrDigit(input[end])) end++;
            string text = input[start..end];
            switch (Durations.Parse(text, out _))
            {
                case DurationSyntax.Valid:
                    _pos = end;
                    return new Token(TokenKind.Duration, start, text);
                case DurationSyntax.OutOfRange:
                    throw new ParseException(start, end, Durations.OutOfRangeMessage);
                default:
                    throw new ParseException(start, end, $"bad number or duration syntax: \"{text}\"");
            }
        }
        while (_pos < input.Length && char.IsAsciiDigit(input[_pos])) _pos++;
        if (_pos < input.Length && input[_pos] == '.')
        {
            _pos++;
            while (_pos < input.Length && char.IsAsciiDigit(input[_pos])) _pos++;
        }
        if (_pos < input.Length && input[_pos] is 'e' or 'E')
        {
            // As Prometheus's lexer: an exponent without digits ("1e", "1e+") is still a number token, which then fails to parse.
            _pos++;
            if (_pos < input.Length && input[_pos] is '+' or '-') _pos++;
            while (_pos < input.Length && char.IsAsciiDigit(input[_pos])) _pos++;
        }
        return CheckNumberEnd(start);
    }

    private Token CheckNumberEnd(int start)
    {
        if (_pos < input.Length && (char.IsAsciiLetterOrDigit(input[_pos]) || input[_pos] is '_' or '.'))
        {
            int end = _pos;
            while (end < input.Length && (char.IsAsciiLetterOrDigit(input[end]) || input[end] is '_' or '.')) end++;
            throw new ParseException(start, end, $"bad number or duration syntax: \"{input[start..end]}\"");
        }
        return new Token(TokenKind.Number, start, input[start.._pos]);
    }

    private Token LexRaw()
    {
        int start = _pos++;
        int close = input.IndexOf('`', _pos);
        if (close < 0) throw new ParseException(start, input.Length, "unterminated raw string");
        _pos = close + 1;
        return new Token(TokenKind.String, start, input[start.._pos]);
    }

    private Token LexQuoted(char quote)
    {
        int start = _pos++;
        while (true)
        {
            if (_pos >= input.Length || input[_pos] == '\n')
                throw new ParseException(start, _pos, "unterminated quoted string");
            char c = input[_pos];
            if (c == '\\')
            {
                _pos += 2;
                continue;
            }
            _pos++;
            if (c == quote) break;
        }
        return new Token(TokenKind.String, start, input[start.._pos]);
    }

    /// <summary>Unquotes a string token's text (Go escapes for "..." and '...', none for `...`).</summary>
    public static string Unquote(Token token)
    {
        string s = token.Text;
        char quote = s[0];
        string body = s[1..^1];
        if (quote == '`') return body;
        var sb = new StringBuilder(body.Length);
        // \x and octal escapes are bytes, as in Go: consecutive ones are read as UTF-8 (see AppendBytes).
        var bytes = new List<byte>();
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            bool byteEscape = c == '\\' && i + 1 < body.Length && body[i + 1] is 'x' or (>= '0' and <= '7');
            if (!byteEscape) AppendBytes(bytes, sb);
            if (c != '\\') { sb.Append(c); continue; }
            if (++i >= body.Length) throw Invalid(token);
            char e = body[i];
            switch (e)
            {
                case 'a': sb.Append('\a'); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'v': sb.Append('\v'); break;
                case '\\': sb.Append('\\'); break;
                case '"' or '\'':
                    if (e != quote) throw Invalid(token);
                    sb.Append(e);
                    break;
                case 'x': bytes.Add((byte)Hex(body, ref i, 2, token)); break;
                case 'u': sb.Append(CodePoint(Hex(body, ref i, 4, token), token)); break;
                case 'U': sb.Append(CodePoint(Hex(body, ref i, 8, token), token)); break;
                case >= '0' and <= '7':
                    if (i + 2 >= body.Length || body[i + 1] is < '0' or > '7' || body[i + 2] is < '0' or > '7') throw Invalid(token);
                    int octal = (e - '0') * 64 + (body[i + 1] - '0') * 8 + (body[i + 2] - '0');
                    if (octal > 255) throw InvalidCodePoint(token);
                    bytes.Add((byte)octal);
                    i += 2;
                    break;
                default: throw Invalid(token);
            }
        }
        AppendBytes(bytes, sb);
        return sb.ToString();
    }

    /// <summary>
    /// Appends escaped bytes read as UTF-8; a byte that is not part of a valid sequence becomes the lone surrogate
    /// U+DC00 + byte (Python's "surrogateescape"), so that <see cref="GoQuote"/> can print it back as <c>\x..</c>.
    /// </summary>
    private static void AppendBytes(List<byte> bytes, StringBuilder sb)
    {
        if (bytes.Count == 0) return;
        var span = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(bytes);
        while (span.Length > 0)
        {
            if (System.Text.Rune.DecodeFromUtf8(span, out var rune, out int consumed) == System.Buffers.OperationStatus.Done)
            {
                sb.Append(rune.ToString());
                span = span[consumed..];
            }
            else
            {
                sb.Append((char)(0xDC00 + span[0]));
                span = span[1..];
            }
        }
        bytes.Clear();
    }

    /// <summary>A string quoted as Go's <c>%q</c> prints the common cases: quotes and backslashes escaped, invalid UTF-8 bytes as <c>\x..</c>.</summary>
    public static string GoQuote(string s)
    {
        var sb = new StringBuilder(s.Length + 2).Append('"');
        foreach (char c in s)
        {
            if (c is '"' or '\\') sb.Append('\\').Append(c);
            else if (c is >= '\uDC80' and <= '\uDCFF') sb.Append("\\x").Append(((int)c - 0xDC00).ToString("x2", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }

    private static uint Hex(string body, ref int i, int digits, Token token)
    {
        if (i + digits >= body.Length) throw Invalid(token);
        if (!uint.TryParse(body.AsSpan(i + 1, digits), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out uint v)) throw Invalid(token);
        i += digits;
        return v;
    }

    /// <summary>A <c>\u</c> or <c>\U</c> escape's character: a Unicode scalar value (no surrogate, at most U+10FFFF), as Go requires.</summary>
    private static string CodePoint(uint v, Token token) =>
        v > 0x10FFFF || v is >= 0xD800 and <= 0xDFFF ? throw InvalidCodePoint(token) : char.ConvertFromUtf32((int)v);

    private static ParseException InvalidCodePoint(Token token) =>
        new(token.Pos, token.Pos + token.Text.Length, "escape sequence is an invalid Unicode code point");

    private static ParseException Invalid(Token token) =>
        new(token.Pos, token.Pos + token.Text.Length, $"invalid syntax in string {token.Text}");

    /// <summary>The value of a number token as Prometheus reads it (see <see cref="NumberLiterals"/>); a parse error otherwise.</summary>
    public static double ParseNumber(Token token) =>
        NumberLiterals.TryParse(token.Text, out double value, out string? error)
            ? value
            : throw new ParseException(token.Pos, token.Pos + token.Text.Length, error!);
}
