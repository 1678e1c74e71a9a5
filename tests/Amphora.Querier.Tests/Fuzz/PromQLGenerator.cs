using System.Globalization;
using System.Text;
using Amphora.PromQL.Parser;

namespace Amphora.Querier.Tests.Fuzz;

/// <summary>
/// Generates PromQL from the grammar, mostly well-typed (so that many inputs get past the parser into the evaluator):
/// selectors with every matcher operator, range selectors, subqueries, offset and @, every function of the table with
/// the right argument types (sometimes the wrong number or type), aggregations with by/without and parameters, binary
/// operators with bool, on/ignoring and group_left/group_right, unary signs, parentheses, and literals of every form
/// (hex, octal-looking, exponents, Inf/NaN, out-of-range numbers and durations, strings with every escape).
/// Deterministic for a given <see cref="Random"/>.
/// </summary>
internal sealed class PromQLGenerator(Random rng)
{
    private static readonly string[] Metrics =
        ["up", "http_requests_total", "latency_seconds_bucket", "odd_values", "node_temp_celsius", "absent_metric", "a:b:c", "_x1",
         "sum", "on", "by", "bool", "offset", "start", "inf", "nan", "group_left"];
    private static readonly string[] LabelNames =
        ["job", "instance", "method", "code", "le", "zone", "__name__", "x", "on", "by", "bool", "sum", "_", "a1"];
    private static readonly string[] LabelValues =
        ["api", "h0", "h1", "get", "post", "200", "500", "0.5", "+Inf", "", "a:b", "batch", "node", "é✓", "\\n", "\\\"", "\\x41",
         "\\u00e9", "\\U0001F600", "\\101", "\\t\\\\", "\\a\\b\\f\\v\\r"];
    private static readonly string[] Regexes =
        ["api|node", ".*", ".+", "h[0-9]", "(get|post)", "2..", "a?b*c+", "[^a]x", "\\\\d+", "(?i)API", "x{2,3}", "", "|", "(a|b)*c",
         "[[:alpha:]]+", "\\\\pL+", "^api$", "h.*|.*0", "(?:po)st", "[a-z-]+", ".{0,5}", "\\\\.", "((((a))))"];
    private static readonly string[] Durations =
        ["1s", "15s", "30s", "1m", "5m", "10m", "1h", "1h30m", "1d", "1w", "1y", "100ms", "1m30s500ms", "90s", "2h", "0s", "300", "1.5",
         "99999y", "292y", "293y", "99999999999999y", "106751d23h47m16s854ms", "5m1h", "1e3", "0x10"];
    private static readonly string[] Steps = ["1s", "10s", "15s", "30s", "1m", "5m", "1ms", "1h", "60", "0.5", ""];
    private static readonly string[] Aggregators =
        ["sum", "avg", "count", "min", "max", "group", "stddev", "stdvar", "topk", "bottomk", "count_values", "quantile", "limitk", "limit_ratio"];
    private static readonly string[] Arithmetic = ["+", "-", "*", "/", "%", "^", "atan2"];
    private static readonly string[] Comparisons = ["==", "!=", "<", "<=", ">", ">="];
    private static readonly string[] SetOperators = ["and", "or", "unless"];
    private static readonly Dictionary<PromValueType, FunctionDef[]> FunctionsReturning =
        Functions.List.GroupBy(f => f.ReturnType).ToDictionary(g => g.Key, g => g.ToArray());

    private T Pick<T>(IReadOnlyList<T> items) => items[rng.Next(items.Count)];
    private bool Chance(double p) => rng.NextDouble() < p;

    /// <summary>One expression of a random type, at most <paramref name="depth"/> levels of operators deep.</summary>
    public string Expression(int depth) => rng.Next(10) switch
    {
        < 6 => Vector(depth),
        < 8 => Scalar(depth),
        8 => Matrix(depth),
        _ => StringLiteral(),
    };

    public string Vector(int depth)
    {
        if (depth <= 0) return Selector();
        return rng.Next(14) switch
        {
            0 or 1 => Selector(),
            2 or 3 or 4 => Call(depth, PromValueType.Vector),
            5 or 6 => Aggregation(depth),
            7 => $"{Vector(depth - 1)} {Pick(Arithmetic)} {Vector(depth - 1)}",
            8 => $"{Vector(depth - 1)} {Pick(Arithmetic)}{Matching()} {Scalar(depth - 1)}",
            9 => $"{Vector(depth - 1)} {Pick(Comparisons)}{(Chance(0.5) ? " bool" : "")}{Matching()} {Vector(depth - 1)}",
            10 => $"{Vector(depth - 1)} {Pick(SetOperators)}{Matching(set: true)} {Vector(depth - 1)}",
            11 => $"{(Chance(0.5) ? "-" : "+")}{Vector(depth - 1)}",
            12 => $"({Vector(depth - 1)})",
            _ => $"{Scalar(depth - 1)} {Pick(Comparisons)}{(Chance(0.7) ? " bool" : "")} {Vector(depth - 1)}",
        };
    }

    public string Scalar(int depth)
    {
        if (depth <= 0) return Number();
        return rng.Next(8) switch
        {
            0 or 1 or 2 => Number(),
            3 => $"scalar({Vector(depth - 1)})",
            4 => Call(depth, PromValueType.Scalar),
            5 => $"{Scalar(depth - 1)} {Pick(Arithmetic)} {Scalar(depth - 1)}",
            6 => $"{Scalar(depth - 1)} {Pick(Comparisons)} bool {Scalar(depth - 1)}",
            _ => Chance(0.5) ? $"({Scalar(depth - 1)})" : $"-{Scalar(depth - 1)}",
        };
    }

    public string Matrix(int depth)
    {
        if (depth <= 0 || Chance(0.6)) return Selector() + $"[{Pick(Durations)}]" + Modifiers();
        string inner = Chance(0.7) ? Vector(depth - 1) : Scalar(depth - 1);
        if (!inner.EndsWith(')') && !inner.EndsWith('}') && Chance(0.5)) inner = $"({inner})";
        return $"{inner}[{Pick(Durations)}:{Pick(Steps)}]" + Modifiers();
    }

    private string Selector()
    {
        var sb = new StringBuilder();
        bool named = Chance(0.85);
        if (named) sb.Append(Pick(Metrics));
        if (!named || Chance(0.6))
        {
            sb.Append('{');
            int n = named ? rng.Next(4) : 1 + rng.Next(3);
            for (int i = 0; i < n; i++)
            {
                if (i > 0) sb.Append(", ");
                string name = Chance(0.1) ? Quote(Pick(LabelNames)) : Pick(LabelNames);
                switch (rng.Next(4))
                {
                    case 0: sb.Append(name).Append('=').Append(Quote(Pick(LabelValues))); break;
                    case 1: sb.Append(name).Append("!=").Append(Quote(Pick(LabelValues))); break;
                    case 2: sb.Append(name).Append("=~").Append(Quote(Pick(Regexes))); break;
                    default: sb.Append(name).Append("!~").Append(Quote(Pick(Regexes))); break;
                }
            }
            if (Chance(0.1)) sb.Append(',');
            sb.Append('}');
        }
        return sb.Append(Modifiers()).ToString();
    }

    private string Modifiers()
    {
        var sb = new StringBuilder();
        if (Chance(0.12)) sb.Append(" offset ").Append(Chance(0.2) ? "-" : "").Append(Pick(Durations));
        if (Chance(0.1))
            sb.Append(" @ ").Append(rng.Next(4) switch { 0 => "start()", 1 => "end()", 2 => Number(), _ => rng.Next(0, 4000).ToString(CultureInfo.InvariantCulture) });
        return sb.ToString();
    }

    private string Matching(bool set = false)
    {
        if (!Chance(0.3)) return "";
        string m = $" {(Chance(0.5) ? "on" : "ignoring")}({LabelList()})";
        if (!set && Chance(0.4)) m += $" {(Chance(0.5) ? "group_left" : "group_right")}{(Chance(0.5) ? $"({LabelList()})" : "")}";
        return m;
    }

    private string LabelList() => string.Join(", ", Enumerable.Range(0, rng.Next(3)).Select(_ => Pick(LabelNames)));

    private string Call(int depth, PromValueType want)
    {
        var f = Pick(FunctionsReturning[want]);
        int count = f.MinArgs;
        if (f.MaxArgs > f.MinArgs) count += rng.Next(Math.Min(f.MaxArgs - f.MinArgs, 3) + 1);
        if (Chance(0.05)) count = Math.Max(0, count + (Chance(0.5) ? -1 : 1)); // the wrong arity
        var args = new List<string>();
        for (int i = 0; i < count; i++)
        {
            var type = f.ArgTypes.Length > 0 ? f.ArgType(i) : PromValueType.Vector;
            if (Chance(0.03)) type = Pick(new[] { PromValueType.Scalar, PromValueType.Vector, PromValueType.Matrix, PromValueType.String });
            args.Add(Argument(type, depth - 1));
        }
        return $"{f.Name}({string.Join(", ", args)})";
    }

    private string Argument(PromValueType type, int depth) => type switch
    {
        PromValueType.Scalar => Scalar(Math.Min(depth, 1)),
        PromValueType.Matrix => Matrix(depth),
        PromValueType.String => Chance(0.6) ? Quote(Pick(LabelNames)) : Quote(Pick(Regexes)),
        _ => Vector(depth),
    };

    private string Aggregation(int depth)
    {
        string op = Pick(Aggregators);
        string param = op switch
        {
            "topk" or "bottomk" or "limitk" => Scalar(0) + ", ",
            "quantile" or "limit_ratio" => (Chance(0.7) ? "0." + rng.Next(10) : Scalar(0)) + ", ",
            "count_values" => Quote(Pick(LabelNames)) + ", ",
            _ => "",
        };
        if (Chance(0.04)) param = param.Length == 0 ? "1, " : ""; // a parameter where none goes, or none where one must
        string grouping = Chance(0.5) ? "" : $" {(Chance(0.5) ? "by" : "without")} ({LabelList()})";
        string body = $"({param}{Vector(depth - 1)})";
        return Chance(0.5) ? op + grouping + " " + body : op + body + grouping;
    }

    public string Number() => rng.Next(16) switch
    {
        0 => rng.Next(0, 100).ToString(CultureInfo.InvariantCulture),
        1 => (rng.NextDouble() * 1000).ToString("0.###", CultureInfo.InvariantCulture),
        2 => $"{rng.Next(1, 10)}e{rng.Next(-20, 20)}",
        3 => "0x" + rng.Next().ToString("x", CultureInfo.InvariantCulture),
        4 => "0" + Convert.ToString(rng.Next(0, 512), 8),
        5 => Pick(new[] { "Inf", "-Inf", "NaN", "inf", "nan", "+Inf" }),
        6 => Pick(new[] { "0xffffffffffffffffffff", "0x7fffffffffffffff", "0x8000000000000000", "1e999", "-1e999", "1e-999", "0x", "1e", "1e+", "0x1.8", ".5", "5.", "08", "09.5" }),
        7 => new string('9', 1 + rng.Next(rng.Next(2) == 0 ? 20 : 400)),
        8 => "0." + new string('0', rng.Next(rng.Next(2) == 0 ? 20 : 400)) + "1",
        9 => Pick(Durations),
        _ => rng.Next(-5, 10).ToString(CultureInfo.InvariantCulture),
    };

    private string StringLiteral() => rng.Next(3) switch
    {
        0 => "`" + Pick(LabelValues).Replace("`", "") + "`",
        1 => "'" + Pick(LabelValues).Replace("'", "\\'").Replace("\\\"", "\"") + "'",
        _ => Quote(Pick(LabelValues) + (Chance(0.2) ? Pick(new[] { "\\U00110000", "\\ud800", "\\400", "\\q", "\\x4", "\\UFFFFFFFF" }) : "")),
    };

    /// <summary>A double-quoted literal of text already written with PromQL escapes.</summary>
    private static string Quote(string escaped) => "\"" + escaped + "\"";
}
