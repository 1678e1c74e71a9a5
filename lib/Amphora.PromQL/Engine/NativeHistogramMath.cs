using Amphora.Model;

namespace Amphora.PromQL.Engine;

/// <summary>
/// Quantiles, fractions and variance of one native histogram, as Prometheus estimates them: inside an exponential bucket
/// observations are assumed spread evenly on a logarithmic scale, inside custom buckets and the zero bucket linearly.
/// </summary>
internal static class NativeHistogramMath
{
    /// <summary>histogram_quantile of a native histogram; NaN observations (a NaN sum) are noted through <paramref name="notes"/>.</summary>
    public static double Quantile(double q, FloatHistogram h, string metric, Notes notes)
    {
        if (q < 0) return double.NegativeInfinity;
        if (q > 1) return double.PositiveInfinity;
        if (h.Count == 0 || double.IsNaN(q)) return double.NaN;

        var buckets = new List<HistogramBucket>();
        h.AllBuckets(buckets);
        // A NaN sum means NaN observations may be counted in Count but in no bucket: then only walking up is right.
        bool forward = double.IsNaN(h.Sum) || q < 0.5;
        if (!forward) buckets.Reverse();
        double rank = forward ? q * h.Count : (1 - q) * h.Count;
        double count = 0;
        var bucket = default(HistogramBucket);
        int at = 0;
        for (; at < buckets.Count; at++)
        {
            bucket = buckets[at];
            if (bucket.Count == 0) continue;
            count += bucket.Count;
            if (count >= rank) break;
        }
        double lower = bucket.Lower, upper = bucket.Upper;
        if (!h.UsesCustomBuckets && lower < 0 && upper > 0)
        {
            if (h.NegativeBuckets.Length == 0 && h.PositiveBuckets.Length > 0) lower = 0;
            else if (h.PositiveBuckets.Length == 0 && h.NegativeBuckets.Length > 0) upper = 0;
        }
        else if (h.UsesCustomBuckets)
        {
            if (double.IsNegativeInfinity(lower))
            {
                if (upper <= 0) return upper;
                lower = 0;
            }
            else if (double.IsPositiveInfinity(upper))
            {
                return lower;
            }
        }
        if (count > h.Count) count = h.Count;
        if (count < rank)
        {
            if (double.IsNaN(h.Sum))
            {
                notes.Info(Annotations.QuantileNaNResult(metric));
                return double.NaN;
            }
            return upper;
        }
        rank = forward ? rank - (count - bucket.Count) : count - rank;
        if (double.IsNaN(h.Sum))
        {
            double total = count;
            for (int i = at + 1; i < buckets.Count; i++) total += buckets[i].Count;
            if (total < h.Count) notes.Info(Annotations.QuantileNaNSkew(metric));
        }
        double fraction = rank / bucket.Count;
        if (h.UsesCustomBuckets || (lower <= 0 && upper >= 0)) return lower + (upper - lower) * fraction;
        double logLower = Math.Log2(Math.Abs(lower)), logUpper = Math.Log2(Math.Abs(upper));
        if (lower > 0) return double.Exp2(logLower + (logUpper - logLower) * fraction);
        return -double.Exp2(logUpper + (logLower - logUpper) * (1 - fraction));
    }

    /// <summary>histogram_fraction of a native histogram: the share of observations between the two values.</summary>
    public static double Fraction(double lowerValue, double upperValue, FloatHistogram h, string metric, Notes notes)
    {
        if (h.Count == 0 || double.IsNaN(lowerValue) || double.IsNaN(upperValue)) return double.NaN;
        if (lowerValue >= upperValue) return 0;
        var buckets = new List<HistogramBucket>();
        h.AllBuckets(buckets);
        double rank = 0, lowerRank = 0, upperRank = 0;
        bool lowerSet = false, upperSet = false;
        foreach (var b in buckets)
        {
            double lo = b.Lower, hi = b.Upper;
            bool zeroBucket = false;
            if (lo <= 0 && hi >= 0)
            {
                zeroBucket = true;
                if (h.NegativeBuckets.Length == 0 && h.PositiveBuckets.Length > 0) lo = 0;
                else if (h.PositiveBuckets.Length == 0 && h.NegativeBuckets.Length > 0) hi = 0;
            }
            double Interpolate(double v)
            {
                if (h.UsesCustomBuckets || zeroBucket)
                    return double.IsNegativeInfinity(lo) ? b.Count : rank + b.Count * (v - lo) / (hi - lo);
                double logLower = Math.Log2(Math.Abs(lo)), logUpper = Math.Log2(Math.Abs(hi)), logV = Math.Log2(Math.Abs(v));
                double fraction = v > 0 ? (logV - logLower) / (logUpper - logLower) : 1 - (logV - logUpper) / (logLower - logUpper);
                return rank + b.Count * fraction;
            }
            if (!lowerSet && lo >= lowerValue) { lowerRank = rank; lowerSet = true; }
            if (!upperSet && lo >= upperValue) { upperRank = rank; upperSet = true; }
            if (lowerSet && upperSet) break;
            if (!lowerSet && lo < lowerValue && hi > lowerValue) { lowerRank = Interpolate(lowerValue); lowerSet = true; }
            if (!upperSet && lo < upperValue && hi > upperValue) { upperRank = Interpolate(upperValue); upperSet = true; }
            if (lowerSet && upperSet) break;
            rank += b.Count;
        }
        double count = h.Count;
        if (double.IsNaN(h.Sum))
        {
            double inBuckets = 0;
            foreach (var b in buckets) inBuckets += b.Count;
            if (inBuckets < h.Count) notes.Info(Annotations.FractionNaNs(metric));
            count = inBuckets;
        }
        if (!lowerSet || lowerRank > count) lowerRank = count;
        if (!upperSet || upperRank > count) upperRank = count;
        return (upperRank - lowerRank) / h.Count;
    }

    /// <summary>
    /// The variance of the observations estimated from the buckets: each bucket's observations sit at its geometric mean
    /// (exponential buckets), its middle (custom buckets) or at zero (the zero bucket).
    /// </summary>
    public static double Variance(FloatHistogram h)
    {
        double mean = h.Sum / h.Count, variance = 0, c = 0;
        var buckets = new List<HistogramBucket>();
        h.AllBuckets(buckets);
        foreach (var b in buckets)
        {
            if (b.Count == 0) continue;
            double v;
            if (h.UsesCustomBuckets) v = (b.Upper + b.Lower) / 2;
            else if (b.Lower <= 0 && b.Upper >= 0) v = 0;
            else
            {
                v = Math.Sqrt(b.Upper * b.Lower);
                if (b.Upper < 0) v = -v;
            }
            double delta = v - mean;
            (variance, c) = Evaluator.KahanSumInc(b.Count * delta * delta, variance, c);
        }
        return (variance + c) / h.Count;
    }
}
