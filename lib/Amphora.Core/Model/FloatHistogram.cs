using System.Globalization;
using System.Text;

namespace Amphora.Model;

/// <summary>
/// A native histogram with float counts, as PromQL computes with it (Prometheus's <c>FloatHistogram</c>): bucket counts
/// are absolute, not deltas. Exponential schemas (-4..8) have a zero bucket [-ZeroThreshold, ZeroThreshold] and
/// positive and negative buckets laid out by spans; the custom-bucket schema (-53) has positive buckets only, bounded
/// by <see cref="CustomValues"/>, and no zero bucket.
/// Mutable and not thread-safe: the arithmetic methods change the receiver; <see cref="Copy"/> first to keep it.
/// <see cref="CustomValues"/> is shared between copies and must never be modified in place.
/// </summary>
public sealed partial class FloatHistogram
{
    public CounterResetHint CounterResetHint { get; set; }
    public int Schema { get; set; }
    public double ZeroThreshold { get; set; }
    public double ZeroCount { get; set; }
    public double Count { get; set; }
    public double Sum { get; set; }
    public HistogramSpan[] PositiveSpans { get; set; } = [];
    public double[] PositiveBuckets { get; set; } = [];
    public HistogramSpan[] NegativeSpans { get; set; } = [];
    public double[] NegativeBuckets { get; set; } = [];
    /// <summary>Upper bounds of the custom buckets (schema -53), strictly increasing, without +Inf; empty otherwise.</summary>
    public double[] CustomValues { get; set; } = [];

    public bool UsesCustomBuckets => HistogramBounds.IsCustom(Schema);

    /// <summary>A deep copy (the custom bounds are shared, being immutable).</summary>
    public FloatHistogram Copy()
    {
        var c = new FloatHistogram();
        CopyTo(c);
        return c;
    }

    /// <summary>Overwrites <paramref name="to"/> with a deep copy of this histogram.</summary>
    public void CopyTo(FloatHistogram to)
    {
        to.CounterResetHint = CounterResetHint;
        to.Schema = Schema;
        to.Count = Count;
        to.Sum = Sum;
        to.PositiveSpans = (HistogramSpan[])PositiveSpans.Clone();
        to.PositiveBuckets = (double[])PositiveBuckets.Clone();
        if (UsesCustomBuckets)
        {
            to.ZeroThreshold = 0;
            to.ZeroCount = 0;
            to.NegativeSpans = [];
            to.NegativeBuckets = [];
            to.CustomValues = CustomValues;
        }
        else
        {
            to.ZeroThreshold = ZeroThreshold;
            to.ZeroCount = ZeroCount;
            to.NegativeSpans = (HistogramSpan[])NegativeSpans.Clone();
            to.NegativeBuckets = (double[])NegativeBuckets.Clone();
            to.CustomValues = [];
        }
    }

    /// <summary>A copy at the coarser (or equal) exponential schema <paramref name="targetSchema"/>, buckets merged.</summary>
    public FloatHistogram CopyToSchema(int targetSchema)
    {
        if (targetSchema == Schema) return Copy();
        if (UsesCustomBuckets || !HistogramBounds.IsExponential(targetSchema) || targetSchema > Schema)
            throw new ArgumentOutOfRangeException(nameof(targetSchema), $"cannot reduce schema {Schema} to {targetSchema}");
        var c = Copy();
        c.Schema = targetSchema;
        (c.PositiveSpans, c.PositiveBuckets) = BucketLayout.Build(BucketLayout.Reduce(BucketLayout.Expand(PositiveSpans, PositiveBuckets), Schema, targetSchema));
        (c.NegativeSpans, c.NegativeBuckets) = BucketLayout.Build(BucketLayout.Reduce(BucketLayout.Expand(NegativeSpans, NegativeBuckets), Schema, targetSchema));
        return c;
    }

    /// <summary>Scales every count and the sum by <paramref name="factor"/>; a negative factor makes it a gauge.</summary>
    public FloatHistogram Mul(double factor)
    {
        ZeroCount *= factor;
        Count *= factor;
        Sum *= factor;
        for (int i = 0; i < PositiveBuckets.Length; i++) PositiveBuckets[i] *= factor;
        for (int i = 0; i < NegativeBuckets.Length; i++) NegativeBuckets[i] *= factor;
        if (factor < 0) CounterResetHint = CounterResetHint.Gauge;
        return this;
    }

    /// <summary>Divides every count and the sum by <paramref name="divisor"/>; dividing by zero drops all buckets.</summary>
    public FloatHistogram Div(double divisor)
    {
        ZeroCount /= divisor;
        Count /= divisor;
        Sum /= divisor;
        if (divisor == 0)
        {
            PositiveSpans = [];
            PositiveBuckets = [];
            NegativeSpans = [];
            NegativeBuckets = [];
            return this;
        }
        for (int i = 0; i < PositiveBuckets.Length; i++) PositiveBuckets[i] /= divisor;
        for (int i = 0; i < NegativeBuckets.Length; i++) NegativeBuckets[i] /= divisor;
        if (divisor < 0) CounterResetHint = CounterResetHint.Gauge;
        return this;
    }

    /// <summary>
    /// Data equality as Prometheus's <c>Equals</c> has it: same schema, zero bucket, custom bounds, the same set of bucket
    /// indexes (empty buckets included, however the spans cut them) and bit-identical counts and sum. The hint is ignored.
    /// </summary>
    public bool IdenticalTo(FloatHistogram? other)
    {
        if (other is null) return false;
        if (Schema != other.Schema || !SameBits(Count, other.Count) || !SameBits(Sum, other.Sum)) return false;
        if (UsesCustomBuckets && !CustomValues.AsSpan().SequenceEqual(other.CustomValues)) return false;
        if (ZeroThreshold != other.ZeroThreshold || !SameBits(ZeroCount, other.ZeroCount)) return false;
        return BucketLayout.Identical(BucketLayout.Expand(PositiveSpans, PositiveBuckets), BucketLayout.Expand(other.PositiveSpans, other.PositiveBuckets))
            && BucketLayout.Identical(BucketLayout.Expand(NegativeSpans, NegativeBuckets), BucketLayout.Expand(other.NegativeSpans, other.NegativeBuckets));
    }

    private static bool SameBits(double a, double b) => BitConverter.DoubleToUInt64Bits(a) == BitConverter.DoubleToUInt64Bits(b);

    /// <summary>
    /// Drops empty buckets at the edges of spans and joins buckets into one span while at most
    /// <paramref name="maxEmptyBuckets"/> empty buckets separate them (0: no empty bucket is kept).
    /// </summary>
    public FloatHistogram Compact(int maxEmptyBuckets)
    {
        (PositiveSpans, PositiveBuckets) = BucketLayout.Build(BucketLayout.Expand(PositiveSpans, PositiveBuckets), maxEmptyBuckets);
        (NegativeSpans, NegativeBuckets) = BucketLayout.Build(BucketLayout.Expand(NegativeSpans, NegativeBuckets), maxEmptyBuckets);
        return this;
    }

    /// <summary>The zero bucket, [-ZeroThreshold, ZeroThreshold]. Custom-bucket histograms have none.</summary>
    public HistogramBucket ZeroBucket() => new(-ZeroThreshold, ZeroThreshold, true, true, ZeroCount, 0);

    /// <summary>The positive buckets in ascending order.</summary>
    public BucketEnumerator PositiveBucketsAscending() => new(this, positive: true);

    /// <summary>The negative buckets from the zero bucket outwards (descending values).</summary>
    public BucketEnumerator NegativeBucketsOutwards() => new(this, positive: false);

    /// <summary>
    /// Appends every bucket in ascending order of value (negative, zero when populated, positive) to
    /// <paramref name="into"/>; a bucket overlapping the zero bucket is cut at the zero threshold.
    /// </summary>
    public void AllBuckets(List<HistogramBucket> into)
    {
        int start = into.Count;
        foreach (var b in NegativeBucketsOutwards()) into.Add(b.Upper > -ZeroThreshold && b.Upper < 0 ? b with { Upper = -ZeroThreshold } : b);
        into.Reverse(start, into.Count - start);
        if (ZeroCount > 0) into.Add(ZeroBucket());
        foreach (var b in PositiveBucketsAscending()) into.Add(b.Lower < ZeroThreshold && b.Lower > 0 ? b with { Lower = ZeroThreshold } : b);
    }

    /// <summary>The notation of the PromQL test scripts, e.g. <c>{{schema:0 count:4 sum:5 buckets:[1 2 1]}}</c>.</summary>
    public override string ToString()
    {
        var parts = new List<string>();
        string F(double v) => FloatText.Format(v);
        if (Schema != 0) parts.Add("schema:" + Schema.ToString(CultureInfo.InvariantCulture));
        if (Count != 0) parts.Add("count:" + F(Count));
        if (Sum != 0) parts.Add("sum:" + F(Sum));
        if (ZeroCount != 0) parts.Add("z_bucket:" + F(ZeroCount));
        if (ZeroThreshold != 0) parts.Add("z_bucket_w:" + F(ZeroThreshold));
        if (UsesCustomBuckets) parts.Add("custom_values:[" + string.Join(" ", CustomValues.Select(F)) + "]");
        if (CounterResetHint != CounterResetHint.Unknown)
            parts.Add("counter_reset_hint:" + CounterResetHint switch
            {
                CounterResetHint.CounterReset => "reset",
                CounterResetHint.NotCounterReset => "not_reset",
                _ => "gauge",
            });
        Side(parts, "buckets", "offset", PositiveSpans, PositiveBuckets);
        Side(parts, "n_buckets", "n_offset", NegativeSpans, NegativeBuckets);
        return "{{" + string.Join(" ", parts) + "}}";

        static void Side(List<string> parts, string key, string offsetKey, HistogramSpan[] spans, double[] buckets)
        {
            var (index, count) = BucketLayout.Expand(spans, buckets);
            if (index.Length == 0) return;
            var sb = new StringBuilder();
            for (int i = 0, at = index[0]; i < index.Length; i++, at++)
            {
                for (; at < index[i]; at++) sb.Append("0 ");
                sb.Append(FloatText.Format(count[i])).Append(' ');
            }
            if (index[0] != 0) parts.Add(offsetKey + ":" + index[0].ToString(CultureInfo.InvariantCulture));
            parts.Add(key + ":[" + sb.ToString().TrimEnd() + "]");
        }
    }

    /// <summary>Walks one side's buckets with their bounds; a struct so that <c>foreach</c> allocates nothing.</summary>
    public struct BucketEnumerator(FloatHistogram h, bool positive)
    {
        private readonly HistogramSpan[] _spans = positive ? h.PositiveSpans : h.NegativeSpans;
        private readonly double[] _buckets = positive ? h.PositiveBuckets : h.NegativeBuckets;
        private int _span = -1, _bucket = -1, _index, _next;
        private uint _left;

        public readonly BucketEnumerator GetEnumerator() => this;

        public bool MoveNext()
        {
            while (_left == 0)
            {
                if (++_span >= _spans.Length) return false;
                _next += _spans[_span].Offset;
                _left = _spans[_span].Length;
            }
            if (++_bucket >= _buckets.Length) return false;
            _index = _next++;
            _left--;
            return true;
        }

        public readonly HistogramBucket Current
        {
            get
            {
                double upper = HistogramBounds.Upper(_index, h.Schema, h.CustomValues);
                double lower = HistogramBounds.Upper(_index - 1, h.Schema, h.CustomValues);
                if (h.UsesCustomBuckets) return new HistogramBucket(lower, upper, _index == 0, true, _buckets[_bucket], _index);
                return positive
                    ? new HistogramBucket(lower, upper, false, true, _buckets[_bucket], _index)
                    : new HistogramBucket(-upper, -lower, true, false, _buckets[_bucket], _index);
            }
        }
    }
}
