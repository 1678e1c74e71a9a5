using System.Text;

namespace Amphora.Model;

/// <summary>
/// Translates one RE2 pattern (Go's regexp/syntax with Perl flags, what Prometheus accepts) into .NET syntax for the
/// non-backtracking engine, refusing what RE2 refuses with RE2's messages. One pass over the pattern with an explicit stack
/// of groups, so no nesting can exhaust the thread's stack. The output uses only what both engines mean the same way:
/// literals as escapes, classes spelled out as code point ranges, plain and non-capturing groups, greedy and lazy
/// repetition, and the anchors; RE2's flags (<c>i m s U</c>) are applied here rather than passed on.
/// </summary>
internal sealed partial class Re2Translator
{
    [Flags]
    private enum Flags { None = 0, FoldCase = 1, MultiLine = 2, DotNewline = 4, NonGreedy = 8 }

    /// <summary>One open group: the flags in effect inside it and the last atom written in it (what a repetition applies to).</summary>
    private sealed class Frame
    {
        public Flags Flags;
        public int OutputStart;
        /// <summary>The largest product of nested counted repetitions inside the group (RE2 allows 1000).</summary>
        public int MaxWeight = 1;
        public int AtomStart = -1;
        public int AtomWeight;
        public bool AtomQuantified;
        public bool AtomNeedsWrap;
        public int AtomWraps;
    }

    private readonly string _p;
    private readonly StringBuilder _out;
    private readonly List<string?> _names = [null];
    private readonly Stack<Frame> _open = new();
    private Frame _frame;
    private int _i;
    /// <summary>Where the previous item began when it was a repetition operator (RE2 refuses <c>a**</c>), else -1.</summary>
    private int _lastRepeat = -1;

    private Re2Translator(string pattern, bool dotMatchesNewline)
    {
        _p = pattern;
        _out = new StringBuilder(pattern.Length + 16);
        _frame = new Frame { Flags = dotMatchesNewline ? Flags.DotNewline : Flags.None };
    }

    /// <summary>The .NET pattern (not anchored) and the name of every capture group by number (index 0 is the whole match).</summary>
    public static (string Pattern, IReadOnlyList<string?> GroupNames) Translate(string pattern, bool dotMatchesNewline)
    {
        if (pattern.Length > Re2Limits.MaxPatternLength)
            throw new Re2SyntaxException(Re2ErrorCode.Large,
                $"the pattern is {pattern.Length} characters long, more than the limit of {Re2Limits.MaxPatternLength}", isLimit: true);
        var t = new Re2Translator(pattern, dotMatchesNewline);
        t.Run();
        return (t._out.ToString(), t._names);
    }

    private void Run()
    {
        while (_i < _p.Length)
        {
            int start = _i;
            bool repeat = false;
            switch (_p[_i])
            {
                case '(':
                    OpenGroup();
                    break;
                case ')':
                    CloseGroup();
                    break;
                case '|':
                    _out.Append('|');
                    _frame.AtomStart = -1;
                    _i++;
                    break;
                case '^':
                    BeginAtom(needsWrap: true);
                    _out.Append(Has(Flags.MultiLine) ? "(?m:^)" : "\\A");
                    _i++;
                    break;
                case '$':
                    BeginAtom(needsWrap: true);
                    _out.Append(Has(Flags.MultiLine) ? "(?m:$)" : "\\z");
                    _i++;
                    break;
                case '.':
                    BeginAtom();
                    _out.Append(Has(Flags.DotNewline) ? AnyChar : AnyCharButNewline);
                    _i++;
                    break;
                case '[':
                    WriteSet(ParseClass());
                    break;
                case '*' or '+' or '?':
                    _i++;
                    Repeat(start, _p[start] == '*' ? 0 : _p[start] == '+' ? 1 : 0, _p[start] == '?' ? 1 : -1, counted: false);
                    repeat = true;
                    break;
                case '{':
                    if (TryParseRepeat(out int min, out int max))
                    {
                        if (min < 0 || min > Re2Limits.MaxRepeat || max > Re2Limits.MaxRepeat || (max >= 0 && min > max))
                            throw new Re2SyntaxException(Re2ErrorCode.InvalidRepeatSize, _p[start.._i]);
                        Repeat(start, min, max, counted: true);
                        repeat = true;
                    }
                    else
                    {
                        Literal('{');
                        _i++;
                    }
                    break;
                case '\\':
                    Escape();
                    break;
                default:
                    Literal(NextRune());
                    break;
            }
            _lastRepeat = repeat ? start : -1;
            if (_out.Length > Re2Limits.MaxTranslatedLength)
                throw new Re2SyntaxException(Re2ErrorCode.Large,
                    $"spelled out for the matching engine it exceeds {Re2Limits.MaxTranslatedLength} characters", isLimit: true);
        }
        if (_open.Count > 0) throw new Re2SyntaxException(Re2ErrorCode.MissingParen, _p);
    }

    private bool Has(Flags flag) => (_frame.Flags & flag) != 0;

    /// <summary>Starts a new atom at the end of the output: what a following repetition operator applies to.</summary>
    private void BeginAtom(bool needsWrap = false)
    {
        _frame.AtomStart = _out.Length;
        _frame.AtomWeight = 1;
        _frame.AtomQuantified = false;
        _frame.AtomNeedsWrap = needsWrap;
        _frame.AtomWraps = 0;
    }

    /// <summary>
    /// Applies <c>*</c>, <c>+</c>, <c>?</c> or <c>{min,max}</c> (max -1: unbounded) whose text began at <paramref name="start"/>.
    /// A following <c>?</c> makes it lazy (greedy under <c>(?U)</c>). Counted repetitions nested inside each other may not
    /// multiply beyond <see cref="Re2Limits.MaxRepeat"/>, as in RE2.
    /// </summary>
    private void Repeat(int start, int min, int max, bool counted)
    {
        bool lazy = Has(Flags.NonGreedy);
        if (_i < _p.Length && _p[_i] == '?')
        {
            lazy = !lazy;
            _i++;
        }
        if (_lastRepeat >= 0) throw new Re2SyntaxException(Re2ErrorCode.InvalidRepeatOp, _p[_lastRepeat.._i]);
        var f = _frame;
        if (f.AtomStart < 0) throw new Re2SyntaxException(Re2ErrorCode.MissingRepeatArgument, _p[start.._i]);
        if (counted)
        {
            int times = max == 0 ? 0 : max < 0 ? min : max;
            if ((min >= 2 || max >= 2) && times > 0 && (long)times * f.AtomWeight > Re2Limits.MaxRepeat)
                throw new Re2SyntaxException(Re2ErrorCode.InvalidRepeatSize, _p[start.._i]);
            f.AtomWeight = max == 0 ? 1 : times == 0 ? f.AtomWeight : times * f.AtomWeight;
            f.MaxWeight = Math.Max(f.MaxWeight, f.AtomWeight);
        }
        if (f.AtomQuantified || f.AtomNeedsWrap)
        {
            // A repetition of a repetition (only reachable through an empty item such as (?i) between them) or of an anchor.
            if (++f.AtomWraps > Re2Limits.MaxNestingDepth) throw NestedTooDeeply();
            _out.Insert(f.AtomStart, "(?:").Append(')');
        }
        if (!counted) _out.Append(_p[start]);
        else if (max == min) _out.Append('{').Append(min).Append('}');
        else if (max < 0) _out.Append('{').Append(min).Append(",}");
        else _out.Append('{').Append(min).Append(',').Append(max).Append('}');
        if (lazy) _out.Append('?');
        f.AtomQuantified = true;
        f.AtomNeedsWrap = false;
    }

    /// <summary>RE2's <c>{n}</c>, <c>{n,}</c> or <c>{n,m}</c> at the current position; anything else makes <c>{</c> a literal.</summary>
    private bool TryParseRepeat(out int min, out int max)
    {
        min = max = 0;
        int j = _i + 1;
        if (!TryParseCount(ref j, out min)) return false;
        if (j >= _p.Length) return false;
        if (_p[j] != ',') max = min;
        else
        {
            j++;
            if (j >= _p.Length) return false;
            if (_p[j] == '}') max = -1;
            else if (!TryParseCount(ref j, out max)) return false;
            else if (max < 0) min = -1;
        }
        if (j >= _p.Length || _p[j] != '}') return false;
        _i = j + 1;
        return true;
    }

    /// <summary>Decimal digits without a leading zero; -1 when the number is absurdly large (then "invalid repeat count").</summary>
    private bool TryParseCount(ref int j, out int n)
    {
        n = 0;
        if (j >= _p.Length || !char.IsAsciiDigit(_p[j])) return false;
        if (_p[j] == '0' && j + 1 < _p.Length && char.IsAsciiDigit(_p[j + 1])) return false;
        for (; j < _p.Length && char.IsAsciiDigit(_p[j]); j++)
            n = n is < 0 or >= 100_000_000 ? -1 : n * 10 + (_p[j] - '0');
        return true;
    }

    private Re2SyntaxException NestedTooDeeply() =>
        new(Re2ErrorCode.NestingDepth, $"groups and repetitions nest more than {Re2Limits.MaxNestingDepth} levels deep", isLimit: true);
}
