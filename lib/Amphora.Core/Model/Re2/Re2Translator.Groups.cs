namespace Amphora.Model;

internal sealed partial class Re2Translator
{
    /// <summary>
    /// <c>(</c>, <c>(?:</c>, <c>(?P&lt;name&gt;</c> and <c>(?&lt;name&gt;</c>, <c>(?flags)</c> and <c>(?flags:</c>. Anything else after
    /// <c>(?</c> (lookaround, atomic groups, comments, named backreferences) is "invalid or unsupported Perl syntax".
    /// </summary>
    private void OpenGroup()
    {
        int start = _i;
        if (_i + 1 >= _p.Length || _p[_i + 1] != '?')
        {
            _i++;
            Push(_frame.Flags, capture: true, name: null);
            return;
        }
        bool pythonName = _i + 3 < _p.Length && _p[_i + 2] == 'P' && _p[_i + 3] == '<';
        bool perlName = _i + 3 < _p.Length && _p[_i + 2] == '<' && _p[_i + 3] is not ('=' or '!');
        if (pythonName || perlName)
        {
            int nameStart = _i + (pythonName ? 4 : 3);
            int end = _p.IndexOf('>', nameStart);
            if (end < 0) throw new Re2SyntaxException(Re2ErrorCode.InvalidNamedCapture, _p[start..]);
            string name = _p[nameStart..end];
            if (name.Length == 0 || !name.All(c => char.IsAsciiLetterOrDigit(c) || c == '_'))
                throw new Re2SyntaxException(Re2ErrorCode.InvalidNamedCapture, _p[start..(end + 1)]);
            // Go accepts a name twice; $name in label_replace() takes the first group of that name that matched.
            _i = end + 1;
            Push(_frame.Flags, capture: true, name);
            return;
        }
        // Flags: (?i) (?-s) (?im-sU:...) and so on; a '-' needs a flag after it.
        var flags = _frame.Flags;
        bool negate = false, sawFlag = false;
        int j = _i + 2;
        while (j < _p.Length)
        {
            char c = _p[j++];
            Flags? flag = c switch { 'i' => Flags.FoldCase, 'm' => Flags.MultiLine, 's' => Flags.DotNewline, 'U' => Flags.NonGreedy, _ => null };
            if (flag is { } f)
            {
                flags = negate ? flags & ~f : flags | f;
                sawFlag = true;
                continue;
            }
            if (c == '-' && !negate)
            {
                negate = true;
                sawFlag = false;
                continue;
            }
            if (c is ':' or ')' && !(negate && !sawFlag))
            {
                _i = j;
                if (c == ':') Push(flags, capture: false, name: null);
                else _frame.Flags = flags;
                return;
            }
            break;
        }
        throw new Re2SyntaxException(Re2ErrorCode.InvalidPerlOp, _p[start..j]);
    }

    private void Push(Flags flags, bool capture, string? name)
    {
        if (_open.Count >= Re2Limits.MaxNestingDepth) throw NestedTooDeeply();
        if (capture) _names.Add(name);
        _open.Push(_frame);
        _frame = new Frame { Flags = flags, OutputStart = _out.Length };
        _out.Append(capture ? "(" : "(?:");
    }

    /// <summary><c>)</c>: the group becomes the atom of the enclosing one; its flags end with it.</summary>
    private void CloseGroup()
    {
        if (_open.Count == 0) throw new Re2SyntaxException(Re2ErrorCode.UnexpectedParen, _p);
        _i++;
        _out.Append(')');
        var closed = _frame;
        _frame = _open.Pop();
        _frame.AtomStart = closed.OutputStart;
        _frame.AtomWeight = closed.MaxWeight;
        _frame.AtomQuantified = false;
        _frame.AtomNeedsWrap = false;
        _frame.AtomWraps = 0;
        _frame.MaxWeight = Math.Max(_frame.MaxWeight, closed.MaxWeight);
    }
}
