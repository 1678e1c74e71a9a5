using System.Text.RegularExpressions;
using Amphora.Model;
using Amphora.PromQL.Engine;

namespace Amphora.PromQL.Tests.Scripts;

public sealed partial class ScriptRunner
{
    private const double Epsilon = 0.000001;
    private const double MinNormal = 2.2250738585072014e-308;

    /// <summary>Equality as the reference runner has it: NaN equals NaN, otherwise a small relative tolerance.</summary>
    public static bool AlmostEqual(double a, double b)
    {
        if (double.IsNaN(a) && double.IsNaN(b)) return true;
        if (a == b) return true;
        double absSum = Math.Abs(a) + Math.Abs(b);
        double diff = Math.Abs(a - b);
        if (a == 0 || b == 0 || absSum < MinNormal) return diff < Epsilon * MinNormal;
        return diff / Math.Min(absSum, double.MaxValue) < Epsilon;
    }

    private static string? CheckResult(Expectations e, QueryResult r, bool instant, Match? range)
    {
        switch (r.Value)
        {
            case StringValue s:
                if (e.String is null) return $"got string \"{s.V}\", expected no string";
                return s.V == e.String ? null : $"string \"{s.V}\", expected \"{e.String}\"";
            case ScalarValue s:
            {
                if (e.Results.Count != 1) return $"got scalar {s.V}, expected {e.Results.Count} lines";
                double want = SeriesNotation.ParseNumber(e.Results[0]);
                return AlmostEqual(s.V, want) ? null : $"scalar {s.V}, expected {want}";
            }
            case VectorValue v:
                return CheckVector(e, v);
            case MatrixValue m when instant:
                return CheckMatrix(e, m, e.RangeVector);
            case MatrixValue m:
            {
                long from = SeriesNotation.ParseTime(range!.Groups["from"].Value);
                long to = SeriesNotation.ParseTime(range.Groups["to"].Value);
                long step = SeriesNotation.ParseTime(range.Groups["step"].Value);
                return CheckMatrix(e, m, (from, to, step));
            }
        }
        return "unexpected result type " + r.Value.GetType().Name;
    }

    private static string? CheckVector(Expectations e, VectorValue v)
    {
        var expected = e.Results.Select(line =>
        {
            var (series, values) = SeriesNotation.Split(line);
            return (Labels: SeriesNotation.ParseLabels(series), Value: SeriesNotation.ParseValues(values)[0]);
        }).ToList();
        if (expected.Count != v.Samples.Count)
            return $"got {v.Samples.Count} samples, expected {expected.Count}: got {Describe(v)}";
        for (int i = 0; i < expected.Count; i++)
        {
            var (labels, value) = expected[i];
            int index = e.Ordered ? i : v.Samples.FindIndex(s => s.Metric.Equals(labels));
            if (index < 0 || !v.Samples[index].Metric.Equals(labels))
                return $"expected series {labels} {(e.Ordered ? "at position " + i : "")} not found in {Describe(v)}";
            var actual = v.Samples[index];
            if (Differs(value, actual.F, actual.H) is { } why) return $"series {labels}: {why}";
        }
        return null;
    }

    /// <summary>Why an actual value is not the expected one, or null when it is.</summary>
    private static string? Differs(NotationValue want, double f, FloatHistogram? h)
    {
        if (want.Histogram is null && h is not null) return $"got histogram {h}, expected {want.Value}";
        if (want.Histogram is not null && h is null) return $"got {f}, expected histogram {want.Histogram}";
        if (want.Histogram is not null && !SameHistogram(want.Histogram, h!)) return $"got {h!.Copy().Compact(0)}, expected {want.Histogram.Copy().Compact(0)}";
        if (want.Histogram is null && !AlmostEqual(f, want.Value)) return $"got {f}, expected {want.Value}";
        return null;
    }

    /// <summary>The reference runner's comparison: both compacted, then schema, bounds and buckets alike, counts within the tolerance.</summary>
    private static bool SameHistogram(FloatHistogram expected, FloatHistogram actual)
    {
        var a = expected.Copy().Compact(0);
        var b = actual.Copy().Compact(0);
        if (a.Schema != b.Schema || !AlmostEqual(a.Count, b.Count) || !AlmostEqual(a.Sum, b.Sum)) return false;
        if (a.UsesCustomBuckets && !a.CustomValues.AsSpan().SequenceEqual(b.CustomValues)) return false;
        if (a.ZeroThreshold != b.ZeroThreshold || !AlmostEqual(a.ZeroCount, b.ZeroCount)) return false;
        return SameSide(a.PositiveSpans, a.PositiveBuckets, b.PositiveSpans, b.PositiveBuckets)
            && SameSide(a.NegativeSpans, a.NegativeBuckets, b.NegativeSpans, b.NegativeBuckets);

        static bool SameSide(HistogramSpan[] sa, double[] ba, HistogramSpan[] sb, double[] bb)
        {
            if (ba.Length != bb.Length || !sa.Where(x => x.Length > 0).SequenceEqual(sb.Where(x => x.Length > 0))) return false;
            for (int i = 0; i < ba.Length; i++)
                if (!AlmostEqual(ba[i], bb[i])) return false;
            return true;
        }
    }

    private static string? CheckMatrix(Expectations e, MatrixValue m, (long From, long To, long Step)? steps)
    {
        var expected = e.Results.Select(line =>
        {
            var (series, values) = SeriesNotation.Split(line);
            return (Labels: SeriesNotation.ParseLabels(series), Values: SeriesNotation.ParseValues(values));
        }).ToList();
        if (expected.Count != m.Series.Count)
            return $"got {m.Series.Count} series, expected {expected.Count}: got {string.Join(", ", m.Series.Select(s => s.Metric))}";
        foreach (var (labels, values) in expected)
        {
            var actual = m.Series.FirstOrDefault(s => s.Metric.Equals(labels));
            if (actual is null) return $"expected series {labels} not found";
            // Floats and histograms are compared as two sequences, as the reference runner keeps them apart.
            foreach (bool histograms in new[] { false, true })
            {
                var want = new List<(long T, NotationValue V)>();
                for (int k = 0; k < values.Count; k++)
                {
                    if (values[k].Omitted || (values[k].Histogram is not null) != histograms) continue;
                    long t = steps is { } st ? st.From + k * st.Step : k;
                    want.Add((t, values[k]));
                }
                var got = actual.Points.Where(p => (p.H is not null) == histograms).ToList();
                if (want.Count != got.Count)
                    return $"series {labels}: got {got.Count} {(histograms ? "histogram" : "float")} points [{string.Join(" ", got.Select(p => $"{(p.H is null ? p.F.ToString(System.Globalization.CultureInfo.InvariantCulture) : p.H.ToString())}@{p.T}"))}], expected {want.Count}";
                for (int k = 0; k < want.Count; k++)
                {
                    if (steps is not null && got[k].T != want[k].T)
                        return $"series {labels}: point {k} at {got[k].T}, expected at {want[k].T}";
                    if (Differs(want[k].V, got[k].F, got[k].H) is { } why) return $"series {labels}: point {k}: {why}";
                }
            }
        }
        return null;
    }

    private static string Describe(VectorValue v) => string.Join(", ", v.Samples.Take(10).Select(s => $"{s.Metric} {(s.H is null ? s.F : s.H)}"));
}
