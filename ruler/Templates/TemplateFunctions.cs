using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Amphora.PromQL.Engine;

namespace Amphora.Ruler.Templates;

/// <summary>
/// The functions of an alert template, exactly those <see cref="Amphora.PromQL.Rules.GoTemplateSyntax.Functions"/> accepts:
/// Go's built-ins and Prometheus's template functions, with Prometheus's behaviour (written from its documentation and
/// observed output). <c>query</c> runs PromQL at the evaluation time in the rule's workspace.
/// </summary>
internal sealed partial class TemplateFunctions(Uri externalUrl, Func<string, CancellationToken, Task<QueryValue>> query)
{
    public Uri ExternalUrl { get; } = externalUrl;

    private static readonly TimeSpan RegexTimeout = TimeSpan.FromSeconds(1);

    public bool Has(string name) => Amphora.PromQL.Rules.GoTemplateSyntax.Functions.Contains(name);

    public async Task<object?> CallAsync(string name, List<object?> a, CancellationToken ct)
    {
        switch (name)
        {
            case "query": return await QueryAsync(Str(a, 0, 1), ct);
            case "first":
            {
                var v = Samples(a, 0, 1);
                return v.Count > 0 ? v[0] : throw new TemplateFunctionException("first() called on vector with no elements");
            }
            case "label": { var s = Sample(a, 1, 2); return s.Labels.TryGetValue(Str(a, 0, 2), out var v) ? v : ""; }
            case "value": return Sample(a, 0, 1).Value;
            case "strvalue": return Sample(a, 0, 1).Labels.TryGetValue("__value__", out var sv) ? sv : "";
            case "args":
            {
                var m = new SortedDictionary<string, object?>(StringComparer.Ordinal);
                for (int i = 0; i < a.Count; i++) m["arg" + i] = a[i];
                return (IReadOnlyDictionary<string, object?>)m;
            }
            case "reReplaceAll":
                return Compile(Str(a, 0, 3)).Replace(Str(a, 2, 3), GoReplacement(Str(a, 1, 3)));
            case "safeHtml": return Str(a, 0, 1);
            case "match": return Compile(Str(a, 0, 2)).IsMatch(Str(a, 1, 2));
            case "title": return Title(Str(a, 0, 1));
            case "toUpper": return Str(a, 0, 1).ToUpperInvariant();
            case "toLower": return Str(a, 0, 1).ToLowerInvariant();
            case "graphLink": return "/graph?g0.expr=" + QueryEscape(Str(a, 0, 1)) + "&g0.tab=0";
            case "tableLink": return "/graph?g0.expr=" + QueryEscape(Str(a, 0, 1)) + "&g0.tab=1";
            case "sortByLabel":
            {
                string label = Str(a, 0, 2);
                var v = Samples(a, 1, 2);
                return (IReadOnlyList<QuerySample>)v.OrderBy(s => s.Labels.TryGetValue(label, out var x) ? x : "", StringComparer.Ordinal).ToList();
            }
            case "humanize": return Humanize(ToFloat(a, 1));
            case "humanize1024": return Humanize1024(ToFloat(a, 1));
            case "humanizeDuration": return HumanizeDuration(ToFloat(a, 1));
            case "humanizePercentage": return G4(ToFloat(a, 1) * 100) + "%";
            case "humanizeTimestamp":
            {
                double v = ToFloat(a, 1);
                return double.IsFinite(v) ? ToTime(v).ToString() : G4(v);
            }
            case "toTime": return ToTime(ToFloat(a, 1));
            case "pathPrefix": Count(a, 0); return ExternalUrl.AbsolutePath.TrimEnd('/');
            case "externalURL": Count(a, 0); return ExternalUrl.ToString().TrimEnd('/');
            case "parseDuration":
            {
                string d = Str(a, 0, 1);
                if (!Amphora.PromQL.Parser.Durations.TryParse(d, out long ms)) throw new TemplateFunctionException($"not a valid duration string: \"{d}\"");
                return ms / 1000.0;
            }
            case "stripPort": return StripPort(Str(a, 0, 1));
            case "stripDomain": return StripDomain(Str(a, 0, 1));
            case "not": Count(a, 1); return !GoValues.IsTrue(a[0]);
            case "len":
                Count(a, 1);
                return a[0] switch
                {
                    string s => (long)Encoding.UTF8.GetByteCount(s),
                    IReadOnlyList<QuerySample> l => (long)l.Count,
                    IReadOnlyDictionary<string, string> m => (long)m.Count,
                    IReadOnlyDictionary<string, object?> m => (long)m.Count,
                    _ => throw new TemplateFunctionException($"len of type {GoValues.TypeName(a[0])}"),
                };
            case "index": return Index(a);
            case "slice": return Slice(a);
            case "print": return GoValues.Sprint(a);
            case "println": return string.Join(" ", a.Select(GoValues.Print)) + "\n";
            case "printf":
                if (a.Count == 0 || a[0] is not string format) throw new TemplateArgumentException($"wrong type for value; expected string; got {GoValues.TypeName(a.Count > 0 ? a[0] : null)}");
                return GoFmt.Sprintf(format, a.Skip(1).ToList());
            case "html": return WebUtility.HtmlEncode(GoValues.Sprint(a)).Replace("&#39;", "&#39;").Replace("&quot;", "&#34;");
            case "js": return JsEscape(GoValues.Sprint(a));
            case "urlquery": return QueryEscape(GoValues.Sprint(a));
            case "call": throw new TemplateFunctionException("call of nil");
            case "eq": return Eq(a);
            case "ne": Count(a, 2); return !Eq(a);
            case "lt": Count(a, 2); return Compare(a[0], a[1]) < 0;
            case "le": Count(a, 2); return Compare(a[0], a[1]) <= 0;
            case "gt": Count(a, 2); return Compare(a[0], a[1]) > 0;
            case "ge": Count(a, 2); return Compare(a[0], a[1]) >= 0;
            default: throw new TemplateArgumentException($"\"{name}\" is not a defined function");
        }
    }

    private async Task<object?> QueryAsync(string q, CancellationToken ct)
    {
        QueryValue value;
        try
        {
            value = await query(q, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            throw new TemplateFunctionException(e.Message);
        }
        var result = new List<QuerySample>();
        switch (value)
        {
            case VectorValue v:
                foreach (var s in v.Samples) result.Add(new QuerySample(GoValues.LabelMap(s.Metric), s.F));
                break;
            case ScalarValue s:
                result.Add(new QuerySample(new SortedDictionary<string, string>(), s.V));
                break;
            default:
                throw new TemplateFunctionException("rule result is not a vector or scalar");
        }
        return (IReadOnlyList<QuerySample>)result;
    }

    private static void Count(List<object?> a, int n)
    {
        if (a.Count != n) throw new TemplateArgumentException($"wrong number of args: want {n} got {a.Count}");
    }

    private static string Str(List<object?> a, int i, int n)
    {
        Count(a, n);
        return a[i] as string ?? throw new TemplateArgumentException($"wrong type for value; expected string; got {GoValues.TypeName(a[i])}");
    }

    private static QuerySample Sample(List<object?> a, int i, int n)
    {
        Count(a, n);
        return a[i] as QuerySample ?? throw new TemplateArgumentException($"wrong type for value; expected *template.sample; got {GoValues.TypeName(a[i])}");
    }

    private static IReadOnlyList<QuerySample> Samples(List<object?> a, int i, int n)
    {
        Count(a, n);
        return a[i] as IReadOnlyList<QuerySample> ?? throw new TemplateArgumentException($"wrong type for value; expected template.queryResult; got {GoValues.TypeName(a[i])}");
    }

    /// <summary>Prometheus's conversion of a humanize* operand: floats and ints as they are, strings parsed as Go parses floats.</summary>
    private static double ToFloat(List<object?> a, int n)
    {
        Count(a, n);
        return a[0] switch
        {
            double d => d,
            long l => l,
            string s => ParseFloat(s),
            _ => throw new TemplateFunctionException($"can't convert {GoValues.TypeName(a[0])} to float"),
        };
    }

    private static double ParseFloat(string s)
    {
        string t = s.Replace("_", "");
        switch (t.ToLowerInvariant().TrimStart('+'))
        {
            case "inf" or "infinity": return t.StartsWith('-') ? double.NegativeInfinity : double.PositiveInfinity;
            case "-inf" or "-infinity": return double.NegativeInfinity;
            case "nan": return double.NaN;
        }
        if (s.Length > 0 && !s.Contains(' ') && double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)) return v;
        throw new TemplateFunctionException($"strconv.ParseFloat: parsing {GoValues.Quote(s)}: invalid syntax");
    }

    private static GoTime ToTime(double v)
    {
        if (!double.IsFinite(v)) throw new TemplateFunctionException("value is NaN or Inf");
        double ns = v * 1e9;
        if (ns > long.MaxValue || ns < long.MinValue)
            throw new TemplateFunctionException($"{GoFloat.Print(v)} cannot be represented as a nanoseconds timestamp since it overflows int64");
        // Prometheus goes through model.Time, whose unit is the millisecond.
        long ms = (long)ns / 1_000_000;
        return new GoTime(DateTimeOffset.UnixEpoch.AddMilliseconds(ms));
    }

    private static Regex Compile(string pattern)
    {
        try
        {
            return new Regex(pattern, RegexOptions.CultureInvariant, RegexTimeout);
        }
        catch (ArgumentException e)
        {
            throw new TemplateFunctionException($"regexp: Compile({GoValues.Quote(pattern)}): {e.Message}");
        }
    }

    /// <summary>Go's <c>$1</c>, <c>${1}</c>, <c>$name</c> expansion in .NET's syntax (the same, but <c>$name</c> needs braces).</summary>
    private static string GoReplacement(string repl) => GoNamedGroup().Replace(repl, m => "${" + m.Groups[1].Value + "}");

    [GeneratedRegex(@"\$([A-Za-z_][A-Za-z0-9_]*)")]
    private static partial Regex GoNamedGroup();

    private static string QueryEscape(string s)
    {
        var sb = new StringBuilder();
        foreach (byte b in Encoding.UTF8.GetBytes(s))
        {
            char c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~') sb.Append(c);
            else if (c == ' ') sb.Append('+');
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    private static string JsEscape(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s)
        {
            switch (c)
            {
                case '\\': sb.Append(@"\\"); break;
                case '\'': sb.Append(@"\'"); break;
                case '"': sb.Append(@"\"""); break;
                case '<': sb.Append(@"\u003C"); break;
                case '>': sb.Append(@"\u003E"); break;
                case '&': sb.Append(@"\u0026"); break;
                case '=': sb.Append(@"\u003D"); break;
                case '\n': sb.Append(@"\u000A"); break;
                case '\r': sb.Append(@"\u000D"); break;
                case '\t': sb.Append(@"\u0009"); break;
                default:
                    if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.ToString();
    }

    /// <summary>Go's strings.Title: the first letter of each word upper-cased; letters, digits, underscores and marks join words.</summary>
    private static string Title(string s)
    {
        var sb = new StringBuilder(s.Length);
        bool prevSeparator = true;
        foreach (char c in s)
        {
            sb.Append(prevSeparator ? char.ToUpperInvariant(c) : c);
            prevSeparator = !(char.IsLetterOrDigit(c) || c == '_') && (c < 0x80 || char.IsWhiteSpace(c));
        }
        return sb.ToString();
    }

    private static object? Index(List<object?> a)
    {
        if (a.Count == 0) throw new TemplateArgumentException("wrong number of args for index: want at least 1 got 0");
        object? v = a[0];
        foreach (var key in a.Skip(1))
        {
            v = (v, key) switch
            {
                (IReadOnlyDictionary<string, string> m, string k) => m.TryGetValue(k, out var s) ? s : "",
                (IReadOnlyDictionary<string, object?> m, string k) => m.TryGetValue(k, out var o) ? o : null,
                (IReadOnlyList<QuerySample> l, long i) => i >= 0 && i < l.Count ? l[(int)i] : throw new TemplateFunctionException($"index out of range: {i}"),
                (string s, long i) => i >= 0 && i < Encoding.UTF8.GetByteCount(s) ? (long)Encoding.UTF8.GetBytes(s)[i] : throw new TemplateFunctionException($"index out of range: {i}"),
                (null, _) => throw new TemplateFunctionException("index of untyped nil"),
                _ => throw new TemplateFunctionException($"can't index item of type {GoValues.TypeName(v)}"),
            };
        }
        return v;
    }

    private static object? Slice(List<object?> a)
    {
        if (a.Count == 0) throw new TemplateArgumentException("wrong number of args for slice: want at least 1 got 0");
        var idx = a.Skip(1).Select(x => x is long l ? (int)l : throw new TemplateFunctionException($"cannot index slice/array with type {GoValues.TypeName(x)}")).ToArray();
        switch (a[0])
        {
            case string s:
            {
                if (idx.Length > 2) throw new TemplateFunctionException("cannot 3-index slice a string");
                var bytes = Encoding.UTF8.GetBytes(s);
                int from = idx.Length > 0 ? idx[0] : 0, to = idx.Length > 1 ? idx[1] : bytes.Length;
                if (from < 0 || to > bytes.Length || from > to) throw new TemplateFunctionException($"index out of range: {(from < 0 ? from : to)}");
                return Encoding.UTF8.GetString(bytes, from, to - from);
            }
            case IReadOnlyList<QuerySample> l:
            {
                int from = idx.Length > 0 ? idx[0] : 0, to = idx.Length > 1 ? idx[1] : l.Count;
                if (from < 0 || to > l.Count || from > to) throw new TemplateFunctionException($"index out of range: {(from < 0 ? from : to)}");
                return (IReadOnlyList<QuerySample>)l.Skip(from).Take(to - from).ToList();
            }
            default:
                throw new TemplateFunctionException($"can't slice item of type {GoValues.TypeName(a[0])}");
        }
    }

    private static bool Eq(List<object?> a)
    {
        if (a.Count < 2) throw new TemplateArgumentException("wrong number of args for eq: want at least 2 got " + a.Count);
        for (int i = 1; i < a.Count; i++)
            if (Compare(a[0], a[i], equalityOnly: true) == 0) return true;
        return false;
    }

    private static int Compare(object? x, object? y, bool equalityOnly = false) => (x, y) switch
    {
        (long p, long q) => p.CompareTo(q),
        (double p, double q) => p == q ? 0 : p < q ? -1 : p > q ? 1 : equalityOnly ? 1 : 0,
        (string p, string q) => string.CompareOrdinal(p, q),
        (bool p, bool q) when equalityOnly => p == q ? 0 : 1,
        (bool, bool) => throw new TemplateFunctionException("invalid type for comparison"),
        (null, _) or (_, null) when equalityOnly => x is null && y is null ? 0 : throw new TemplateFunctionException("incompatible types for comparison"),
        _ when x?.GetType() == y?.GetType() && !equalityOnly => throw new TemplateFunctionException("invalid type for comparison"),
        _ when x?.GetType() == y?.GetType() => ReferenceEquals(x, y) ? 0 : throw new TemplateFunctionException("non-comparable types"),
        _ => throw new TemplateFunctionException("incompatible types for comparison"),
    };

    private static string G4(double v) => GoFmt.Sprintf("%.4g", [v]);

    private static string Humanize(double v)
    {
        if (v == 0 || !double.IsFinite(v)) return G4(v);
        string prefix = "";
        if (Math.Abs(v) >= 1)
        {
            foreach (var p in new[] { "k", "M", "G", "T", "P", "E", "Z", "Y" })
            {
                if (Math.Abs(v) < 1000) break;
                prefix = p;
                v /= 1000;
            }
            return G4(v) + prefix;
        }
        foreach (var p in new[] { "m", "u", "n", "p", "f", "a", "z", "y" })
        {
            if (Math.Abs(v) >= 1) break;
            prefix = p;
            v *= 1000;
        }
        return G4(v) + prefix;
    }

    private static string Humanize1024(double v)
    {
        if (Math.Abs(v) <= 1 || !double.IsFinite(v)) return G4(v);
        string prefix = "";
        foreach (var p in new[] { "ki", "Mi", "Gi", "Ti", "Pi", "Ei", "Zi", "Yi" })
        {
            if (Math.Abs(v) < 1024) break;
            prefix = p;
            v /= 1024;
        }
        return G4(v) + prefix;
    }

    private static string HumanizeDuration(double v)
    {
        if (!double.IsFinite(v)) return G4(v);
        if (v == 0) return G4(v) + "s";
        if (Math.Abs(v) >= 1)
        {
            string sign = v < 0 ? "-" : "";
            v = Math.Abs(v);
            long d = (long)v;
            long seconds = d % 60, minutes = d / 60 % 60, hours = d / 3600 % 24, days = d / 86400;
            if (days != 0) return $"{sign}{days}d {hours}h {minutes}m {seconds}s";
            if (hours != 0) return $"{sign}{hours}h {minutes}m {seconds}s";
            if (minutes != 0) return $"{sign}{minutes}m {seconds}s";
            return sign + G4(v) + "s";
        }
        string prefix = "";
        foreach (var p in new[] { "m", "u", "n", "p", "f", "a", "z", "y" })
        {
            if (Math.Abs(v) >= 1) break;
            prefix = p;
            v *= 1000;
        }
        return G4(v) + prefix + "s";
    }

    private static (string Host, string Port)? SplitHostPort(string hostPort)
    {
        if (hostPort.StartsWith('['))
        {
            int end = hostPort.IndexOf(']');
            if (end < 0 || end + 1 >= hostPort.Length || hostPort[end + 1] != ':') return null;
            return (hostPort[1..end], hostPort[(end + 2)..]);
        }
        int colon = hostPort.LastIndexOf(':');
        if (colon < 0 || hostPort.IndexOf(':') != colon) return null;
        return (hostPort[..colon], hostPort[(colon + 1)..]);
    }

    private static string StripPort(string hostPort) => SplitHostPort(hostPort)?.Host ?? hostPort;

    private static string StripDomain(string hostPort)
    {
        var split = SplitHostPort(hostPort);
        string host = split?.Host ?? hostPort;
        string port = split?.Port ?? "";
        if (IPAddress.TryParse(host, out _)) return hostPort;
        host = host.Split('.')[0];
        if (port.Length > 0) return (host.Contains(':') ? "[" + host + "]" : host) + ":" + port;
        return host;
    }
}
