using Amphora.Model;

namespace Amphora.PromQL.Engine;

/// <summary>The anchored and smoothed range modifiers, and the smoothed instant selector, over native histograms.</summary>
internal sealed partial class Evaluator
{
    /// <summary>
    /// rate, increase, delta, changes and resets of an anchored or smoothed window holding histograms, as
    /// <see cref="RangeFunctions.Extended"/> does for floats: the window also holds the last sample at or before its start
    /// and, smoothed, the first after its end; the edges are those samples, or for smoothed the histograms interpolated
    /// at the range's start and end. No extrapolation. Null (with the warning Prometheus gives) when there is no result.
    /// </summary>
    private FPoint? ExtendedHistogramFunction(string name, Window w, long rangeMs, bool smoothed)
    {
        int last = w.Count - 1, first = 0;
        while (first + 1 <= last && w.T(first + 1) <= w.Start) first++;
        if (smoothed)
        {
            int k = 0;
            while (k < last && w.T(k) < w.End) k++;
            last = k;
        }
        if (w.T(last) <= w.Start || w.T(first) > w.End) return null;
        if (name is "changes" or "resets")
            return new FPoint(0, Transitions(w with { Lo = w.Lo + first, Hi = w.Lo + last + 1 }, changes: name == "changes", ref _startTimeOverlap, startTimestamps: false));
        bool custom = false;
        int minSchema = int.MaxValue;
        for (int i = first; i <= last; i++)
        {
            if (w.H(i) is not { } h)
            {
                Warn(Annotations.MixedFloatsHistograms(w.Metric));
                return null;
            }
            if (i == first) custom = h.UsesCustomBuckets;
            else if (h.UsesCustomBuckets != custom)
            {
                Warn(Annotations.MixedExponentialCustom(w.Metric));
                return null;
            }
            minSchema = Math.Min(minSchema, h.Schema);
        }
        bool isCounter = name != "delta";
        if (isCounter)
        {
            for (int i = first; i <= last; i++)
                if (w.H(i)!.CounterResetHint == CounterResetHint.Gauge) Warn(Annotations.NotCounter(w.Metric));
        }
        else if (w.H(first)!.CounterResetHint != CounterResetHint.Gauge || w.H(last)!.CounterResetHint != CounterResetHint.Gauge)
        {
            Warn(Annotations.NotGauge(w.Metric));
        }
        bool leftInterpolated = smoothed && w.T(first) < w.Start;
        bool rightInterpolated = smoothed && last > 0 && w.T(last) > w.End;
        var left = leftInterpolated ? InterpolateHistogram(w, first, w.Start, isCounter) : w.H(first);
        var right = rightInterpolated ? InterpolateHistogram(w, last - 1, w.End, isCounter) : w.H(last);
        if (left is null || right is null) return null;
        var result = right.CopyToSchema(minSchema);
        if (!Merged(result.Sub(left), "subtraction", w.Metric)) return null;
        if (isCounter)
        {
            // Resets between consecutive samples, starting from the left edge. An interpolated edge has accounted for the
            // reset of the pair of samples it lies between.
            var prev = left;
            int end = rightInterpolated ? last - 1 : last;
            for (int i = first + 1; i <= end; i++)
            {
                var curr = w.H(i)!;
                if (!(leftInterpolated && i == first + 1) && curr.DetectReset(prev) && !Merged(result.Add(prev), "addition", w.Metric)) return null;
                prev = curr;
            }
            if (rightInterpolated && !(leftInterpolated && last == first + 1) && right.DetectReset(prev) &&
                !Merged(result.Add(prev), "addition", w.Metric)) return null;
        }
        if (name == "rate") result.Div(rangeMs / 1000.0);
        result.Compact(0);
        result.CounterResetHint = CounterResetHint.Gauge;
        return new FPoint(0, 0, result);
    }

    /// <summary>The histogram between samples <paramref name="i"/> and <paramref name="i"/>+1 of the window at time <paramref name="t"/>.</summary>
    private FloatHistogram? InterpolateHistogram(Window w, int i, long t, bool isCounter) =>
        InterpolateHistogram(w.H(i)!, w.T(i), w.H(i + 1)!, w.T(i + 1), t, isCounter, w.Metric);

    /// <summary>
    /// The histogram at <paramref name="t"/> on the line between two histogram samples; a counter reset between them counts
    /// from zero (the result then says it is a reset). Null, with a warning, when the two cannot be combined.
    /// </summary>
    private FloatHistogram? InterpolateHistogram(FloatHistogram h1, long t1, FloatHistogram h2, long t2, long t, bool isCounter, string metric)
    {
        if (h1.UsesCustomBuckets != h2.UsesCustomBuckets)
        {
            Warn(Annotations.MixedExponentialCustom(metric));
            return null;
        }
        double fraction = (double)(t - t1) / (t2 - t1);
        if (isCounter && h2.DetectReset(h1))
        {
            var restarted = h2.Copy().Mul(fraction);
            restarted.CounterResetHint = CounterResetHint.CounterReset;
            return restarted;
        }
        var r = h2.CopyToSchema(Math.Min(h1.Schema, h2.Schema));
        if (!Merged(r.Sub(h1), "subtraction", metric)) return null;
        r.Mul(fraction);
        if (!Merged(r.Add(h1), "addition", metric)) return null;
        r.CounterResetHint = CounterResetHint.Unknown;
        return r;
    }

    /// <summary>False, with the warning, when a histogram operation met incompatible schemas; informs when custom bounds were reconciled.</summary>
    private bool Merged(HistogramMerge merge, string operation, string metric)
    {
        if (merge.HasFlag(HistogramMerge.IncompatibleSchema))
        {
            Warn(Annotations.MixedExponentialCustom(metric));
            return false;
        }
        if (merge.HasFlag(HistogramMerge.CustomBoundsReconciled)) Inform(Annotations.MismatchedCustomBuckets(operation));
        return true;
    }
}
