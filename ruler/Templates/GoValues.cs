using System.Globalization;
using System.Text;

namespace Amphora.Ruler.Templates;

/// <summary>One sample of a template's <c>query</c> result: its labels (as a map) and value, as Prometheus's template
/// <c>sample</c>.</summary>
public sealed class QuerySample(IReadOnlyDictionary<string, string> labels, double value)
{
    public IReadOnlyDictionary<string, string> Labels { get; } = labels;
    public double Value { get; } = value;
}

/// <summary>The data an alert's label and annotation templates see: <c>.Labels</c>, <c>.ExternalLabels</c>,
/// <c>.ExternalURL</c>, <c>.Value</c> (and the same as <c>$labels</c>, <c>$externalLabels</c>, <c>$externalURL</c>,
/// <c>$value</c>).</summary>
public sealed record AlertTemplateData(Amphora.Model.Labels Metric, double Value);

/// <summary>A Go time value (what <c>toTime</c> returns); prints as Go's <c>time.Time.String()</c>.</summary>
public readonly record struct GoTime(DateTimeOffset Value)
{
    public override string ToString()
    {
        var u = Value.UtcDateTime;
        string s = u.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
        long ticks = u.Ticks % TimeSpan.TicksPerSecond;
        if (ticks != 0) s += "." + ticks.ToString("0000000", CultureInfo.InvariantCulture).TrimEnd('0');
        return s + " +0000 UTC";
    }
}

/// <summary>How Go's fmt prints and names values, and text/template's notion of truth.</summary>
internal static class GoValues
{
    public static string TypeName(object? v) => v switch
    {
        null => "<nil>",
        string => "string",
        double => "float64",
        long => "int",
        bool => "bool",
        IReadOnlyDictionary<string, string> => "map[string]string",
        IReadOnlyDictionary<string, object?> => "map[string]interface {}",
        QuerySample => "*template.sample",
        IReadOnlyList<QuerySample> => "template.queryResult",
        GoTime => "*time.Time",
        AlertTemplateData => "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }",
        _ => v.GetType().Name,
    };

    /// <summary>fmt's <c>%v</c>.</summary>
    public static string Print(object? v) => v switch
    {
        null => "<nil>",
        string s => s,
        double d => GoFloat.Print(d),
        long l => l.ToString(CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        IReadOnlyDictionary<string, string> m => "map[" + string.Join(" ", m.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key + ":" + k.Value)) + "]",
        IReadOnlyDictionary<string, object?> m => "map[" + string.Join(" ", m.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => k.Key + ":" + Print(k.Value))) + "]",
        QuerySample s => "&{" + Print(s.Labels) + " " + GoFloat.Print(s.Value) + "}",
        IReadOnlyList<QuerySample> list => "[" + string.Join(" ", list.Select(Print)) + "]",
        GoTime t => t.ToString(),
        AlertTemplateData d => "{" + Print(LabelMap(d.Metric)) + " map[] " + GoFloat.Print(d.Value) + "}",
        _ => v.ToString() ?? "",
    };

    /// <summary>Go's fmt.Sprint: operands separated by a space when neither side is a string.</summary>
    public static string Sprint(IReadOnlyList<object?> args)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < args.Count; i++)
        {
            if (i > 0 && args[i] is not string && args[i - 1] is not string) sb.Append(' ');
            sb.Append(Print(args[i]));
        }
        return sb.ToString();
    }

    public static bool IsTrue(object? v) => v switch
    {
        null => false,
        bool b => b,
        string s => s.Length > 0,
        long l => l != 0,
        double d => d != 0,
        IReadOnlyDictionary<string, string> m => m.Count > 0,
        IReadOnlyDictionary<string, object?> m => m.Count > 0,
        IReadOnlyList<QuerySample> l => l.Count > 0,
        _ => true,
    };

    public static IReadOnlyDictionary<string, string> LabelMap(Amphora.Model.Labels labels)
    {
        var m = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var l in labels.AsSpan()) m[l.Name] = l.Value;
        return m;
    }

    /// <summary>strconv.Quote: Go's double-quoted form.</summary>
    public static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (var rune in s.EnumerateRunes())
        {
            int c = rune.Value;
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\v': sb.Append("\\v"); break;
                default:
                    if (c < 0x20 || c == 0x7f) sb.Append("\\x").Append(c.ToString("x2", CultureInfo.InvariantCulture));
                    else sb.Append(rune.ToString());
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}
