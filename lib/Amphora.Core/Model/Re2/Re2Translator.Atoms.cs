using System.Text;

namespace Amphora.Model;

internal sealed partial class Re2Translator
{
    private static readonly string AnyChar = Spell(CodePointSet.Of((0, CodePointSet.MaxCodePoint)));
    private static readonly string AnyCharButNewline = Spell(CodePointSet.Of((0, 9), (11, CodePointSet.MaxCodePoint)));

    private static string Spell(CodePointSet set)
    {
        var sb = new StringBuilder();
        set.WriteTo(sb);
        return sb.ToString();
    }

    /// <summary>One code point of the pattern (a surrogate pair counts as one).</summary>
    private int NextRune()
    {
        char c = _p[_i++];
        if (char.IsHighSurrogate(c) && _i < _p.Length && char.IsLowSurrogate(_p[_i])) return char.ConvertToUtf32(c, _p[_i++]);
        return c;
    }

    /// <summary>A literal code point; under <c>(?i)</c> the class of its case variants.</summary>
    private void Literal(int c)
    {
        if (Has(Flags.FoldCase) && UnicodeTables.CaseVariants(c) is { Length: > 0 } variants)
        {
            var set = CodePointSet.Of((c, c));
            foreach (int v in variants) set.Add(v, v);
            WriteSet(set);
            return;
        }
        if (c > 0xFFFF)
        {
            BeginAtom(needsWrap: true);
            string pair = char.ConvertFromUtf32(c);
            CodePointSet.WriteUnit(_out, pair[0], escapeAlways: true);
            CodePointSet.WriteUnit(_out, pair[1], escapeAlways: true);
            return;
        }
        if (c is >= 0xD800 and <= 0xDFFF)
        {
            // A surrogate code point is in no decoded string: it matches nothing, as in RE2.
            WriteSet(new CodePointSet());
            return;
        }
        BeginAtom();
        CodePointSet.WriteUnit(_out, c);
    }

    private void WriteSet(CodePointSet set)
    {
        BeginAtom();
        set.WriteTo(_out);
    }

    /// <summary>A backslash outside a class: anchors, <c>\Q...\E</c>, Unicode and Perl classes, or an escaped code point.</summary>
    private void Escape()
    {
        if (_i + 1 >= _p.Length) throw new Re2SyntaxException(Re2ErrorCode.TrailingBackslash, "");
        char n = _p[_i + 1];
        switch (n)
        {
            case 'A' or 'z' or 'b' or 'B':
                BeginAtom(needsWrap: true);
                _out.Append('\\').Append(n);
                _i += 2;
                return;
            case 'C':
                throw new Re2SyntaxException(Re2ErrorCode.InvalidEscape, "\\C");
            case 'Q':
                _i += 2;
                int end = _p.IndexOf("\\E", _i, StringComparison.Ordinal);
                int stop = end < 0 ? _p.Length : end;
                while (_i < stop) Literal(NextRune());
                _i = end < 0 ? _p.Length : end + 2;
                return;
            case 'p' or 'P':
                WriteSet(ParseUnicodeClass());
                return;
            case 'd' or 'D' or 's' or 'S' or 'w' or 'W':
                WriteSet(ParsePerlClass());
                return;
            default:
                Literal(ParseEscape());
                return;
        }
    }

    /// <summary>
    /// An escaped code point at a backslash, as RE2 reads it in and outside classes: <c>\a \f \t \n \r \v</c>, octal
    /// <c>\0</c>..<c>\377</c> (a lone <c>\1</c>..<c>\9</c> is a backreference, unsupported), <c>\xFF</c>, <c>\x{10FFFF}</c>, and
    /// any escaped ASCII punctuation. Every other escape (<c>\Z</c>, <c>\k</c>, <c>\e</c>...) is invalid.
    /// </summary>
    private int ParseEscape()
    {
        int start = _i;
        _i++;
        if (_i >= _p.Length) throw new Re2SyntaxException(Re2ErrorCode.TrailingBackslash, "");
        int c = NextRune();
        switch (c)
        {
            case >= '1' and <= '7' when _i < _p.Length && _p[_i] is >= '0' and <= '7':
            case '0':
                int value = c - '0';
                for (int k = 1; k < 3 && _i < _p.Length && _p[_i] is >= '0' and <= '7'; k++) value = value * 8 + (_p[_i++] - '0');
                return value;
            case 'x':
                return ParseHexEscape(start);
            case 'a': return '\a';
            case 'f': return '\f';
            case 'n': return '\n';
            case 'r': return '\r';
            case 't': return '\t';
            case 'v': return '\v';
            case < 0x80 when !char.IsAsciiLetterOrDigit((char)c):
                return c;
        }
        throw new Re2SyntaxException(Re2ErrorCode.InvalidEscape, _p[start.._i]);
    }

    private int ParseHexEscape(int start)
    {
        if (_i < _p.Length && _p[_i] == '{')
        {
            _i++;
            int value = 0, digits = 0;
            while (true)
            {
                if (_i >= _p.Length) throw new Re2SyntaxException(Re2ErrorCode.InvalidEscape, _p[start.._i]);
                char d = _p[_i++];
                if (d == '}') break;
                int v = HexValue(d);
                if (v < 0) throw new Re2SyntaxException(Re2ErrorCode.InvalidEscape, _p[start.._i]);
                value = value * 16 + v;
                if (value > CodePointSet.MaxCodePoint) throw new Re2SyntaxException(Re2ErrorCode.InvalidEscape, _p[start.._i]);
                digits++;
            }
            if (digits == 0) throw new Re2SyntaxException(Re2ErrorCode.InvalidEscape, _p[start.._i]);
            return value;
        }
        int x = _i < _p.Length ? HexValue(_p[_i++]) : -1;
        int y = _i < _p.Length ? HexValue(_p[_i++]) : -1;
        if (x < 0 || y < 0) throw new Re2SyntaxException(Re2ErrorCode.InvalidEscape, _p[start..Math.Min(_i, _p.Length)]);
        return x * 16 + y;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
