using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    /// <summary>Selectors whose histograms only feed histogram_count, histogram_sum or histogram_avg (see <see cref="StatsDecoder"/>).</summary>
    private HashSet<VectorSelector> _statsOnly = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// Finds the selectors read only for their histograms' count and sum, as Prometheus decides where its histogram-stats
    /// iterator is used: under histogram_count, histogram_sum or histogram_avg, through functions and aggregations, but not
    /// across a binary operator, a subquery, or a function that needs the buckets.
    /// </summary>
    public void FindStatsOnlySelectors(Expr root)
    {
        var stack = new Stack<(Expr E, bool Stats)>();
        stack.Push((root, false));
        while (stack.Count > 0)
        {
            var (e, stats) = stack.Pop();
            switch (e)
            {
                // A smoothed instant selector interpolates between the sample before and the one after: it reads both in full.
                case VectorSelector vs when stats && !vs.Smoothed: _statsOnly.Add(vs); break;
                case MatrixSelector ms: stack.Push((ms.Selector, stats)); break;
                case ParenExpr p: stack.Push((p.Expr, stats)); break;
                case UnaryExpr u: stack.Push((u.Expr, stats)); break;
                case AggregateExpr a:
                    stack.Push((a.Expr, stats));
                    if (a.Param is not null) stack.Push((a.Param, false));
                    break;
                case BinaryExpr b: stack.Push((b.Lhs, false)); stack.Push((b.Rhs, false)); break;
                case SubqueryExpr s: stack.Push((s.Expr, false)); break;
                case Call c:
                {
                    bool inner = c.Function.Name switch
                    {
                        "histogram_count" or "histogram_sum" or "histogram_avg" => true,
                        "histogram_quantile" or "histogram_quantiles" or "histogram_fraction" or "histogram_stddev" or "histogram_stdvar" => false,
                        _ => stats,
                    };
                    foreach (var arg in c.Args) stack.Push((arg, inner));
                    break;
                }
            }
        }
    }

    /// <summary>
    /// Reads a series' histograms for their count and sum only, as Prometheus's histogram-stats iterator does: the buckets
    /// are left out, and a histogram without a counter-reset hint gets one from comparing it (in full) with the previous
    /// sample read, so that later counter-reset handling works without the buckets. One per series read.
    /// </summary>
    private sealed class StatsDecoder
    {
        private FloatHistogram? _last;

        public void Reset() => _last = null;

        public FloatHistogram Decode(FloatHistogram full)
        {
            var hint = full.CounterResetHint;
            if (StaleNaN.Is(full.Sum)) return Stripped(full, hint);
            if (hint == CounterResetHint.Unknown && _last is not null)
                hint = full.DetectReset(_last) ? CounterResetHint.CounterReset : CounterResetHint.NotCounterReset;
            _last = full;
            return Stripped(full, hint);
        }

        private static FloatHistogram Stripped(FloatHistogram h, CounterResetHint hint) => new()
        {
            CounterResetHint = hint,
            Schema = h.Schema,
            Count = h.Count,
            Sum = h.Sum,
            CustomValues = h.CustomValues,
        };
    }
}
