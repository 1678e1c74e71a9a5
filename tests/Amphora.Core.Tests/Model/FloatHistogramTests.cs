using Amphora.Model;
using Xunit;

namespace Amphora.Core.Tests.Model;

/// <summary>
/// Float histogram arithmetic as Prometheus defines it; the expected histograms are worked out by hand from the bucket
/// boundaries (schema 0: bucket i is (2^(i-1), 2^i]; schema 1 halves each of those).
/// </summary>
public sealed class FloatHistogramTests
{
    private static FloatHistogram Exp(int schema, double count, double sum, int offset, params double[] buckets) => new()
    {
        Schema = schema,
        Count = count,
        Sum = sum,
        PositiveSpans = buckets.Length == 0 ? [] : [new HistogramSpan(offset, (uint)buckets.Length)],
        PositiveBuckets = buckets,
    };

    private static FloatHistogram Custom(double[] bounds, params double[] buckets) => new()
    {
        Schema = HistogramBounds.CustomBucketsSchema,
        Count = buckets.Sum(),
        PositiveSpans = [new HistogramSpan(0, (uint)buckets.Length)],
        PositiveBuckets = buckets,
        CustomValues = bounds,
    };

    [Fact]
    public void Schema_zero_buckets_are_powers_of_two_and_schema_one_halves_them()
    {
        var b = Exp(0, 3, 0, 0, 1, 2).PositiveBucketsAscending();
        Assert.True(b.MoveNext());
        Assert.Equal(new HistogramBucket(0.5, 1, false, true, 1, 0), b.Current);
        Assert.True(b.MoveNext());
        Assert.Equal(new HistogramBucket(1, 2, false, true, 2, 1), b.Current);
        Assert.False(b.MoveNext());
        Assert.Equal(Math.Sqrt(2), HistogramBounds.Exponential(1, 1), 15);
        Assert.Equal(0.25, HistogramBounds.Exponential(-1, -1));
        Assert.Equal(double.MaxValue, HistogramBounds.Exponential(1024, 0));
    }

    [Fact]
    public void Negative_buckets_mirror_the_positive_ones_and_all_buckets_come_in_ascending_order()
    {
        var h = new FloatHistogram
        {
            Count = 6, ZeroThreshold = 0.5, ZeroCount = 1,
            PositiveSpans = [new HistogramSpan(1, 1)], PositiveBuckets = [2],
            NegativeSpans = [new HistogramSpan(0, 2)], NegativeBuckets = [1, 2],
        };
        var all = new List<HistogramBucket>();
        h.AllBuckets(all);
        Assert.Equal([(-2.0, -1.0), (-1.0, -0.5), (-0.5, 0.5), (1.0, 2.0)], all.Select(b => (b.Lower, b.Upper)));
        Assert.Equal([2.0, 1, 1, 2], all.Select(b => b.Count));
        Assert.True(all[0].LowerInclusive && !all[0].UpperInclusive && all[2].LowerInclusive && all[2].UpperInclusive);
    }

    [Fact]
    public void Adding_meets_at_the_coarser_schema()
    {
        var a = Exp(1, 4, 10, 0, 1, 1, 1, 1); // schema 1 buckets 0..3: (0.707,1] (1,1.41] (1.41,2] (2,2.83]
        var b = Exp(0, 2, 5, 0, 1, 1);        // schema 0 buckets 0..1: (0.5,1] (1,2]
        Assert.Equal(HistogramMerge.None, a.Add(b));
        Assert.Equal(0, a.Schema);
        Assert.Equal("{{count:6 sum:15 buckets:[2 3 1]}}", a.ToString());
    }

    [Fact]
    public void Subtracting_keeps_empty_buckets_until_compacted()
    {
        var a = Exp(0, 4, 10, 0, 2, 2);
        var b = Exp(0, 2, 4, 1, 2);
        a.Sub(b);
        Assert.Equal("{{count:2 sum:6 buckets:[2 0]}}", a.ToString());
        Assert.Equal(2, a.PositiveBuckets.Length);
        a.Compact(0);
        Assert.Equal([2.0], a.PositiveBuckets);
        Assert.Equal([new HistogramSpan(0, 1)], a.PositiveSpans);
    }

    [Fact]
    public void A_wider_zero_bucket_swallows_the_buckets_inside_it()
    {
        var a = new FloatHistogram { Count = 3, ZeroThreshold = 1, ZeroCount = 1, PositiveSpans = [new HistogramSpan(1, 1)], PositiveBuckets = [2] };
        var b = Exp(0, 3, 0, -1, 1, 1, 1); // (0.25,0.5] (0.5,1] (1,2]
        a.Add(b);
        Assert.Equal(1, a.ZeroThreshold);
        Assert.Equal(3, a.ZeroCount);
        Assert.Equal("{{count:6 z_bucket:3 z_bucket_w:1 offset:1 buckets:[3]}}", a.ToString());
    }

    [Fact]
    public void A_zero_threshold_inside_a_populated_bucket_moves_up_to_its_bound()
    {
        var a = new FloatHistogram { Count = 1, ZeroThreshold = 0.7, ZeroCount = 1 };
        var b = Exp(0, 2, 0, 0, 1, 1); // (0.5,1] holds 0.7
        a.Add(b);
        Assert.Equal(1, a.ZeroThreshold);
        Assert.Equal(2, a.ZeroCount);
        Assert.Equal([1.0], a.PositiveBuckets);
    }

    [Fact]
    public void Custom_buckets_with_different_bounds_meet_at_the_common_bounds()
    {
        var a = Custom([1, 2, 3], 1, 1, 1, 1); // (-Inf,1] (1,2] (2,3] (3,+Inf]
        var b = Custom([1, 3], 2, 2, 2);       // (-Inf,1] (1,3] (3,+Inf]
        Assert.Equal(HistogramMerge.CustomBoundsReconciled, a.Add(b));
        Assert.Equal([1.0, 3], a.CustomValues);
        Assert.Equal([3.0, 4, 3], a.PositiveBuckets);
        Assert.Equal(10, a.Count);
    }

    [Fact]
    public void Exponential_and_custom_buckets_do_not_mix()
    {
        var a = Exp(0, 1, 1, 0, 1);
        Assert.Equal(HistogramMerge.IncompatibleSchema, a.Add(Custom([1], 1, 0)));
        Assert.Equal("{{count:1 sum:1 buckets:[1]}}", a.ToString());
    }

    [Theory]
    [InlineData(CounterResetHint.CounterReset, CounterResetHint.NotCounterReset, CounterResetHint.Unknown, true)]
    [InlineData(CounterResetHint.Unknown, CounterResetHint.Gauge, CounterResetHint.Gauge, false)]
    [InlineData(CounterResetHint.NotCounterReset, CounterResetHint.Unknown, CounterResetHint.Unknown, false)]
    [InlineData(CounterResetHint.Gauge, CounterResetHint.CounterReset, CounterResetHint.Gauge, false)]
    public void Counter_reset_hints_of_a_sum(CounterResetHint left, CounterResetHint right, CounterResetHint result, bool collision)
    {
        var a = Exp(0, 1, 1, 0, 1);
        a.CounterResetHint = left;
        var b = Exp(0, 1, 1, 0, 1);
        b.CounterResetHint = right;
        Assert.Equal(collision, a.Add(b).HasFlag(HistogramMerge.CounterResetCollision));
        Assert.Equal(result, a.CounterResetHint);
    }

    [Fact]
    public void Multiplying_by_a_negative_factor_makes_a_gauge_and_dividing_by_zero_drops_the_buckets()
    {
        var a = Exp(0, 2, 4, 0, 2).Mul(-1);
        Assert.Equal(CounterResetHint.Gauge, a.CounterResetHint);
        Assert.Equal([-2.0], a.PositiveBuckets);
        var b = Exp(0, 2, 4, 0, 2).Div(0);
        Assert.Equal(double.PositiveInfinity, b.Count);
        Assert.Empty(b.PositiveBuckets);
    }

    [Fact]
    public void A_lower_bucket_or_a_lost_populated_bucket_is_a_reset()
    {
        var before = Exp(0, 3, 3, 0, 1, 2);
        Assert.False(Exp(0, 4, 4, 0, 1, 3).DetectReset(before));
        Assert.True(Exp(0, 4, 4, 0, 2, 1).DetectReset(before));
        Assert.True(Exp(0, 4, 4, 1, 4).DetectReset(before));
        Assert.True(Exp(1, 4, 4, 0, 1, 3).DetectReset(before)); // finer schema
        Assert.False(Exp(-1, 4, 4, 0, 1, 3).DetectReset(before)); // coarser: (0.25,1] and (1,4] hold the old buckets
        var hinted = Exp(0, 1, 1, 0, 1);
        hinted.CounterResetHint = CounterResetHint.NotCounterReset;
        Assert.False(hinted.DetectReset(before));
    }

    [Fact]
    public void Identical_means_the_same_bucket_indexes_whatever_the_spans()
    {
        var a = Exp(0, 3, 3, 0, 1, 2);
        var b = Exp(0, 3, 3, 0, 1, 2);
        b.PositiveSpans = [new HistogramSpan(0, 1), new HistogramSpan(0, 0), new HistogramSpan(0, 1)];
        Assert.True(a.IdenticalTo(b));
        b.PositiveBuckets = [1, 2.0000001];
        Assert.False(a.IdenticalTo(b));
        Assert.False(a.IdenticalTo(Exp(0, 3, 3, 0, 1, 2, 0)));
    }

    [Fact]
    public void Copies_are_deep()
    {
        var a = Exp(0, 1, 1, 0, 1);
        var c = a.Copy();
        c.PositiveBuckets[0] = 5;
        Assert.Equal(1, a.PositiveBuckets[0]);
        var coarse = Exp(1, 2, 0, 1, 1, 1).CopyToSchema(0); // (1,1.41] and (1.41,2] are both (1,2]
        Assert.Equal([2.0], coarse.PositiveBuckets);
        Assert.Equal([new HistogramSpan(1, 1)], coarse.PositiveSpans);
    }

    [Fact]
    public void Trimming_custom_buckets_interpolates_linearly_inside_the_cut_bucket()
    {
        // (-Inf,5]:1 (5,10]:6 (10,15]:4 (15,20]:3 (20,+Inf]:1; below 13 keeps 3/5 of (10,15].
        var h = Custom([5, 10, 15, 20], 1, 6, 4, 3, 1);
        h.Sum = 172.5;
        var below = h.Trim(13, keepBelow: true);
        Assert.Equal(9.4, below.Count, 12);
        Assert.Equal(2.5 + 6 * 7.5 + 2.4 * 11.5, below.Sum, 12); // each bucket at its middle, the lowest from 0
        Assert.Equal([1, 6, 2.4, 0, 0], below.PositiveBuckets.Select(b => Math.Round(b, 12)));
        var all = h.Trim(double.PositiveInfinity, keepBelow: true);
        Assert.Equal(172.5, all.Sum); // nothing cut: count and sum as they were
    }

    [Fact]
    public void Trimming_exponential_buckets_interpolates_on_a_log_scale()
    {
        var h = Exp(0, 6, 10, 0, 2, 4); // (0.5,1]:2 (1,2]:4
        var below = h.Trim(Math.Sqrt(2), keepBelow: true);
        Assert.Equal(4, below.Count, 12); // half of (1,2] lies below sqrt(2) on a log scale
        Assert.Equal(2 * Math.Sqrt(0.5) + 2 * Math.Sqrt(Math.Sqrt(2)), below.Sum, 12);
    }

    [Fact]
    public void Compensated_adding_keeps_small_values_that_large_ones_cancel()
    {
        var acc = Exp(0, 1, 3.1, 0, 1);
        var comp = new FloatHistogram();
        foreach (var h in new[] { Exp(0, 1, 1e100, 0, 1), Exp(0, 1, -1e100, 0, 1), Exp(0, 1, 1.3, 0, 1) })
            Assert.Equal(HistogramMerge.None, acc.KahanAdd(h, comp));
        var total = acc.WithCompensation(comp);
        Assert.Equal(4.4, total.Sum, 12);
        Assert.Equal(4, total.Count);
        Assert.Equal([4.0], total.PositiveBuckets);
        var plain = Exp(0, 1, 3.1, 0, 1);
        foreach (var h in new[] { Exp(0, 1, 1e100, 0, 1), Exp(0, 1, -1e100, 0, 1), Exp(0, 1, 1.3, 0, 1) }) plain.Add(h);
        Assert.NotEqual(4.4, plain.Sum, 12);
    }
}
