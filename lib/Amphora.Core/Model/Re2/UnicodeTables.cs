using System.Globalization;
using System.Text;

namespace Amphora.Model;

/// <summary>
/// The Unicode classes RE2 names (<c>\pL</c>, <c>\p{Greek}</c>, <c>\p{Any}</c>) and its simple case folding, as code point
/// sets. General categories come from .NET's own Unicode data; scripts and case orbits from the embedded tables
/// <c>unicode-scripts.txt</c> and <c>unicode-case-orbits.txt</c> (generated from Go's unicode package, Unicode 13). Each
/// table is built once, on first use.
/// </summary>
internal static class UnicodeTables
{
    private static readonly Lazy<Dictionary<string, CodePointSet>> Categories = new(BuildCategories);
    private static readonly Lazy<Dictionary<string, CodePointSet>> Scripts = new(LoadScripts);
    private static readonly Lazy<List<(int CodePoint, int[] Others)>> Orbits = new(BuildCaseOrbits);

    /// <summary>The set for an RE2 Unicode class name (case-sensitive, as RE2), or null when RE2 knows no such name.</summary>
    public static CodePointSet? Lookup(string name)
    {
        if (name == "Any") return CodePointSet.Of((0, CodePointSet.MaxCodePoint));
        if (Categories.Value.TryGetValue(name, out var category)) return category;
        return Scripts.Value.TryGetValue(name, out var script) ? script : null;
    }

    /// <summary>Every code point that has case variants, with its variants (the others of its simple case-folding orbit).</summary>
    public static IReadOnlyList<(int CodePoint, int[] Others)> CaseOrbits => Orbits.Value;

    /// <summary>The case variants of one code point (empty when it has none).</summary>
    public static int[] CaseVariants(int c)
    {
        var orbits = Orbits.Value;
        int lo = 0, hi = orbits.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (orbits[mid].CodePoint < c) lo = mid + 1;
            else if (orbits[mid].CodePoint > c) hi = mid - 1;
            else return orbits[mid].Others;
        }
        return [];
    }

    private static Dictionary<string, CodePointSet> BuildCategories()
    {
        var byCategory = new Dictionary<UnicodeCategory, CodePointSet>();
        int start = 0;
        var current = CharUnicodeInfo.GetUnicodeCategory(0);
        for (int c = 1; c <= CodePointSet.MaxCodePoint + 1; c++)
        {
            var category = c <= CodePointSet.MaxCodePoint ? CharUnicodeInfo.GetUnicodeCategory(c) : (UnicodeCategory)(-1);
            if (category == current) continue;
            if (!byCategory.TryGetValue(current, out var set)) byCategory[current] = set = new CodePointSet();
            set.Add(start, c - 1);
            start = c;
            current = category;
        }
        var names = new Dictionary<string, UnicodeCategory[]>(StringComparer.Ordinal)
        {
            ["Lu"] = [UnicodeCategory.UppercaseLetter], ["Ll"] = [UnicodeCategory.LowercaseLetter],
            ["Lt"] = [UnicodeCategory.TitlecaseLetter], ["Lm"] = [UnicodeCategory.ModifierLetter],
            ["Lo"] = [UnicodeCategory.OtherLetter], ["Mn"] = [UnicodeCategory.NonSpacingMark],
            ["Mc"] = [UnicodeCategory.SpacingCombiningMark], ["Me"] = [UnicodeCategory.EnclosingMark],
            ["Nd"] = [UnicodeCategory.DecimalDigitNumber], ["Nl"] = [UnicodeCategory.LetterNumber],
            ["No"] = [UnicodeCategory.OtherNumber], ["Pc"] = [UnicodeCategory.ConnectorPunctuation],
            ["Pd"] = [UnicodeCategory.DashPunctuation], ["Ps"] = [UnicodeCategory.OpenPunctuation],
            ["Pe"] = [UnicodeCategory.ClosePunctuation], ["Pi"] = [UnicodeCategory.InitialQuotePunctuation],
            ["Pf"] = [UnicodeCategory.FinalQuotePunctuation], ["Po"] = [UnicodeCategory.OtherPunctuation],
            ["Sm"] = [UnicodeCategory.MathSymbol], ["Sc"] = [UnicodeCategory.CurrencySymbol],
            ["Sk"] = [UnicodeCategory.ModifierSymbol], ["So"] = [UnicodeCategory.OtherSymbol],
            ["Zs"] = [UnicodeCategory.SpaceSeparator], ["Zl"] = [UnicodeCategory.LineSeparator],
            ["Zp"] = [UnicodeCategory.ParagraphSeparator], ["Cc"] = [UnicodeCategory.Control],
            ["Cf"] = [UnicodeCategory.Format], ["Co"] = [UnicodeCategory.PrivateUse], ["Cs"] = [UnicodeCategory.Surrogate],
        };
        // The one-letter groups; as in Go's unicode package, C is Cc, Cf, Co and Cs (unassigned code points are in none).
        foreach (char group in "LMNPSZ")
            names[group.ToString()] = names.Where(n => n.Key.Length == 2 && n.Key[0] == group).SelectMany(n => n.Value).ToArray();
        names["C"] = [UnicodeCategory.Control, UnicodeCategory.Format, UnicodeCategory.PrivateUse, UnicodeCategory.Surrogate];
        var result = new Dictionary<string, CodePointSet>(StringComparer.Ordinal);
        foreach (var (name, categories) in names)
        {
            var set = new CodePointSet();
            foreach (var category in categories)
                if (byCategory.TryGetValue(category, out var part)) set.Add(part);
            result[name] = set.Frozen();
        }
        return result;
    }

    /// <summary>Reads the embedded script table: one line per script, <c>Name lo-hi lo hi...</c> in hexadecimal.</summary>
    private static Dictionary<string, CodePointSet> LoadScripts()
    {
        var result = new Dictionary<string, CodePointSet>(StringComparer.Ordinal);
        foreach (var line in ReadTable("unicode-scripts.txt"))
        {
            var parts = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            var set = new CodePointSet();
            foreach (var range in parts.Skip(1))
            {
                int dash = range.IndexOf('-');
                int lo = Hex(dash < 0 ? range : range[..dash]);
                set.Add(lo, dash < 0 ? lo : Hex(range[(dash + 1)..]));
            }
            result[parts[0]] = set.Frozen();
        }
        return result;
    }

    /// <summary>
    /// Simple case-folding orbits (k, K and the Kelvin sign; s, S and long s; ...) from the embedded table
    /// <c>unicode-case-orbits.txt</c>, one orbit per line. .NET's own case mappings are not used: with invariant globalization
    /// they leave out the mappings between non-ASCII and ASCII letters that RE2 folds.
    /// </summary>
    private static List<(int, int[])> BuildCaseOrbits()
    {
        var orbits = new List<(int, int[])>();
        foreach (var line in ReadTable("unicode-case-orbits.txt"))
        {
            var members = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(Hex).ToArray();
            foreach (int c in members) orbits.Add((c, members.Where(o => o != c).ToArray()));
        }
        orbits.Sort((x, y) => x.Item1.CompareTo(y.Item1));
        return orbits;
    }

    private static int Hex(string text) => int.Parse(text, NumberStyles.HexNumber, CultureInfo.InvariantCulture);

    /// <summary>The lines of an embedded table, without comments and blank lines.</summary>
    private static IEnumerable<string> ReadTable(string name)
    {
        using var stream = typeof(UnicodeTables).Assembly.GetManifestResourceStream("Amphora.Model.Re2." + name)
            ?? throw new InvalidOperationException($"the embedded Unicode table {name} is missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
            if (line.Length > 0 && line[0] != '#') yield return line;
    }
}
