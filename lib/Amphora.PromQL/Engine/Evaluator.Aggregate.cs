using System.Globalization;
using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    private EvalResult EvalAggregate(AggregateExpr a)
    {
        var input = (SeriesResult)Eval(a.Expr);
        double[]? param = null;
        string? labelParam = null;
        if (a.Param is not null)
        {
            var p = Eval(a.Param);
            if (p is ScalarSteps s) param = s.Values;
            else labelParam = ((StringResult)p).Value;
        }
        if (a.Op == TokenKind.CountValues && !LabelNames.IsValid(labelParam!))
            throw new PromQLException(PromQLErrorType.Execution, "invalid label name " + Lexer.GoQuote(labelParam!));
        if (param is not null)
        {
            foreach (double p in param)
            {
                if (!double.IsNaN(p)) continue;
                if (a.Op is TokenKind.Topk or TokenKind.Bottomk or TokenKind.Limitk)
                    throw new PromQLException(PromQLErrorType.Execution, "Parameter value is NaN");
                if (a.Op == TokenKind.LimitRatio) throw new PromQLException(PromQLErrorType.Execution, "Ratio value is NaN");
            }
            if (a.Op == TokenKind.Quantile && param.FirstOrDefault(q => double.IsNaN(q) || q < 0 || q > 1) is var bad &&
                param.Any(q => double.IsNaN(q) || q < 0 || q > 1))
                _warnings.Add($"PromQL warning: quantile value should be between 0 and 1, got {FormatValue(bad)}");
            if (a.Op == TokenKind.LimitRatio && param.FirstOrDefault(r => r < -1 || r > 1) is var ratio && (ratio < -1 || ratio > 1))
                _warnings.Add($"PromQL warning: ratio value should be between -1 and 1, got {GoFormat.G(ratio)}, capping to {GoFormat.G(Math.Clamp(ratio, -1, 1))}");
        }

        if (a.Op is TokenKind.Sum or TokenKind.Avg or TokenKind.Count or TokenKind.Min or TokenKind.Max or TokenKind.Group
            or TokenKind.Stddev or TokenKind.Stdvar)
            return AggregateByGroups(a, input);
        if (a.Op == TokenKind.CountValues) return CountValues(a, input, labelParam!);
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        var output = new SeriesAccumulator();
        var groupKeys = new Dictionary<Labels, Labels>();
        var dropped = GroupsWithDroppedNames(input.Series, a);
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            cursor.At(ts, vector);
            if (vector.Count == 0) continue;
            // Groups in order of first appearance, as Prometheus returns them.
            var groups = new Dictionary<Labels, List<Sample>>();
            var order = new List<Labels>();
            foreach (var s in vector)
            {
                if (!groupKeys.TryGetValue(s.Metric, out var key))
                {
                    key = OutputKey(GroupingKey(s.Metric, a), dropped);
                    groupKeys[s.Metric] = key;
                }
                if (!groups.TryGetValue(key, out var members))
                {
                    groups[key] = members = new List<Sample>();
                    order.Add(key);
                }
                members.Add(s);
            }
            foreach (var key in order)
                AggregateGroup(a.Op, key, groups[key], param?[i] ?? 0, labelParam, ts, output);
        }
        return output.Result();
    }

    /// <summary>
    /// count_values: each sample's labels get the value label first, then are grouped (the value label always kept), so
    /// a value label that overwrites a grouping label merges the groups that then agree, as in Prometheus.
    /// </summary>
    private SeriesResult CountValues(AggregateExpr a, SeriesResult input, string label)
    {
        var grouping = a.Without ? a.Grouping.Where(g => g != label).ToList() : [.. a.Grouping, label];
        var grouped = new AggregateExpr(a.Op, a.Expr, a.Param, grouping, a.Without);
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        var output = new SeriesAccumulator();
        var counts = new Dictionary<Labels, int>();
        var order = new List<Labels>();
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            cursor.At(ts, vector);
            counts.Clear();
            order.Clear();
            foreach (var s in vector)
            {
                string value = s.H is { } h ? GoFormat.Histogram(h) : FormatValue(s.F);
                var key = GroupingKey(new LabelsBuilder(s.Metric).Set(label, value).Build(), grouped);
                if (!counts.TryGetValue(key, out int n)) order.Add(key);
                counts[key] = n + 1;
            }
            foreach (var key in order) output.Add(key, ts, counts[key]);
        }
        return output.Result();
    }

    private static Labels GroupingKey(Labels metric, AggregateExpr a)
    {
        if (a.Without)
        {
            var drop = new List<string>(a.Grouping) { LabelNames.MetricName, DroppedNameLabel };
            return metric.Without(drop.ToArray());
        }
        var key = metric.Keep(a.Grouping.ToArray());
        // Grouping by __name__ sees a dropped name too (delayed name removal).
        if (metric.Has(DroppedNameLabel) && a.Grouping.Contains(LabelNames.MetricName))
            key = new LabelsBuilder(key).Set(LabelNames.MetricName, metric.Get(DroppedNameLabel)).Build();
        return key;
    }

    /// <summary>
    /// For an aggregation by <c>__name__</c>, the groups holding a series whose name is dropped: their result's name is
    /// dropped as well. Null when the aggregation does not group by the name.
    /// </summary>
    private static HashSet<Labels>? GroupsWithDroppedNames(List<Series> series, AggregateExpr a)
    {
        if (a.Without || !a.Grouping.Contains(LabelNames.MetricName)) return null;
        var keys = new HashSet<Labels>();
        foreach (var s in series)
            if (s.Metric.Has(DroppedNameLabel)) keys.Add(GroupingKey(s.Metric, a));
        return keys;
    }

    private static Labels OutputKey(Labels key, HashSet<Labels>? dropped) => dropped?.Contains(key) == true ? DropName(key) : key;

    private void AggregateGroup(TokenKind op, Labels key, List<Sample> members, double param, string? labelParam, long ts, SeriesAccumulator output)
    {
        if (op is TokenKind.Topk or TokenKind.Bottomk or TokenKind.Quantile && members.Any(m => m.H is not null))
        {
            _notes.Info(Annotations.HistogramIgnoredInAggregation(Tokens.Text(op)));
            members = members.Where(m => m.H is null).ToList();
            if (members.Count == 0) return;
        }
        switch (op)
        {
            case TokenKind.Sum:
            {
                double sum = 0, c = 0;
                foreach (var s in members) (sum, c) = KahanSumInc(s.F, sum, c);
                output.Add(key, ts, double.IsInfinity(sum) ? sum : sum + c);
                return;
            }
            case TokenKind.Avg:
                output.Add(key, ts, Average(members.Select(s => s.F)));
                return;
            case TokenKind.Count:
                output.Add(key, ts, members.Count);
                return;
            case TokenKind.Group:
                output.Add(key, ts, 1);
                return;
            case TokenKind.Min or TokenKind.Max:
            {
                double v = members[0].F;
                for (int i = 1; i < members.Count; i++)
                {
                    double f = members[i].F;
                    if (op == TokenKind.Max ? v < f || double.IsNaN(v) : v > f || double.IsNaN(v)) v = f;
                }
                output.Add(key, ts, v);
                return;
            }
            case TokenKind.Stddev or TokenKind.Stdvar:
            {
                double variance = Variance(members.Select(s => s.F));
                output.Add(key, ts, op == TokenKind.Stddev ? Math.Sqrt(variance) : variance);
                return;
            }
            case TokenKind.Quantile:
                output.Add(key, ts, Quantile(param, members.Select(s => s.F).ToList()));
                return;
            case TokenKind.Topk or TokenKind.Bottomk:
            {
                long k = ToK(param);
                if (k < 1) return;
                bool top = op == TokenKind.Topk;
                // Keep the best k in a small sorted buffer: O(n·k) instead of sorting every member at every step.
                int keep = (int)Math.Min(k, members.Count);
                var best = new List<Sample>(keep + 1);
                foreach (var s in members)
                {
                    if (best.Count == keep && CompareForTopk(s.F, best[^1].F, top) >= 0) continue;
                    int at = best.Count;
                    while (at > 0 && CompareForTopk(s.F, best[at - 1].F, top) < 0) at--;
                    best.Insert(at, s);
                    if (best.Count > keep) best.RemoveAt(best.Count - 1);
                }
                foreach (var s in best) output.Add(s.Metric, ts, s.F);
                return;
            }
            case TokenKind.Limitk:
            {
                long k = ToK(param);
                foreach (var s in members.Take((int)Math.Min(Math.Max(k, 0), members.Count))) output.Add(s.Metric, ts, s.F, s.H);
                return;
            }
            case TokenKind.LimitRatio:
            {
                double ratio = Math.Clamp(param, -1, 1);
                foreach (var s in members)
                {
                    double offset = s.Metric.StableHash / (double)ulong.MaxValue;
                    bool keep = ratio >= 0 ? offset < ratio : offset >= 1 + ratio;
                    if (keep) output.Add(s.Metric, ts, s.F, s.H);
                }
                return;
            }
        }
        throw new PromQLException(PromQLErrorType.Internal, "unknown aggregation " + op);
    }

    private static long ToK(double param)
    {
        if (double.IsNaN(param)) throw new PromQLException(PromQLErrorType.Execution, "Parameter value is NaN");
        if (param >= long.MaxValue) return long.MaxValue;
        if (param <= long.MinValue) return long.MinValue;
        return (long)param;
    }

    /// <summary>Topk order: larger first, NaN last; bottomk: smaller first, NaN last.</summary>
    private static int CompareForTopk(double a, double b, bool top)
    {
        if (double.IsNaN(a)) return double.IsNaN(b) ? 0 : 1;
        if (double.IsNaN(b)) return -1;
        return top ? b.CompareTo(a) : a.CompareTo(b);
    }

    internal static (double Sum, double C) KahanSumInc(double inc, double sum, double c) => KahanSum.Inc(inc, sum, c);

    /// <summary>The mean with Kahan summation, switching to an incremental mean if the sum overflows.</summary>
    internal static double Average(IEnumerable<double> values)
    {
        double sum = 0, c = 0, mean = 0;
        long count = 0;
        bool incremental = false;
        foreach (double f in values)
        {
            count++;
            if (!incremental)
            {
                var (newSum, newC) = KahanSumInc(f, sum, c);
                if (!double.IsInfinity(newSum) || count == 1)
                {
                    (sum, c) = (newSum, newC);
                    continue;
                }
                incremental = true;
                mean = sum / (count - 1);
                c /= count - 1;
            }
            if (double.IsInfinity(mean))
            {
                if (double.IsInfinity(f) && (mean > 0) == (f > 0)) continue;
                if (!double.IsInfinity(f) && !double.IsNaN(f)) continue;
            }
            double q = (double)(count - 1) / count;
            (mean, c) = KahanSumInc(f / count, q * mean, q * c);
        }
        if (incremental) return mean + c;
        if (count == 1) return sum;
        return (sum + c) / count;
    }

    /// <summary>Population variance (Welford), as stdvar and stdvar_over_time compute it.</summary>
    internal static double Variance(IEnumerable<double> values)
    {
        double count = 0, mean = 0, cMean = 0, aux = 0, cAux = 0;
        foreach (double f in values)
        {
            count++;
            double delta = f - (mean + cMean);
            (mean, cMean) = KahanSumInc(delta / count, mean, cMean);
            (aux, cAux) = KahanSumInc(delta * (f - (mean + cMean)), aux, cAux);
        }
        return (aux + cAux) / count;
    }

    /// <summary>The φ-quantile with linear interpolation between the closest ranks.</summary>
    internal static double Quantile(double q, List<double> values)
    {
        if (values.Count == 0 || double.IsNaN(q)) return double.NaN;
        if (q < 0) return double.NegativeInfinity;
        if (q > 1) return double.PositiveInfinity;
        values.Sort(static (a, b) => double.IsNaN(a) ? (double.IsNaN(b) ? 0 : -1) : double.IsNaN(b) ? 1 : a.CompareTo(b));
        double n = values.Count;
        double rank = q * (n - 1);
        int lower = (int)Math.Max(0, Math.Floor(rank));
        int upper = (int)Math.Min(n - 1, lower + 1);
        double weight = rank - Math.Floor(rank);
        return values[lower] * (1 - weight) + values[upper] * weight;
    }

    /// <summary>A float as Go's strconv.FormatFloat(f, 'f', -1, 64) prints it (count_values labels).</summary>
    internal static string FormatValue(double f)
    {
        if (double.IsPositiveInfinity(f)) return "+Inf";
        if (double.IsNegativeInfinity(f)) return "-Inf";
        if (double.IsNaN(f)) return "NaN";
        string r = f.ToString("R", CultureInfo.InvariantCulture);
        if (!r.Contains('E')) return r;
        return decimal.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && (double)d == f
            ? d.ToString(CultureInfo.InvariantCulture)
            : f.ToString("F20", CultureInfo.InvariantCulture).TrimEnd('0').TrimEnd('.');
    }
}
