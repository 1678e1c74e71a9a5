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
            return (Labels: SeriesNotation.ParseLabels(series), Value: SeriesNotation.ParseValues(values)[0].Value);
        }).ToList();
        if (expected.Count != v.Samples.Count)
            return $"got {v.Samples.Count} samples, expected {expected.Count}: got {Describe(v)}";
        for (int i = 0; i < expected.Count; i++)
        {
            var (labels, value) = expected[i];
            int index = e.Ordered ? i : v.Samples.FindIndex(s => s.Metric.Equals(labels));
            if (index < 0 || !v.Samples[index].Metric.Equals(labels))
                return $"expected series {labels} {(e.Ordered ? "at position " + i : "")} not found in {Describe(v)}";
            if (!AlmostEqual(v.Samples[index].F, value))
                return $"series {labels}: got {v.Samples[index].F}, expected {value}";
        }
        return null;
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
            var want = new List<(long T, double V)>();
            for (int k = 0; k < values.Count; k++)
            {
                if (values[k].Omitted) continue;
                long t = steps is { } st ? st.From + k * st.Step : k;
                want.Add((t, values[k].Value));
            }
            if (want.Count != actual.Points.Count)
                return $"series {labels}: got {actual.Points.Count} points [{string.Join(" ", actual.Points.Select(p => $"{p.F}@{p.T}"))}], expected {want.Count}";
            for (int k = 0; k < want.Count; k++)
            {
                if (steps is not null && actual.Points[k].T != want[k].T)
                    return $"series {labels}: point {k} at {actual.Points[k].T}, expected at {want[k].T}";
                if (!AlmostEqual(actual.Points[k].F, want[k].V))
                    return $"series {labels}: point {k} is {actual.Points[k].F}, expected {want[k].V}";
            }
        }
        return null;
    }

    private static string Describe(VectorValue v) => string.Join(", ", v.Samples.Take(10).Select(s => $"{s.Metric} {s.F}"));
}
