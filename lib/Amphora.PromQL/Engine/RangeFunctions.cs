namespace Amphora.PromQL.Engine;

/// <summary>
/// Functions over a window of one series' samples (times in ms, values). The window is (rangeStart, rangeEnd]; functions
/// return null when they produce no sample.
/// </summary>
internal static class RangeFunctions
{
    public delegate double? WindowFunction(ReadOnlySpan<long> t, ReadOnlySpan<double> v, long rangeStart, long rangeEnd, long stepTime, double arg1, double arg2);

    public static WindowFunction? Get(string name) => name switch
    {
        "rate" => (t, v, s, e, _, _, _) => ExtrapolatedRate(t, v, s, e, isCounter: true, isRate: true),
        "increase" => (t, v, s, e, _, _, _) => ExtrapolatedRate(t, v, s, e, isCounter: true, isRate: false),
        "delta" => (t, v, s, e, _, _, _) => ExtrapolatedRate(t, v, s, e, isCounter: false, isRate: false),
        "irate" => (t, v, _, _, _, _, _) => InstantDelta(t, v, isRate: true),
        "idelta" => (t, v, _, _, _, _, _) => InstantDelta(t, v, isRate: false),
        "deriv" => (t, v, _, _, _, _, _) => t.Length < 2 ? null : LinearRegression(t, v, t[0]).Slope,
        "predict_linear" => (t, v, _, _, ts, a, _) =>
        {
            if (t.Length < 2) return null;
            var (slope, intercept) = LinearRegression(t, v, ts);
            return intercept + slope * a;
        },
        "changes" => (t, v, _, _, _, _, _) => Count(v, static (prev, cur) => cur != prev && !(double.IsNaN(cur) && double.IsNaN(prev))),
        "resets" => (t, v, _, _, _, _, _) => Count(v, static (prev, cur) => cur < prev),
        "avg_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : Evaluator.Average(v.ToArray()),
        "sum_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : KahanSum(v),
        "count_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : v.Length,
        "min_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : MinMax(v, max: false),
        "max_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : MinMax(v, max: true),
        "last_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : v[^1],
        "first_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : v[0],
        "ts_of_last_over_time" => (t, v, _, _, _, _, _) => t.Length == 0 ? null : t[^1] / 1000.0,
        "ts_of_first_over_time" => (t, v, _, _, _, _, _) => t.Length == 0 ? null : t[0] / 1000.0,
        "ts_of_max_over_time" => (t, v, _, _, _, _, _) => t.Length == 0 ? null : t[IndexOfExtreme(v, max: true)] / 1000.0,
        "ts_of_min_over_time" => (t, v, _, _, _, _, _) => t.Length == 0 ? null : t[IndexOfExtreme(v, max: false)] / 1000.0,
        "present_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : 1,
        "stddev_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : Math.Sqrt(Evaluator.Variance(v.ToArray())),
        "stdvar_over_time" => (t, v, _, _, _, _, _) => v.Length == 0 ? null : Evaluator.Variance(v.ToArray()),
        "quantile_over_time" => (t, v, _, _, _, a, _) => v.Length == 0 ? null : Evaluator.Quantile(a, v.ToArray().ToList()),
        "mad_over_time" => (t, v, _, _, _, _, _) =>
        {
            if (v.Length == 0) return null;
            foreach (double x in v) if (double.IsNaN(x)) return double.NaN;
            double median = Evaluator.Quantile(0.5, v.ToArray().ToList());
            var deviations = new List<double>(v.Length);
            foreach (double x in v) deviations.Add(Math.Abs(x - median));
            return Evaluator.Quantile(0.5, deviations);
        },
        "double_exponential_smoothing" => (t, v, _, _, _, sf, tf) => DoubleExponentialSmoothing(v, sf, tf),
        _ => null,
    };

    /// <summary>rate, increase and delta: the change over the window, extrapolated towards the window's edges.</summary>
    public static double? ExtrapolatedRate(ReadOnlySpan<long> t, ReadOnlySpan<double> v, long rangeStart, long rangeEnd, bool isCounter, bool isRate)
    {
        if (t.Length < 2) return null;
        double result = v[^1] - v[0];
        if (isCounter)
        {
            double prev = v[0];
            for (int i = 1; i < v.Length; i++)
            {
                if (v[i] < prev) result += prev;
                prev = v[i];
            }
        }
        return result * ExtrapolationFactor(t[0], t[^1], t.Length, rangeStart, rangeEnd, isCounter, isRate, v[0], result);
    }

    /// <summary>
    /// The factor that stretches the change seen between the first and last of <paramref name="count"/> samples to the
    /// window: to its edges when samples come close to them, else by half an average interval; a counter is not
    /// extrapolated below zero (from <paramref name="firstValue"/>, the first count, and <paramref name="result"/>, the
    /// change). Per second when <paramref name="isRate"/>. Floats and histograms (with their counts) share it.
    /// With <paramref name="zeroAt"/> (not 0: the first sample's start timestamp, inside the window) the counter was zero
    /// then: the change is seen from there, nothing is extrapolated to the left, and to the right only when there are two
    /// samples to take an average interval from (the start timestamp is not a sample).
    /// </summary>
    public static double ExtrapolationFactor(long firstT, long lastT, int count, long rangeStart, long rangeEnd, bool isCounter, bool isRate,
        double firstValue, double result, long zeroAt = 0)
    {
        if (zeroAt != 0)
        {
            double seen = (lastT - zeroAt) / 1000.0;
            double toEnd = 0;
            if (count > 1)
            {
                toEnd = (rangeEnd - lastT) / 1000.0;
                double average = (lastT - firstT) / 1000.0 / (count - 1);
                if (toEnd >= average * 1.1) toEnd = average / 2;
            }
            double f = (seen + toEnd) / seen;
            return isRate ? f / ((rangeEnd - rangeStart) / 1000.0) : f;
        }
        double durationToStart = (firstT - rangeStart) / 1000.0;
        double durationToEnd = (rangeEnd - lastT) / 1000.0;
        double sampledInterval = (lastT - firstT) / 1000.0;
        double averageInterval = sampledInterval / (count - 1);
        double threshold = averageInterval * 1.1;
        if (durationToStart >= threshold) durationToStart = averageInterval / 2;
        if (isCounter && result > 0 && firstValue >= 0)
        {
            double durationToZero = sampledInterval * (firstValue / result);
            if (durationToZero < durationToStart) durationToStart = durationToZero;
        }
        if (durationToEnd >= threshold) durationToEnd = averageInterval / 2;
        double factor = (sampledInterval + durationToStart + durationToEnd) / sampledInterval;
        if (isRate) factor /= (rangeEnd - rangeStart) / 1000.0;
        return factor;
    }

    /// <summary>
    /// rate, increase, delta, changes and resets over a window that also holds the last sample at or before its start
    /// (anchored) and, when <paramref name="smoothed"/>, the first after its end: the values at the window's edges are
    /// those samples', or for smoothed the line between the samples around each edge. Null when no sample is in the window.
    /// </summary>
    public static double? Extended(string name, ReadOnlySpan<long> t, ReadOnlySpan<double> v, long rangeStart, long rangeEnd, long rangeMs, bool smoothed)
    {
        int last = t.Length - 1;
        int first = 0;
        while (first + 1 <= last && t[first + 1] <= rangeStart) first++;
        if (smoothed)
        {
            int k = 0;
            while (k < last && t[k] < rangeEnd) k++;
            last = k;
        }
        if (t[last] <= rangeStart || t[first] > rangeEnd) return null;
        if (name is "changes" or "resets")
        {
            int n = 0;
            for (int i = first + 1; i <= last; i++)
                if (name == "changes" ? v[i] != v[i - 1] && !(double.IsNaN(v[i]) && double.IsNaN(v[i - 1])) : v[i] < v[i - 1]) n++;
            return n;
        }
        bool isCounter = name != "delta";
        double left = smoothed && t[first] < rangeStart ? Interpolate(t[first], v[first], t[first + 1], v[first + 1], rangeStart, isCounter) : v[first];
        double right = smoothed && last > 0 && t[last] > rangeEnd ? Interpolate(t[last - 1], v[last - 1], t[last], v[last], rangeEnd, isCounter) : v[last];
        double result = right - left;
        if (isCounter)
        {
            // Resets strictly inside the range; the edges already account for theirs.
            int from = t[first] <= rangeStart ? first + 1 : first, to = t[last] >= rangeEnd ? last - 1 : last;
            double prev = left;
            for (int i = from; i <= to; i++)
            {
                if (v[i] < prev) result += prev;
                prev = v[i];
            }
            if (right < prev) result += prev;
        }
        if (name == "rate") result /= rangeMs / 1000.0;
        return result;
    }

    /// <summary>The value at <paramref name="t"/> on the line between two samples; a counter reset between them counts from zero.</summary>
    private static double Interpolate(long t1, double y1, long t2, double y2, long t, bool isCounter)
    {
        if (isCounter && y2 < y1) y1 = 0; // the counter restarted from zero after the first sample
        return y1 + (y2 - y1) * (t - t1) / (t2 - t1);
    }

    /// <summary>irate and idelta: the last two samples' change (a counter reset, seen in the values or given as
    /// <paramref name="reset"/>, counts the last value from zero), per second for irate.</summary>
    public static double? InstantDelta(ReadOnlySpan<long> t, ReadOnlySpan<double> v, bool isRate, bool reset = false)
    {
        if (t.Length < 2) return null;
        double last = v[^1], previous = v[^2];
        double result = isRate && (last < previous || reset) ? last : last - previous;
        if (!isRate) return result;
        double seconds = (t[^1] - t[^2]) / 1000.0;
        return seconds == 0 ? null : result / seconds;
    }

    /// <summary>Least-squares slope and the intercept at <paramref name="interceptTime"/>, with Kahan sums.</summary>
    public static (double Slope, double Intercept) LinearRegression(ReadOnlySpan<long> t, ReadOnlySpan<double> v, long interceptTime)
    {
        double n = 0, sumX = 0, cX = 0, sumY = 0, cY = 0, sumXY = 0, cXY = 0, sumX2 = 0, cX2 = 0;
        double initY = v[0];
        bool constY = true;
        for (int i = 0; i < t.Length; i++)
        {
            if (constY && i > 0 && v[i] != initY) constY = false;
            n++;
            double x = (t[i] - interceptTime) / 1000.0;
            (sumX, cX) = Evaluator.KahanSumInc(x, sumX, cX);
            (sumY, cY) = Evaluator.KahanSumInc(v[i], sumY, cY);
            (sumXY, cXY) = Evaluator.KahanSumInc(x * v[i], sumXY, cXY);
            (sumX2, cX2) = Evaluator.KahanSumInc(x * x, sumX2, cX2);
        }
        if (constY)
        {
            if (double.IsInfinity(initY)) return (double.NaN, double.NaN);
            return (0, initY);
        }
        sumX += cX;
        sumY += cY;
        sumXY += cXY;
        sumX2 += cX2;
        double covXY = sumXY - sumX * sumY / n;
        double varX = sumX2 - sumX * sumX / n;
        double slope = covXY / varX;
        double intercept = sumY / n - slope * sumX / n;
        return (slope, intercept);
    }

    private static double Count(ReadOnlySpan<double> v, Func<double, double, bool> counts)
    {
        if (v.Length == 0) return double.NaN;
        int n = 0;
        for (int i = 1; i < v.Length; i++) if (counts(v[i - 1], v[i])) n++;
        return n;
    }

    private static double KahanSum(ReadOnlySpan<double> v)
    {
        double sum = 0, c = 0;
        foreach (double x in v) (sum, c) = Evaluator.KahanSumInc(x, sum, c);
        return double.IsInfinity(sum) ? sum : sum + c;
    }

    private static double MinMax(ReadOnlySpan<double> v, bool max)
    {
        double r = v[0];
        for (int i = 1; i < v.Length; i++)
            if (max ? v[i] > r || double.IsNaN(r) : v[i] < r || double.IsNaN(r)) r = v[i];
        return r;
    }

    private static int IndexOfExtreme(ReadOnlySpan<double> v, bool max)
    {
        int best = 0;
        for (int i = 1; i < v.Length; i++)
            if (max ? v[i] >= v[best] || double.IsNaN(v[best]) : v[i] <= v[best] || double.IsNaN(v[best])) best = i;
        return best;
    }

    private static double? DoubleExponentialSmoothing(ReadOnlySpan<double> v, double sf, double tf)
    {
        if (sf <= 0 || sf >= 1 || tf <= 0 || tf >= 1) return null;
        if (v.Length < 2) return null;
        double s0 = 0, s1 = v[0], b = v[1] - v[0];
        for (int i = 1; i < v.Length; i++)
        {
            double x = sf * v[i];
            if (i > 1) b = tf * (s1 - s0) + (1 - tf) * b;
            double y = (1 - sf) * (s1 + b);
            s0 = s1;
            s1 = x + y;
        }
        return s1;
    }
}
