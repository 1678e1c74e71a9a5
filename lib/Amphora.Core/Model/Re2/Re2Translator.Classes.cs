namespace Amphora.Model;

internal sealed partial class Re2Translator
{
    private static readonly Dictionary<string, CodePointSet> Posix = new(StringComparer.Ordinal)
    {
        ["alnum"] = CodePointSet.Of(('0', '9'), ('A', 'Z'), ('a', 'z')),
        ["alpha"] = CodePointSet.Of(('A', 'Z'), ('a', 'z')),
        ["ascii"] = CodePointSet.Of((0, 0x7F)),
        ["blank"] = CodePointSet.Of(('\t', '\t'), (' ', ' ')),
        ["cntrl"] = CodePointSet.Of((0, 0x1F), (0x7F, 0x7F)),
        ["digit"] = CodePointSet.Of(('0', '9')),
        ["graph"] = CodePointSet.Of(('!', '~')),
        ["lower"] = CodePointSet.Of(('a', 'z')),
        ["print"] = CodePointSet.Of((' ', '~')),
        ["punct"] = CodePointSet.Of(('!', '/'), (':', '@'), ('[', '`'), ('{', '~')),
        ["space"] = CodePointSet.Of(('\t', '\r'), (' ', ' ')),
        ["upper"] = CodePointSet.Of(('A', 'Z')),
        ["word"] = CodePointSet.Of(('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')),
        ["xdigit"] = CodePointSet.Of(('0', '9'), ('A', 'F'), ('a', 'f')),
    };

    /// <summary>RE2's Perl classes are ASCII-only (.NET's <c>\d \s \w</c> are Unicode), and <c>\s</c> has no <c>\v</c>.</summary>
    private static readonly Dictionary<char, CodePointSet> Perl = new()
    {
        ['d'] = CodePointSet.Of(('0', '9')),
        ['s'] = CodePointSet.Of(('\t', '\n'), ('\f', '\r'), (' ', ' ')),
        ['w'] = CodePointSet.Of(('0', '9'), ('A', 'Z'), ('a', 'z'), ('_', '_')),
    };

    /// <summary>
    /// A bracketed class at <c>[</c>: ranges, escapes, <c>[:alpha:]</c> and <c>[:^alpha:]</c>, <c>\pN</c>, <c>\d</c>...; a
    /// leading <c>]</c> or <c>-</c> is literal, as is <c>-</c> before the closing bracket. Under <c>(?i)</c> every member
    /// brings its case variants; <c>[^...]</c> negates the result (newline included, as RE2's Perl mode).
    /// </summary>
    private CodePointSet ParseClass()
    {
        int classStart = _i;
        _i++;
        bool negated = false;
        if (_i < _p.Length && _p[_i] == '^')
        {
            negated = true;
            _i++;
        }
        var set = new CodePointSet();
        bool first = true;
        while (_i >= _p.Length || _p[_i] != ']' || first)
        {
            if (_i >= _p.Length) throw new Re2SyntaxException(Re2ErrorCode.MissingBracket, _p[classStart..]);
            first = false;
            if (_p[_i] == '[' && _i + 1 < _p.Length && _p[_i + 1] == ':' && TryParsePosixClass(set)) continue;
            if (_p[_i] == '\\' && _i + 1 < _p.Length && _p[_i + 1] is 'p' or 'P')
            {
                set.Add(ParseUnicodeClass());
                continue;
            }
            if (_p[_i] == '\\' && _i + 1 < _p.Length && _p[_i + 1] is 'd' or 'D' or 's' or 'S' or 'w' or 'W')
            {
                set.Add(ParsePerlClass());
                continue;
            }
            int rangeStart = _i;
            int lo = ParseClassChar(classStart), hi = lo;
            if (_i + 1 < _p.Length && _p[_i] == '-' && _p[_i + 1] != ']')
            {
                _i++;
                hi = ParseClassChar(classStart);
                if (hi < lo) throw new Re2SyntaxException(Re2ErrorCode.InvalidCharRange, _p[rangeStart.._i]);
            }
            set.Add(lo, hi);
        }
        _i++;
        if (Has(Flags.FoldCase)) set.AddCaseVariants();
        if (negated) set.Negate();
        return set;
    }

    private int ParseClassChar(int classStart)
    {
        if (_i >= _p.Length) throw new Re2SyntaxException(Re2ErrorCode.MissingBracket, _p[classStart..]);
        return _p[_i] == '\\' ? ParseEscape() : NextRune();
    }

    /// <summary><c>[:name:]</c> or <c>[:^name:]</c>; false (and nothing read) when no <c>:]</c> follows, so <c>[</c> is literal.</summary>
    private bool TryParsePosixClass(CodePointSet into)
    {
        int end = _p.IndexOf(":]", _i + 2, StringComparison.Ordinal);
        if (end < 0) return false;
        string text = _p[_i..(end + 2)];
        string name = _p[(_i + 2)..end];
        bool negated = name.StartsWith('^');
        if (!Posix.TryGetValue(negated ? name[1..] : name, out var group))
            throw new Re2SyntaxException(Re2ErrorCode.InvalidCharRange, text);
        _i = end + 2;
        AddGroup(into, group, negated);
        return true;
    }

    /// <summary><c>\d \D \s \S \w \W</c>.</summary>
    private CodePointSet ParsePerlClass()
    {
        char c = _p[_i + 1];
        _i += 2;
        var set = new CodePointSet();
        AddGroup(set, Perl[char.ToLowerInvariant(c)], negated: char.IsAsciiLetterUpper(c));
        return set;
    }

    /// <summary><c>\pL</c>, <c>\p{Greek}</c>, <c>\PL</c>, <c>\p{^Greek}</c> (negated): general categories, scripts and <c>Any</c>.</summary>
    private CodePointSet ParseUnicodeClass()
    {
        int start = _i;
        bool negated = _p[_i + 1] == 'P';
        _i += 2;
        string name;
        if (_i < _p.Length && _p[_i] == '{')
        {
            int end = _p.IndexOf('}', _i);
            if (end < 0) throw new Re2SyntaxException(Re2ErrorCode.InvalidCharRange, _p[start..]);
            name = _p[(_i + 1)..end];
            _i = end + 1;
        }
        else
        {
            int nameStart = _i;
            if (_i < _p.Length) NextRune();
            name = _p[nameStart.._i];
        }
        if (name.StartsWith('^'))
        {
            negated = !negated;
            name = name[1..];
        }
        var group = UnicodeTables.Lookup(name) ?? throw new Re2SyntaxException(Re2ErrorCode.InvalidCharRange, _p[start.._i]);
        var set = new CodePointSet();
        AddGroup(set, group, negated);
        return set;
    }

    /// <summary>Adds a named group; a negated one is case-folded before it is negated, as RE2 does.</summary>
    private void AddGroup(CodePointSet into, CodePointSet group, bool negated)
    {
        if (!negated && !Has(Flags.FoldCase))
        {
            into.Add(group);
            return;
        }
        var copy = new CodePointSet();
        copy.Add(group);
        if (Has(Flags.FoldCase)) copy.AddCaseVariants();
        if (negated) copy.Negate();
        into.Add(copy);
    }
}
