using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    /// <summary>
    /// A chain <c>a + b + c + ...</c> is a left spine of binary nodes: it is evaluated in a loop from the leftmost operand up,
    /// left before right at every node as a recursive walk would, so a 50,000-term chain needs no deep recursion.
    /// </summary>
    private EvalResult EvalBinary(BinaryExpr top)
    {
        var spine = BinaryExpr.LeftSpine(top, out var leftmost);
        var acc = Eval(leftmost);
        for (int i = spine.Count - 1; i >= 0; i--)
        {
            _ct.ThrowIfCancellationRequested();
            acc = Combine(spine[i], acc, Eval(spine[i].Rhs));
        }
        return acc;
    }

    private EvalResult Combine(BinaryExpr b, EvalResult lhs, EvalResult rhs)
    {
        if (lhs is ScalarSteps ls && rhs is ScalarSteps rs)
        {
            var values = new double[ls.Values.Length];
            for (int i = 0; i < values.Length; i++)
            {
                var (v, keep) = ElementOp(b.Op, ls.Values[i], rs.Values[i]);
                values[i] = Tokens.IsComparison(b.Op) ? (keep ? 1 : 0) : v;
            }
            return new ScalarSteps(values);
        }
        var output = new SeriesAccumulator();
        var lv = new List<Sample>();
        var rv = new List<Sample>();
        var lc = lhs is SeriesResult l ? new StepCursor(l.Series) : null;
        var rc = rhs is SeriesResult r ? new StepCursor(r.Series) : null;
        var result = new List<Sample>();
        // Series are the same objects at every step: their signatures and result labels are computed once.
        var signatures = new Dictionary<Labels, Labels>(ReferenceEqualityComparer.Instance);
        var resultMetrics = new Dictionary<(Labels, Labels), Labels>(PairComparer.Instance);
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            result.Clear();
            if (lc is not null && rc is not null)
            {
                lc.At(ts, lv);
                rc.At(ts, rv);
                if (Tokens.IsSetOperator(b.Op)) SetOp(b, lv, rv, result, signatures);
                else VectorOp(b, lv, rv, result, signatures, resultMetrics, _notes);
            }
            else if (lc is not null)
            {
                lc.At(ts, lv);
                ScalarOp(b, lv, ((ScalarSteps)rhs).Values[i], scalarOnLeft: false, result, _notes);
            }
            else
            {
                rc!.At(ts, rv);
                ScalarOp(b, rv, ((ScalarSteps)lhs).Values[i], scalarOnLeft: true, result, _notes);
            }
            foreach (var s in result) output.Add(s.Metric, ts, s.F, s.H);
        }
        return output.Result();
    }

    /// <summary>The arithmetic or comparison of two floats; comparisons return the left value and whether it holds.</summary>
    internal static (double Value, bool Keep) ElementOp(TokenKind op, double l, double r) => op switch
    {
        TokenKind.Add => (l + r, true),
        TokenKind.Sub => (l - r, true),
        TokenKind.Mul => (l * r, true),
        TokenKind.Div => (l / r, true),
        TokenKind.Pow => (Math.Pow(l, r), true),
        TokenKind.Mod => (l % r, true),
        TokenKind.Atan2 => (Math.Atan2(l, r), true),
        TokenKind.TrimUpper or TokenKind.TrimLower => (l, false), // trims only apply to histograms
        TokenKind.Eql => (l, l == r),
        TokenKind.Neq => (l, l != r),
        TokenKind.Gtr => (l, l > r),
        TokenKind.Lss => (l, l < r),
        TokenKind.Gte => (l, l >= r),
        TokenKind.Lte => (l, l <= r),
        _ => throw new PromQLException(PromQLErrorType.Internal, "operator " + op + " not allowed for float operations"),
    };

    /// <summary>
    /// The operator on samples one of which (or both) is a histogram, as Prometheus allows it: histogram ± histogram,
    /// histogram * or / float, float * histogram, and == or != between histograms; any other pairing keeps nothing and
    /// notes an info. Comparisons return the left sample when they hold.
    /// </summary>
    internal static (double Value, FloatHistogram? H, bool Keep) HistogramOp(TokenKind op, double l, FloatHistogram? hl, double r, FloatHistogram? hr, Notes notes)
    {
        string text = Tokens.Text(op);
        if (hl is null)
        {
            if (op == TokenKind.Mul) return (0, hr!.Copy().Mul(l).Compact(0), true);
            notes.Info(Annotations.IncompatibleTypes("float", text, "histogram"));
            return (0, null, false);
        }
        if (hr is null)
        {
            if (Tokens.IsTrim(op)) return (0, hl.Trim(r, keepBelow: op == TokenKind.TrimUpper), true);
            if (op == TokenKind.Mul) return (0, hl.Copy().Mul(r).Compact(0), true);
            if (op == TokenKind.Div) return (0, hl.Copy().Div(r).Compact(0), true);
            notes.Info(Annotations.IncompatibleTypes("histogram", text, "float"));
            return (0, null, false);
        }
        switch (op)
        {
            case TokenKind.Add or TokenKind.Sub:
            {
                var h = hl.Copy();
                var merged = op == TokenKind.Add ? h.Add(hr) : h.Sub(hr);
                if (merged.HasFlag(HistogramMerge.IncompatibleSchema))
                {
                    notes.Warn(Annotations.MixedExponentialCustom(""));
                    return (0, null, false);
                }
                string operation = op == TokenKind.Add ? "addition" : "subtraction";
                if (merged.HasFlag(HistogramMerge.CounterResetCollision)) notes.Warn(Annotations.CounterResetCollision(operation));
                if (merged.HasFlag(HistogramMerge.CustomBoundsReconciled)) notes.Info(Annotations.MismatchedCustomBuckets(operation));
                if (op == TokenKind.Sub) h.CounterResetHint = CounterResetHint.Gauge;
                return (0, h.Compact(0), true);
            }
            case TokenKind.Eql: return (0, hl, hl.IdenticalTo(hr));
            case TokenKind.Neq: return (0, hl, !hl.IdenticalTo(hr));
        }
        notes.Info(Annotations.IncompatibleTypes("histogram", text, "histogram"));
        return (0, null, false);
    }

    private static void ScalarOp(BinaryExpr b, List<Sample> vector, double scalar, bool scalarOnLeft, List<Sample> result, Notes notes)
    {
        bool comparison = Tokens.IsComparison(b.Op);
        foreach (var s in vector)
        {
            if (s.H is not null)
            {
                // Only histogram * float, float * histogram and histogram / float have a result.
                var (_, h, _) = scalarOnLeft ? HistogramOp(b.Op, scalar, null, 0, s.H, notes) : HistogramOp(b.Op, 0, s.H, scalar, null, notes);
                if (h is not null) result.Add(new Sample(Tokens.IsTrim(b.Op) ? s.Metric : DropName(s.Metric), s.T, 0, h));
                continue;
            }
            double l = scalarOnLeft ? scalar : s.F, r = scalarOnLeft ? s.F : scalar;
            var (value, keep) = ElementOp(b.Op, l, r);
            // A comparison keeps the vector's value even when the scalar is on the left.
            if (comparison && scalarOnLeft) value = s.F;
            if (b.ReturnBool)
            {
                value = keep ? 1 : 0;
                keep = true;
            }
            if (!keep) continue;
            var metric = !comparison || b.ReturnBool ? DropName(s.Metric) : s.Metric;
            result.Add(new Sample(metric, s.T, value));
        }
    }

    private sealed class PairComparer : IEqualityComparer<(Labels, Labels)>
    {
        public static readonly PairComparer Instance = new();
        public bool Equals((Labels, Labels) x, (Labels, Labels) y) => ReferenceEquals(x.Item1, y.Item1) && ReferenceEquals(x.Item2, y.Item2);
        public int GetHashCode((Labels, Labels) p) => HashCode.Combine(System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(p.Item1),
            System.Runtime.CompilerServices.RuntimeHelpers.GetHashCode(p.Item2));
    }

    private static Labels CachedSignature(Labels metric, VectorMatching? m, Dictionary<Labels, Labels> cache)
    {
        if (!cache.TryGetValue(metric, out var sig)) cache[metric] = sig = Signature(metric, m);
        return sig;
    }

    private static Labels Signature(Labels metric, VectorMatching? m)
    {
        if (m is { On: true }) return metric.Keep(m.MatchingLabels.ToArray());
        // ignoring(labels) matches on the type and unit labels too (Prometheus's type-and-unit labels); plain matching does not.
        if (m is { MatchingLabels.Count: > 0 }) return metric.Without([.. m.MatchingLabels, LabelNames.MetricName, DroppedNameLabel]);
        return metric.Without(LabelNames.MetricName, TypeLabel, UnitLabel, DroppedNameLabel);
    }

    private static void SetOp(BinaryExpr b, List<Sample> lhs, List<Sample> rhs, List<Sample> result, Dictionary<Labels, Labels> signatures)
    {
        var m = b.Matching;
        Labels Signature(Labels metric, VectorMatching? matching) => CachedSignature(metric, matching, signatures);
        switch (b.Op)
        {
            case TokenKind.And:
            {
                var right = new HashSet<Labels>(rhs.Select(s => Signature(s.Metric, m)));
                foreach (var s in lhs) if (right.Contains(Signature(s.Metric, m))) result.Add(s);
                break;
            }
            case TokenKind.Or:
            {
                var left = new HashSet<Labels>();
                foreach (var s in lhs) { left.Add(Signature(s.Metric, m)); result.Add(s); }
                foreach (var s in rhs) if (!left.Contains(Signature(s.Metric, m))) result.Add(s);
                break;
            }
            case TokenKind.Unless:
            {
                var right = new HashSet<Labels>(rhs.Select(s => Signature(s.Metric, m)));
                foreach (var s in lhs) if (!right.Contains(Signature(s.Metric, m))) result.Add(s);
                break;
            }
        }
    }

    private static void VectorOp(BinaryExpr b, List<Sample> lhs, List<Sample> rhs, List<Sample> result,
        Dictionary<Labels, Labels> signatures, Dictionary<(Labels, Labels), Labels> resultMetrics, Notes notes)
    {
        var m = b.Matching ?? new VectorMatching();
        Labels Signature(Labels metric, VectorMatching matching) => CachedSignature(metric, matching, signatures);
        bool swapped = m.Card == VectorMatchCardinality.OneToMany;
        if (swapped) (lhs, rhs) = (rhs, lhs);
        var right = new Dictionary<Labels, Sample>();
        foreach (var s in rhs)
        {
            var sig = Signature(s.Metric, m);
            if (right.TryGetValue(sig, out var dup))
                throw new PromQLException(PromQLErrorType.Execution,
                    $"found duplicate series for the match group {sig} on the {(swapped ? "left" : "right")} hand-side of the operation: " +
                    $"[{dup.Metric}, {s.Metric}];many-to-many matching not allowed: matching labels must be unique on one side");
            right[sig] = s;
        }
        var matchedSigs = m.Card == VectorMatchCardinality.OneToOne ? new Dictionary<Labels, bool>() : null;
        var outputs = m.Card != VectorMatchCardinality.OneToOne ? new HashSet<Labels>() : null;
        // As Prometheus applies them: with group_right, fill_left stands in for the "many" side and fill_right for the "one" side.
        double? fillInner = m.FillLeft, fillOuter = m.FillRight;
        var usedSigs = fillInner is not null ? new HashSet<Labels>() : null;
        foreach (var ls in lhs)
        {
            var sig = Signature(ls.Metric, m);
            if (!right.TryGetValue(sig, out var rs))
            {
                if (fillOuter is not { } fill) continue;
                rs = new Sample(sig, ls.T, fill);
            }
            else
            {
                usedSigs?.Add(sig);
            }
            Emit(ls, rs, sig);
        }
        if (usedSigs is not null)
            foreach (var (sig, rs) in right)
                if (!usedSigs.Contains(sig)) Emit(new Sample(sig, rs.T, fillInner!.Value), rs, sig);

        void Emit(Sample ls, Sample rs, Labels sig)
        {
            // Several left series for one right series need group_left, whether or not a comparison keeps them.
            if (matchedSigs is not null)
            {
                if (matchedSigs.ContainsKey(sig))
                    throw new PromQLException(PromQLErrorType.Execution,
                        "multiple matches for labels: many-to-one matching must be explicit (group_left/group_right)");
                matchedSigs[sig] = true;
            }
            double vl = ls.F, vr = rs.F;
            FloatHistogram? hl = ls.H, hr = rs.H;
            if (swapped) (vl, vr, hl, hr) = (vr, vl, hr, hl);
            double value;
            bool keep;
            FloatHistogram? h = null;
            if (hl is null && hr is null) (value, keep) = ElementOp(b.Op, vl, vr);
            else
            {
                (value, h, keep) = HistogramOp(b.Op, vl, hl, vr, hr, notes);
                if (h is null) return; // no result for this pairing, even with bool
            }
            if (b.ReturnBool)
            {
                value = keep ? 1 : 0;
                h = null;
                keep = true;
            }
            else if (!keep)
            {
                return;
            }
            if (!resultMetrics.TryGetValue((ls.Metric, rs.Metric), out var metric))
            {
                metric = ResultMetric(ls.Metric, rs.Metric, b.Op, m);
                if (b.ReturnBool) metric = DropName(metric);
                resultMetrics[(ls.Metric, rs.Metric)] = metric;
            }
            if (outputs is not null && !outputs.Add(metric))
            {
                throw new PromQLException(PromQLErrorType.Execution, "multiple matches for labels: grouping labels must ensure unique matches");
            }
            result.Add(new Sample(metric, ls.T, value, h));
        }
    }

    private static Labels ResultMetric(Labels lhs, Labels rhs, TokenKind op, VectorMatching m)
    {
        var builder = new LabelsBuilder(Tokens.IsComparison(op) || Tokens.IsTrim(op) ? lhs : DropName(lhs));
        if (m.Card == VectorMatchCardinality.OneToOne)
        {
            if (m.On)
            {
                foreach (var l in lhs)
                    if (!m.MatchingLabels.Contains(l.Name)) builder.Delete(l.Name);
                builder.Delete(DroppedNameLabel);
            }
            else
            {
                builder.Delete(m.MatchingLabels.ToArray());
            }
        }
        foreach (var name in m.Include)
        {
            string v = rhs.Get(name);
            if (v.Length > 0) builder.Set(name, v);
            else builder.Delete(name);
        }
        return builder.Build();
    }
}
