using System.Text;

namespace Amphora.Model;

/// <summary>
/// A set of Unicode code points as sorted, disjoint inclusive ranges: what an RE2 character class, <c>.</c> or a case-folded
/// literal stands for. It is spelled out for .NET as a UTF-16 class plus surrogate pairs, so that one RE2 "character" is one
/// code point on .NET too (a .NET class matches one UTF-16 unit).
/// </summary>
internal sealed class CodePointSet
{
    public const int MaxCodePoint = 0x10FFFF;
    private List<(int Lo, int Hi)> _ranges = [];
    private bool _normalized = true;

    public static CodePointSet Of(params (int Lo, int Hi)[] ranges)
    {
        var set = new CodePointSet();
        foreach (var (lo, hi) in ranges) set.Add(lo, hi);
        return set.Frozen();
    }

    public IReadOnlyList<(int Lo, int Hi)> Ranges
    {
        get
        {
            Normalize();
            return _ranges;
        }
    }

    /// <summary>Normalizes now, so that a set shared between threads is never changed by a reader.</summary>
    public CodePointSet Frozen()
    {
        Normalize();
        return this;
    }

    public void Add(int lo, int hi)
    {
        if (_ranges.Count > 0 && lo <= _ranges[^1].Lo) _normalized = false;
        _ranges.Add((lo, hi));
    }

    public void Add(CodePointSet other)
    {
        foreach (var r in other.Ranges) Add(r.Lo, r.Hi);
    }

    /// <summary>Adds the complement of <paramref name="other"/> (as <c>\D</c>, <c>[:^alpha:]</c> or <c>\PL</c> inside a class).</summary>
    public void AddNegated(CodePointSet other)
    {
        var negated = new CodePointSet();
        negated.Add(other);
        negated.Negate();
        Add(negated);
    }

    public bool Contains(int c)
    {
        var ranges = Ranges;
        int lo = 0, hi = ranges.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (c < ranges[mid].Lo) hi = mid - 1;
            else if (c > ranges[mid].Hi) lo = mid + 1;
            else return true;
        }
        return false;
    }

    public void Negate()
    {
        Normalize();
        var result = new List<(int, int)>(_ranges.Count + 1);
        int next = 0;
        foreach (var (lo, hi) in _ranges)
        {
            if (lo > next) result.Add((next, lo - 1));
            next = hi + 1;
        }
        if (next <= MaxCodePoint) result.Add((next, MaxCodePoint));
        _ranges = result;
    }

    /// <summary>Adds every simple case variant of every member, as RE2 does under <c>(?i)</c>.</summary>
    public void AddCaseVariants()
    {
        var extra = new List<int>();
        foreach (var (c, orbit) in UnicodeTables.CaseOrbits)
        {
            if (!Contains(c)) continue;
            extra.AddRange(orbit);
        }
        foreach (int c in extra) Add(c, c);
    }

    private void Normalize()
    {
        if (_normalized) return;
        _ranges.Sort((a, b) => a.Lo.CompareTo(b.Lo));
        var merged = new List<(int Lo, int Hi)>(_ranges.Count);
        foreach (var r in _ranges)
        {
            if (merged.Count > 0 && r.Lo <= merged[^1].Hi + 1)
                merged[^1] = (merged[^1].Lo, Math.Max(merged[^1].Hi, r.Hi));
            else
                merged.Add(r);
        }
        _ranges = merged;
        _normalized = true;
    }

    /// <summary>
    /// Writes the set as one .NET atom that matches one code point of the set: <c>[...]</c> for the basic plane, surrogate
    /// pairs for the others (grouped with <c>(?:...|...)</c> when there are both), a class that matches nothing when empty.
    /// Surrogate code points themselves are never matched (a decoded label value holds none).
    /// </summary>
    public void WriteTo(StringBuilder sb)
    {
        var ranges = Ranges;
        var bmp = new List<(int Lo, int Hi)>();
        var astral = new List<(int Lo, int Hi)>();
        foreach (var (lo, hi) in ranges)
        {
            if (lo <= 0xFFFF)
            {
                int h = Math.Min(hi, 0xFFFF);
                if (lo < 0xD800) bmp.Add((lo, Math.Min(h, 0xD7FF)));
                if (h > 0xDFFF) bmp.Add((Math.Max(lo, 0xE000), h));
            }
            if (hi > 0xFFFF) astral.Add((Math.Max(lo, 0x10000), hi));
        }
        if (astral.Count == 0)
        {
            WriteClass(sb, bmp);
            return;
        }
        sb.Append("(?:");
        bool first = true;
        if (bmp.Count > 0)
        {
            WriteClass(sb, bmp);
            first = false;
        }
        foreach (var (lo, hi) in astral) WriteAstral(sb, lo, hi, ref first);
        sb.Append(')');
    }

    private static void WriteClass(StringBuilder sb, List<(int Lo, int Hi)> ranges)
    {
        if (ranges.Count == 0)
        {
            sb.Append("[^\\u0000-\\uFFFF]");
            return;
        }
        sb.Append('[');
        foreach (var (lo, hi) in ranges)
        {
            WriteUnit(sb, lo);
            if (hi == lo) continue;
            if (hi > lo + 1) sb.Append('-');
            WriteUnit(sb, hi);
        }
        sb.Append(']');
    }

    /// <summary>The surrogate pairs of the code points lo..hi (both above U+FFFF), as alternatives.</summary>
    private static void WriteAstral(StringBuilder sb, int lo, int hi, ref bool first)
    {
        while (lo <= hi)
        {
            int highSurrogate = 0xD800 + ((lo - 0x10000) >> 10);
            int blockEnd = 0x10000 + ((highSurrogate - 0xD800 + 1) << 10) - 1;
            if (!first) sb.Append('|');
            first = false;
            if ((lo & 0x3FF) == 0 && hi >= blockEnd)
            {
                // Whole blocks of 1,024: a range of high surrogates, any low surrogate.
                int lastFull = hi == MaxCodePoint ? hi : ((hi + 1) & ~0x3FF) - 1;
                int lastHigh = 0xD800 + ((lastFull - 0x10000) >> 10);
                WriteUnitRange(sb, highSurrogate, lastHigh);
                sb.Append("[\\uDC00-\\uDFFF]");
                lo = lastFull + 1;
                continue;
            }
            int end = Math.Min(hi, blockEnd);
            WriteUnit(sb, highSurrogate, escapeAlways: true);
            WriteUnitRange(sb, 0xDC00 + ((lo - 0x10000) & 0x3FF), 0xDC00 + ((end - 0x10000) & 0x3FF));
            lo = end + 1;
        }
    }

    private static void WriteUnitRange(StringBuilder sb, int lo, int hi)
    {
        sb.Append('[');
        WriteUnit(sb, lo, escapeAlways: true);
        if (hi != lo)
        {
            sb.Append('-');
            WriteUnit(sb, hi, escapeAlways: true);
        }
        sb.Append(']');
    }

    /// <summary>One UTF-16 unit, readable when it is an ASCII letter or digit, escaped otherwise.</summary>
    public static void WriteUnit(StringBuilder sb, int unit, bool escapeAlways = false)
    {
        if (!escapeAlways && unit < 0x80 && char.IsAsciiLetterOrDigit((char)unit)) sb.Append((char)unit);
        else sb.Append("\\u").Append(unit.ToString("X4", System.Globalization.CultureInfo.InvariantCulture));
    }
}
