namespace Amphora.Model;

public sealed partial class FloatHistogram
{
    /// <summary>
    /// Why this histogram cannot be stored, as a sentence (null when it can): the checks of <see cref="Histogram.Validate"/> on
    /// its shape (schema, zero threshold, spans against bucket counts, custom bounds), plus a zero count with custom buckets,
    /// counts that are negative or NaN, and buckets adding up to more than the count. A staleness marker is always valid.
    /// </summary>
    public string? Validate()
    {
        if (StaleNaN.Is(Sum)) return null;
        var shape = new Histogram
        {
            Schema = Schema, ZeroThreshold = ZeroThreshold, PositiveSpans = PositiveSpans, NegativeSpans = NegativeSpans,
            PositiveBuckets = new long[PositiveBuckets.Length], NegativeBuckets = new long[NegativeBuckets.Length], CustomValues = CustomValues,
        };
        if (shape.Validate() is { } why) return why;
        if (UsesCustomBuckets && ZeroCount != 0) return "a histogram with custom buckets (schema -53) has a zero bucket count";
        if (!(Count >= 0)) return $"the count {Count} is not a non-negative number";
        if (!(ZeroCount >= 0)) return $"the zero count {ZeroCount} is not a non-negative number";
        double total = ZeroCount;
        foreach (var (sign, buckets) in new[] { ("positive", PositiveBuckets), ("negative", NegativeBuckets) })
            for (int i = 0; i < buckets.Length; i++)
            {
                if (!(buckets[i] >= 0)) return $"{sign} bucket {i} has a count {buckets[i]} that is not a non-negative number";
                total += buckets[i];
            }
        if (total > Count * (1 + 1e-12) + 1e-12) return $"the bucket counts and the zero count add up to {total}, more than the count {Count}";
        return null;
    }
}
