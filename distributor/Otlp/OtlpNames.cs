using System.Text;
using Amphora.Model;

namespace Amphora.Distributor.Otlp;

/// <summary>The kind of Prometheus metric an OTLP metric becomes; it decides the type suffix of its name.</summary>
public enum OtlpMetricKind { Gauge, MonotonicCounter, NonMonotonicCounter, Histogram, Summary }

/// <summary>
/// OTLP names to Prometheus names, following the rules Prometheus 3 documents for its OTLP receiver (and the OpenTelemetry
/// specification's Prometheus compatibility section): a metric name is split into tokens of <c>[a-zA-Z0-9:]</c>, the unit's
/// Prometheus word is added unless it is already a token (<c>s</c> → <c>seconds</c>, <c>By</c> → <c>bytes</c>, <c>By/s</c> →
/// <c>bytes_per_second</c>; units in braces such as <c>{request}</c> add nothing), <c>total</c> ends a monotonic counter and
/// <c>ratio</c> a gauge of unit <c>1</c>, the tokens are joined with <c>_</c>, and a leading digit gets a <c>_</c> prefix.
/// Pure and thread-safe.
/// </summary>
public static class OtlpNames
{
    private static readonly Dictionary<string, string> Units = new(StringComparer.Ordinal)
    {
        ["d"] = "days", ["h"] = "hours", ["min"] = "minutes", ["s"] = "seconds", ["ms"] = "milliseconds", ["us"] = "microseconds",
        ["ns"] = "nanoseconds",
        ["By"] = "bytes", ["KiBy"] = "kibibytes", ["MiBy"] = "mebibytes", ["GiBy"] = "gibibytes", ["TiBy"] = "tibibytes",
        ["KBy"] = "kilobytes", ["MBy"] = "megabytes", ["GBy"] = "gigabytes", ["TBy"] = "terabytes",
        ["m"] = "meters", ["V"] = "volts", ["A"] = "amperes", ["J"] = "joules", ["W"] = "watts", ["g"] = "grams",
        ["Cel"] = "celsius", ["Hz"] = "hertz", ["1"] = "", ["%"] = "percent",
    };

    private static readonly Dictionary<string, string> PerUnits = new(StringComparer.Ordinal)
    {
        ["s"] = "second", ["m"] = "minute", ["h"] = "hour", ["d"] = "day", ["w"] = "week", ["mo"] = "month", ["y"] = "year",
    };

    /// <summary>The Prometheus metric name of an OTLP metric (without <c>_bucket</c>, <c>_sum</c>, <c>_count</c>).</summary>
    public static string MetricName(string name, string unit, OtlpMetricKind kind, OtlpOptions options)
    {
        return options.TranslationStrategy switch
        {
            OtlpTranslationStrategy.UnderscoreEscapingWithSuffixes => NormalizedName(name, unit, kind),
            OtlpTranslationStrategy.UnderscoreEscapingWithoutSuffixes => EscapedName(name),
            OtlpTranslationStrategy.NoUTF8EscapingWithSuffixes => SuffixedName(name, unit, kind),
            _ => name,
        };
    }

    /// <summary>The Prometheus unit word of an OTLP unit (<c>s</c> → <c>seconds</c>, <c>By/s</c> → <c>bytes_per_second</c>), or "".</summary>
    public static string PrometheusUnit(string unit)
    {
        var (main, per) = UnitWords(unit);
        if (per.Length == 0) return main;
        return main.Length == 0 ? "per_" + per : main + "_per_" + per;
    }

    /// <summary>
    /// A label name from an attribute key: characters outside <c>[a-zA-Z0-9_]</c> become <c>_</c>, a leading digit gets the
    /// prefix <c>key_</c> and a single leading <c>_</c> the prefix <c>key</c>. Kept as it is when names are not escaped.
    /// </summary>
    public static string LabelName(string key, OtlpOptions options)
    {
        if (!options.EscapesNames || key.Length == 0) return key;
        var sb = new StringBuilder(key.Length + 4);
        foreach (var rune in key.EnumerateRunes())
            sb.Append(rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value == '_') ? (char)rune.Value : '_');
        string s = sb.ToString();
        if (char.IsAsciiDigit(s[0])) return "key_" + s;
        if (s[0] == '_' && !s.StartsWith("__", StringComparison.Ordinal)) return "key" + s;
        return s;
    }

    private static string NormalizedName(string name, string unit, OtlpMetricKind kind)
    {
        var tokens = Tokens(name, keepColon: true);
        var (main, per) = UnitWords(unit);
        if (main.Length > 0 && !tokens.Contains(main)) tokens.Add(main);
        if (per.Length > 0 && !tokens.Contains(per))
        {
            tokens.Add("per");
            tokens.Add(per);
        }
        if (kind == OtlpMetricKind.MonotonicCounter)
        {
            tokens.RemoveAll(t => t == "total");
            tokens.Add("total");
        }
        if (unit == "1" && kind == OtlpMetricKind.Gauge)
        {
            tokens.RemoveAll(t => t == "ratio");
            tokens.Add("ratio");
        }
        return DigitPrefixed(string.Join('_', tokens));
    }

    private static string EscapedName(string name)
    {
        var sb = new StringBuilder(name.Length);
        bool pendingUnderscore = false;
        foreach (var rune in name.EnumerateRunes())
        {
            bool valid = rune.IsAscii && (char.IsAsciiLetterOrDigit((char)rune.Value) || rune.Value is ':' or '_');
            if (!valid)
            {
                pendingUnderscore = sb.Length > 0;
                continue;
            }
            if (pendingUnderscore) sb.Append('_');
            pendingUnderscore = false;
            sb.Append((char)rune.Value);
        }
        return DigitPrefixed(sb.ToString());
    }

    private static string SuffixedName(string name, string unit, OtlpMetricKind kind)
    {
        string result = name;
        string unitWord = PrometheusUnit(unit);
        if (unitWord.Length > 0 && !result.Contains(unitWord, StringComparison.Ordinal)) result += "_" + unitWord;
        if (kind == OtlpMetricKind.MonotonicCounter && !result.EndsWith("_total", StringComparison.Ordinal)) result += "_total";
        if (unit == "1" && kind == OtlpMetricKind.Gauge && !result.EndsWith("_ratio", StringComparison.Ordinal)) result += "_ratio";
        return result;
    }

    /// <summary>The main and per-unit words of a unit; annotations (<c>{…}</c>) and blank parts give "".</summary>
    private static (string Main, string Per) UnitWords(string unit)
    {
        int slash = unit.IndexOf('/');
        string main = (slash < 0 ? unit : unit[..slash]).Trim();
        string per = slash < 0 ? "" : unit[(slash + 1)..].Trim();
        string mainWord = main.Length == 0 || main.AsSpan().IndexOfAny('{', '}') >= 0 ? "" : CleanUnit(Units.GetValueOrDefault(main, main));
        string perWord = per.Length == 0 || per.AsSpan().IndexOfAny('{', '}') >= 0 ? "" : CleanUnit(PerUnits.GetValueOrDefault(per, per));
        return (mainWord, perWord);
    }

    private static string CleanUnit(string word) => string.Join('_', Tokens(word, keepColon: false));

    /// <summary>Runs of <c>[a-zA-Z0-9]</c> (and <c>:</c> when <paramref name="keepColon"/>); everything else separates.</summary>
    private static List<string> Tokens(string text, bool keepColon)
    {
        var tokens = new List<string>();
        int start = -1;
        for (int i = 0; i <= text.Length; i++)
        {
            bool valid = i < text.Length && (char.IsAsciiLetterOrDigit(text[i]) || (keepColon && text[i] == ':'));
            if (valid && start < 0) start = i;
            else if (!valid && start >= 0)
            {
                tokens.Add(text[start..i]);
                start = -1;
            }
        }
        return tokens;
    }

    private static string DigitPrefixed(string name) => name.Length > 0 && char.IsAsciiDigit(name[0]) ? "_" + name : name;

    /// <summary>A bound or quantile as Prometheus writes <c>le</c> and <c>quantile</c>: 0.005, 1, 2.5, +Inf.</summary>
    public static string FormatFloat(double v) => FloatText.Format(v);
}
