namespace Amphora.Model;

/// <summary>
/// A native histogram sample with integer counts, as Prometheus's TSDB stores it: bucket counts are delta-encoded (each bucket
/// holds its difference to the previous bucket of the same sign; the first is absolute). Schemas -4 to 8 are exponential
/// (bucket boundaries at powers of 2^(2^-schema)); schema -53 has custom bucket boundaries in <see cref="CustomValues"/>
/// (upper bounds, ascending) and no negative or zero buckets. Immutable by convention: holders never change the arrays.
/// </summary>
public sealed class Histogram
{
    /// <summary>The schema of histograms with custom bucket boundaries (Prometheus's NHCB).</summary>
    public const int CustomBucketsSchema = -53;
    public const int MinExponentialSchema = -4;
    public const int MaxExponentialSchema = 8;

    public CounterResetHint CounterResetHint { get; init; }
    public int Schema { get; init; }
    public double ZeroThreshold { get; init; }
    public ulong ZeroCount { get; init; }
    public ulong Count { get; init; }
    public double Sum { get; init; }
    public HistogramSpan[] PositiveSpans { get; init; } = [];
    public HistogramSpan[] NegativeSpans { get; init; } = [];
    /// <summary>Delta-encoded positive bucket counts, one per bucket the positive spans cover.</summary>
    public long[] PositiveBuckets { get; init; } = [];
    /// <summary>Delta-encoded negative bucket counts, one per bucket the negative spans cover.</summary>
    public long[] NegativeBuckets { get; init; } = [];
    /// <summary>Bucket upper bounds of schema -53 (the last bucket runs to +Inf); empty for the exponential schemas.</summary>
    public double[] CustomValues { get; init; } = [];

    /// <summary>Whether this is a staleness marker (its sum is Prometheus's stale NaN; counts and buckets do not matter).</summary>
    public bool IsStale => StaleNaN.Is(Sum);

    /// <summary>A staleness marker: no buckets, the stale NaN as its sum.</summary>
    public static Histogram Stale() => new() { Sum = StaleNaN.Value };

    public static bool IsValidSchema(int schema) =>
        schema == CustomBucketsSchema || (schema >= MinExponentialSchema && schema <= MaxExponentialSchema);

    /// <summary>The number of buckets the spans cover.</summary>
    public static int BucketCount(ReadOnlySpan<HistogramSpan> spans)
    {
        long n = 0;
        foreach (var s in spans) n += s.Length;
        return n > int.MaxValue ? int.MaxValue : (int)n;
    }

    /// <summary>
    /// Why this histogram cannot be stored, as a sentence (null when it can): a schema outside -4..8 and -53, a negative or NaN
    /// zero threshold, spans that do not cover the bucket count, a negative span offset after the first span, a negative
    /// bucket count, or bucket counts plus the zero count that differ from the count (larger than the buckets only when the sum
    /// is NaN: NaN observations fall into no bucket). A staleness
    /// marker is always valid.
    /// </summary>
    public string? Validate()
    {
        if (IsStale) return null;
        if (!IsValidSchema(Schema)) return $"schema {Schema} is not valid (exponential schemas are -4 to 8, custom buckets -53)";
        if (Schema == CustomBucketsSchema)
        {
            if (NegativeSpans.Length > 0 || NegativeBuckets.Length > 0) return "a histogram with custom buckets (schema -53) has negative buckets";
            if (ZeroCount != 0) return "a histogram with custom buckets (schema -53) has a zero bucket count";
            for (int i = 0; i < CustomValues.Length; i++)
            {
                if (double.IsNaN(CustomValues[i])) return $"custom bucket bound {i} is NaN";
                if (i > 0 && CustomValues[i] <= CustomValues[i - 1]) return $"custom bucket bounds are not strictly increasing at bound {i} ({CustomValues[i]})";
            }
        }
        else if (CustomValues.Length > 0) return $"schema {Schema} is exponential but the histogram carries custom bucket bounds";
        if (double.IsNaN(ZeroThreshold) || ZeroThreshold < 0) return $"zero threshold {ZeroThreshold} is not a non-negative number";
        if (SpanError("positive", PositiveSpans, PositiveBuckets.Length) is { } p) return p;
        if (SpanError("negative", NegativeSpans, NegativeBuckets.Length) is { } n) return n;
        if (Schema == CustomBucketsSchema && PositiveSpans.Length > 0)
        {
            if (PositiveSpans[0].Offset < 0) return $"the first span of a histogram with custom buckets has a negative offset {PositiveSpans[0].Offset}";
            long last = -1;
            foreach (var s in PositiveSpans) last += s.Offset + s.Length;
            if (last > CustomValues.Length) return $"bucket index {last} is beyond the {CustomValues.Length} custom bounds (and +Inf)";
        }
        if (BucketSum("positive", PositiveBuckets, out ulong pos) is { } pe) return pe;
        if (BucketSum("negative", NegativeBuckets, out ulong neg) is { } ne) return ne;
        ulong total = pos + neg + ZeroCount;
        // NaN observations count but fall into no bucket (and make the sum NaN), so only then may the count be larger.
        if (double.IsNaN(Sum) ? total > Count : total != Count)
            return $"the bucket counts ({pos} positive, {neg} negative, {ZeroCount} zero) add up to {total}, not to the count {Count}";
        return null;
    }

    private static string? SpanError(string sign, HistogramSpan[] spans, int buckets)
    {
        long covered = 0;
        for (int i = 0; i < spans.Length; i++)
        {
            if (i > 0 && spans[i].Offset < 0) return $"{sign} span {i} has a negative offset {spans[i].Offset}";
            covered += spans[i].Length;
        }
        return covered == buckets ? null : $"the {sign} spans cover {covered} buckets but {buckets} {sign} bucket counts were sent";
    }

    private static string? BucketSum(string sign, long[] deltas, out ulong sum)
    {
        long current = 0;
        sum = 0;
        for (int i = 0; i < deltas.Length; i++)
        {
            current += deltas[i];
            if (current < 0) return $"{sign} bucket {i} has a negative count {current}";
            sum += (ulong)current;
        }
        return null;
    }

    /// <summary>The absolute bucket counts (undoing the delta encoding).</summary>
    public static long[] Absolute(ReadOnlySpan<long> deltas)
    {
        var result = new long[deltas.Length];
        long current = 0;
        for (int i = 0; i < deltas.Length; i++) result[i] = current += deltas[i];
        return result;
    }

    /// <summary>Delta-encodes absolute bucket counts.</summary>
    public static long[] Deltas(ReadOnlySpan<long> absolute)
    {
        var result = new long[absolute.Length];
        long previous = 0;
        for (int i = 0; i < absolute.Length; i++)
        {
            result[i] = absolute[i] - previous;
            previous = absolute[i];
        }
        return result;
    }

    /// <summary>The same histogram with another reset hint (the arrays are shared, being immutable by convention).</summary>
    public Histogram WithHint(CounterResetHint hint) => new()
    {
        CounterResetHint = hint, Schema = Schema, ZeroThreshold = ZeroThreshold, ZeroCount = ZeroCount, Count = Count, Sum = Sum,
        PositiveSpans = PositiveSpans, NegativeSpans = NegativeSpans, PositiveBuckets = PositiveBuckets, NegativeBuckets = NegativeBuckets,
        CustomValues = CustomValues,
    };

    /// <summary>The same histogram with float counts (absolute bucket counts), written into <paramref name="into"/> when given.
    /// The spans and custom bounds are shared (neither side changes them in place).</summary>
    public FloatHistogram ToFloat(FloatHistogram? into = null)
    {
        var f = into ?? new FloatHistogram();
        f.CounterResetHint = CounterResetHint;
        f.Schema = Schema;
        f.ZeroThreshold = ZeroThreshold;
        f.ZeroCount = ZeroCount;
        f.Count = Count;
        f.Sum = Sum;
        f.PositiveSpans = PositiveSpans;
        f.NegativeSpans = NegativeSpans;
        f.PositiveBuckets = AbsoluteFloats(PositiveBuckets);
        f.NegativeBuckets = AbsoluteFloats(NegativeBuckets);
        f.CustomValues = CustomValues;
        return f;
    }

    private static double[] AbsoluteFloats(long[] deltas)
    {
        var result = new double[deltas.Length];
        long current = 0;
        for (int i = 0; i < deltas.Length; i++) result[i] = current += deltas[i];
        return result;
    }

    /// <summary>Whether both carry the same value bit for bit (the hint included).</summary>
    public bool SameAs(Histogram other) =>
        CounterResetHint == other.CounterResetHint && Schema == other.Schema && SameBits(ZeroThreshold, other.ZeroThreshold) &&
        ZeroCount == other.ZeroCount && Count == other.Count && SameBits(Sum, other.Sum) &&
        PositiveSpans.AsSpan().SequenceEqual(other.PositiveSpans) && NegativeSpans.AsSpan().SequenceEqual(other.NegativeSpans) &&
        PositiveBuckets.AsSpan().SequenceEqual(other.PositiveBuckets) && NegativeBuckets.AsSpan().SequenceEqual(other.NegativeBuckets) &&
        CustomValues.AsSpan().SequenceEqual(other.CustomValues);

    private static bool SameBits(double a, double b) => BitConverter.DoubleToInt64Bits(a) == BitConverter.DoubleToInt64Bits(b);

    public override string ToString() =>
        $"{{count:{Count}, sum:{Sum}, schema:{Schema}, zero:{ZeroCount}@{ZeroThreshold}, +[{string.Join(",", PositiveSpans)}]:[{string.Join(",", PositiveBuckets)}], " +
        $"-[{string.Join(",", NegativeSpans)}]:[{string.Join(",", NegativeBuckets)}], hint:{CounterResetHint}}}";
}
