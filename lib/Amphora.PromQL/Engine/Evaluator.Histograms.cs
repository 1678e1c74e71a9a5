using System.Globalization;
using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Engine;

internal sealed partial class Evaluator
{
    private readonly record struct Bucket(double UpperBound, double Count);

    /// <summary>Groups a step's classic-histogram buckets by their labels without <c>le</c> (and the metric name).</summary>
    private Dictionary<Labels, List<Bucket>> GroupBuckets(List<Sample> vector, List<Labels> order)
    {
        var groups = new Dictionary<Labels, List<Bucket>>();
        foreach (var s in vector)
        {
            if (s.H is not null) continue;
            string le = s.Metric.Get("le");
            if (le.Length == 0 || !TryParseBound(le, out double bound))
            {
                _warnings.Add($"PromQL warning: bucket label \"le\" is missing or has a malformed value of \"{le}\" for metric name \"{s.Metric.Get(LabelNames.MetricName)}\"");
                continue;
            }
            // Grouped with the metric name (two histograms never merge); the name is dropped from the result.
            var key = s.Metric.Without("le");
            if (!groups.TryGetValue(key, out var list))
            {
                groups[key] = list = new List<Bucket>();
                order.Add(key);
            }
            list.Add(new Bucket(bound, s.F));
        }
        return groups;
    }

    /// <summary>
    /// The native histograms of a step's vector. One whose labels are those of a classic histogram's buckets (without
    /// <c>le</c>) conflicts with it: both are left out, with a warning.
    /// </summary>
    private List<Sample> NativeSamples(List<Sample> vector, Dictionary<Labels, List<Bucket>> classic, List<Labels> order)
    {
        var natives = new List<Sample>();
        foreach (var s in vector)
        {
            if (s.H is null) continue;
            if (classic.Remove(s.Metric))
            {
                order.Remove(s.Metric);
                _notes.Warn(Annotations.MixedClassicNativeHistograms(s.Metric.Get(LabelNames.MetricName)));
                continue;
            }
            natives.Add(s);
        }
        return natives;
    }

    private static bool TryParseBound(string le, out double bound)
    {
        if (le is "+Inf" or "Inf" or "+inf" or "inf") { bound = double.PositiveInfinity; return true; }
        if (le is "-Inf" or "-inf") { bound = double.NegativeInfinity; return true; }
        return double.TryParse(le, NumberStyles.Float, CultureInfo.InvariantCulture, out bound);
    }

    private SeriesResult EvalHistogramQuantile(Call call)
    {
        var q = ((ScalarSteps)Eval(call.Args[0])).Values;
        var input = (SeriesResult)Eval(call.Args[1]);
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        var output = new SeriesAccumulator();
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            cursor.At(ts, vector);
            if (double.IsNaN(q[i]) || q[i] < 0 || q[i] > 1)
                _warnings.Add($"PromQL warning: quantile value should be between 0 and 1, got {FormatValue(q[i])}");
            if (vector.Count == 0) continue;
            var order = new List<Labels>();
            var groups = GroupBuckets(vector, order);
            foreach (var s in NativeSamples(vector, groups, order))
                output.Add(DropName(s.Metric), ts, NativeHistogramMath.Quantile(q[i], s.H!, s.Metric.Get(LabelNames.MetricName), _notes));
            foreach (var key in order)
            {
                double value = BucketQuantile(q[i], groups[key], out bool fixedMonotonicity);
                if (fixedMonotonicity)
                    _infos.Add($"PromQL info: input to histogram_quantile needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"{input.Series.FirstOrDefault()?.Metric.Get(LabelNames.MetricName)}\"");
                output.Add(DropName(key), ts, value);
            }
        }
        return output.Result();
    }

    /// <summary>histogram_quantiles(v, "label", q...): one result series per quantile, told apart by the given label.</summary>
    private SeriesResult EvalHistogramQuantiles(Call call)
    {
        var input = (SeriesResult)Eval(call.Args[0]);
        string label = StringArg(call, 1);
        if (!LabelNames.IsValid(label)) throw new PromQLException(PromQLErrorType.Execution, $"invalid label name \"{label}\"");
        var qs = Enumerable.Range(2, call.Args.Count - 2).Select(a => ((ScalarSteps)Eval(call.Args[a])).Values).ToList();
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        var output = new SeriesAccumulator();
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            cursor.At(ts, vector);
            foreach (var q in qs)
                if (double.IsNaN(q[i]) || q[i] < 0 || q[i] > 1)
                    _warnings.Add($"PromQL warning: quantile value should be between 0 and 1, got {FormatValue(q[i])}");
            if (vector.Count == 0) continue;
            var order = new List<Labels>();
            var groups = GroupBuckets(vector, order);
            foreach (var s in NativeSamples(vector, groups, order))
                foreach (var q in qs)
                    output.Add(new LabelsBuilder(DropName(s.Metric)).Set(label, FormatOpenMetricsFloat(q[i])).Build(), ts,
                        NativeHistogramMath.Quantile(q[i], s.H!, s.Metric.Get(LabelNames.MetricName), _notes));
            foreach (var key in order)
            {
                foreach (var q in qs)
                {
                    double value = BucketQuantile(q[i], groups[key].ToList(), out bool fixedMonotonicity);
                    if (fixedMonotonicity)
                        _infos.Add($"PromQL info: input to histogram_quantiles needed to be fixed for monotonicity (see https://prometheus.io/docs/prometheus/latest/querying/functions/#histogram_quantile) for metric name \"{key.Get(LabelNames.MetricName)}\"");
                    var metric = new LabelsBuilder(DropName(key)).Set(label, FormatOpenMetricsFloat(q[i])).Build();
                    output.Add(metric, ts, value);
                }
            }
        }
        return output.Result();
    }

    /// <summary>Floats as OpenMetrics writes them: integral values keep a ".0" (1.0, 0.0), others their shortest form.</summary>
    private static string FormatOpenMetricsFloat(double f)
    {
        string s = FormatValue(f);
        return double.IsFinite(f) && !s.Contains('.') && !s.Contains('e') ? s + ".0" : s;
    }

    /// <summary>The quantile of classic buckets, interpolating linearly inside the bucket that holds the rank.</summary>
    private static double BucketQuantile(double q, List<Bucket> buckets, out bool fixedMonotonicity)
    {
        fixedMonotonicity = false;
        if (double.IsNaN(q)) return double.NaN;
        if (q < 0) return double.NegativeInfinity;
        if (q > 1) return double.PositiveInfinity;
        buckets.Sort(static (a, b) => a.UpperBound.CompareTo(b.UpperBound));
        if (buckets.Count == 0 || !double.IsPositiveInfinity(buckets[^1].UpperBound)) return double.NaN;
        // Buckets with the same upper bound (e.g. "1" and "1.0") are merged.
        var merged = new List<Bucket>(buckets.Count);
        foreach (var b in buckets)
        {
            if (merged.Count > 0 && merged[^1].UpperBound == b.UpperBound) merged[^1] = merged[^1] with { Count = merged[^1].Count + b.Count };
            else merged.Add(b);
        }
        double max = double.NegativeInfinity;
        for (int i = 0; i < merged.Count; i++)
        {
            if (merged[i].Count < max)
            {
                merged[i] = merged[i] with { Count = max };
                fixedMonotonicity = true;
            }
            else
            {
                max = merged[i].Count;
            }
        }
        if (merged.Count < 2) return double.NaN;
        double observations = merged[^1].Count;
        if (observations == 0) return double.NaN;
        double rank = q * observations;
        int index = 0;
        while (index < merged.Count - 1 && merged[index].Count < rank) index++;
        if (index == merged.Count - 1) return merged[^2].UpperBound;
        if (index == 0 && merged[0].UpperBound <= 0) return merged[0].UpperBound;
        double bucketStart = 0, bucketEnd = merged[index].UpperBound, count = merged[index].Count;
        if (index > 0)
        {
            bucketStart = merged[index - 1].UpperBound;
            count -= merged[index - 1].Count;
            rank -= merged[index - 1].Count;
        }
        return bucketStart + (bucketEnd - bucketStart) * (rank / count);
    }

    private SeriesResult EvalHistogramFraction(Call call)
    {
        var lower = ((ScalarSteps)Eval(call.Args[0])).Values;
        var upper = ((ScalarSteps)Eval(call.Args[1])).Values;
        var input = (SeriesResult)Eval(call.Args[2]);
        var cursor = new StepCursor(input.Series);
        var vector = new List<Sample>();
        var output = new SeriesAccumulator();
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            cursor.At(ts, vector);
            var order = new List<Labels>();
            var groups = GroupBuckets(vector, order);
            foreach (var s in NativeSamples(vector, groups, order))
                output.Add(DropName(s.Metric), ts, NativeHistogramMath.Fraction(lower[i], upper[i], s.H!, s.Metric.Get(LabelNames.MetricName), _notes));
            foreach (var key in order) output.Add(DropName(key), ts, BucketFraction(lower[i], upper[i], groups[key]));
        }
        return output.Result();
    }

    /// <summary>
    /// The fraction of observations between two values: ranks interpolate linearly inside a bucket, except in the infinitely
    /// wide lowest (from -Inf) and highest (to +Inf) buckets, which count only at their edges.
    /// </summary>
    private static double BucketFraction(double lower, double upper, List<Bucket> buckets)
    {
        buckets.Sort(static (a, b) => a.UpperBound.CompareTo(b.UpperBound));
        if (buckets.Count == 0 || !double.IsPositiveInfinity(buckets[^1].UpperBound)) return double.NaN;
        for (int i = 1; i < buckets.Count; i++)
            if (buckets[i].Count < buckets[i - 1].Count) buckets[i] = buckets[i] with { Count = buckets[i - 1].Count };
        double total = buckets[^1].Count;
        if (total == 0 || double.IsNaN(lower) || double.IsNaN(upper) || double.IsNaN(total)) return double.NaN;
        if (lower >= upper) return 0;
        double Rank(double x)
        {
            if (double.IsNegativeInfinity(x)) return 0;
            if (double.IsPositiveInfinity(x)) return total;
            for (int i = 0; i < buckets.Count; i++)
            {
                var b = buckets[i];
                if (x > b.UpperBound) continue;
                double previousCount = i == 0 ? 0 : buckets[i - 1].Count;
                double start = i > 0 ? buckets[i - 1].UpperBound : b.UpperBound > 0 ? 0 : double.NegativeInfinity;
                // No interpolation inside an infinitely wide bucket: all of the lowest one lies below x, none of the highest.
                if (double.IsNegativeInfinity(start)) return b.Count;
                if (double.IsPositiveInfinity(b.UpperBound)) return previousCount;
                if (x <= start) return previousCount;
                return previousCount + (b.Count - previousCount) * (x - start) / (b.UpperBound - start);
            }
            return total;
        }
        return (Rank(upper) - Rank(lower)) / total;
    }
}
