namespace Amphora.Model;

public sealed partial class FloatHistogram
{
    /// <summary>
    /// Adds <paramref name="other"/> into this histogram (left unchanged: the other). Schemas meet at the coarser one and
    /// zero buckets at the wider one (widened further while the threshold would cut a populated bucket); custom buckets
    /// with different bounds meet at the bounds both have. Exponential and custom buckets do not mix: then nothing changes
    /// and <see cref="HistogramMerge.IncompatibleSchema"/> is returned. The result may hold empty buckets (see <see cref="Compact"/>).
    /// </summary>
    public HistogramMerge Add(FloatHistogram other) => Merge(other, 1);

    /// <summary>
    /// Subtracts <paramref name="other"/> like <see cref="Add"/> adds it. The counter reset hint is adjusted as for an
    /// addition; PromQL's <c>-</c> operator marks its result a gauge afterwards.
    /// </summary>
    public HistogramMerge Sub(FloatHistogram other) => Merge(other, -1);

    private HistogramMerge Merge(FloatHistogram other, double sign)
    {
        if (UsesCustomBuckets != other.UsesCustomBuckets) return HistogramMerge.IncompatibleSchema;
        var result = AdjustCounterReset(other) ? HistogramMerge.CounterResetCollision : HistogramMerge.None;
        if (!UsesCustomBuckets) ZeroCount += sign * ReconcileZeroBuckets(other);
        Count += sign * other.Count;
        Sum += sign * other.Sum;

        var mine = BucketLayout.Expand(PositiveSpans, PositiveBuckets);
        var theirs = BucketLayout.Expand(other.PositiveSpans, other.PositiveBuckets);
        if (UsesCustomBuckets)
        {
            if (CustomValues.AsSpan().SequenceEqual(other.CustomValues))
            {
                (PositiveSpans, PositiveBuckets) = BucketLayout.Build(BucketLayout.Add(mine, theirs, sign, Schema, 0));
                return result;
            }
            double[] common = CommonBounds(CustomValues, other.CustomValues);
            var sums = new double[common.Length + 1];
            BucketLayout.MapCustom(mine, CustomValues, common, sums, 1);
            BucketLayout.MapCustom(theirs, other.CustomValues, common, sums, sign);
            (PositiveSpans, PositiveBuckets) = BucketLayout.Build(new IndexedBuckets(Enumerable.Range(0, sums.Length).ToArray(), sums), 0);
            CustomValues = common;
            return result | HistogramMerge.CustomBoundsReconciled;
        }

        int schema = Math.Min(Schema, other.Schema);
        var myNegative = BucketLayout.Reduce(BucketLayout.Expand(NegativeSpans, NegativeBuckets), Schema, schema);
        var theirNegative = BucketLayout.Reduce(BucketLayout.Expand(other.NegativeSpans, other.NegativeBuckets), other.Schema, schema);
        mine = BucketLayout.Reduce(mine, Schema, schema);
        theirs = BucketLayout.Reduce(theirs, other.Schema, schema);
        Schema = schema;
        (PositiveSpans, PositiveBuckets) = BucketLayout.Build(BucketLayout.Add(mine, theirs, sign, schema, ZeroThreshold));
        (NegativeSpans, NegativeBuckets) = BucketLayout.Build(BucketLayout.Add(myNegative, theirNegative, sign, schema, ZeroThreshold));
        return result;
    }

    /// <summary>The bounds present in both sorted arrays.</summary>
    private static double[] CommonBounds(double[] a, double[] b)
    {
        var common = new List<double>(Math.Min(a.Length, b.Length));
        for (int i = 0, j = 0; i < a.Length && j < b.Length;)
        {
            if (a[i] == b[j]) { common.Add(a[i]); i++; j++; }
            else if (a[i] < b[j]) i++;
            else j++;
        }
        return common.ToArray();
    }

    /// <summary>
    /// The hint of a sum or difference: equal hints stay, a gauge on either side makes a gauge, unknown on either side makes
    /// unknown; reset against not-reset is a collision (true) and becomes unknown.
    /// </summary>
    private bool AdjustCounterReset(FloatHistogram other)
    {
        var mine = CounterResetHint;
        var theirs = other.CounterResetHint;
        if (mine == theirs || mine == CounterResetHint.Gauge) return false;
        if (theirs == CounterResetHint.Gauge)
        {
            CounterResetHint = CounterResetHint.Gauge;
            return false;
        }
        if (mine == CounterResetHint.Unknown) return false;
        if (theirs == CounterResetHint.Unknown)
        {
            CounterResetHint = CounterResetHint.Unknown;
            return false;
        }
        CounterResetHint = CounterResetHint.Unknown;
        return true;
    }

    /// <summary>
    /// Widens this histogram's zero bucket, and computes the other's, until both have the same threshold; returns the
    /// other's zero count at that threshold (the other histogram is not changed).
    /// </summary>
    private double ReconcileZeroBuckets(FloatHistogram other)
    {
        double otherCount = other.ZeroCount, otherThreshold = other.ZeroThreshold;
        while (otherThreshold != ZeroThreshold)
        {
            if (ZeroThreshold > otherThreshold) (otherCount, otherThreshold) = other.ZeroCountForThreshold(ZeroThreshold);
            if (otherThreshold > ZeroThreshold)
            {
                (ZeroCount, ZeroThreshold) = ZeroCountForThreshold(otherThreshold);
                DropBucketsInZeroBucket();
            }
        }
        return otherCount;
    }

    /// <summary>
    /// The zero count this histogram would have with the (not smaller) threshold <paramref name="threshold"/>, and the
    /// threshold that takes: a populated bucket the threshold falls into moves it up to that bucket's upper bound.
    /// </summary>
    private (double Count, double Threshold) ZeroCountForThreshold(double threshold)
    {
        if (threshold == ZeroThreshold) return (ZeroCount, threshold);
        while (true)
        {
            double count = ZeroCount;
            bool moved = false;
            foreach (bool positive in (ReadOnlySpan<bool>)[true, false])
            {
                foreach (var b in new BucketEnumerator(this, positive))
                {
                    double lower = positive ? b.Lower : -b.Upper, upper = positive ? b.Upper : -b.Lower;
                    if (lower >= threshold) break;
                    count += b.Count;
                    if (upper > threshold)
                    {
                        if (b.Count != 0)
                        {
                            threshold = upper;
                            moved = !positive; // a wider threshold found on the negative side invalidates the positive pass
                        }
                        break;
                    }
                }
                if (moved) break;
            }
            if (!moved) return (count, threshold);
        }
    }

    /// <summary>Removes the buckets now inside the zero bucket (their counts are already in the zero count).</summary>
    private void DropBucketsInZeroBucket()
    {
        ClearBucketsBelow(ZeroThreshold);
        Compact(0);
    }

    /// <summary>Sets to zero every bucket whose lower bound (in absolute value) is below <paramref name="threshold"/>; returns their total.</summary>
    private double ClearBucketsBelow(double threshold)
    {
        double cleared = 0;
        foreach (bool positive in (ReadOnlySpan<bool>)[true, false])
        {
            var buckets = positive ? PositiveBuckets : NegativeBuckets;
            int k = 0;
            foreach (var b in new BucketEnumerator(this, positive))
            {
                double lower = positive ? b.Lower : -b.Upper;
                if (lower >= threshold) break;
                cleared += buckets[k];
                buckets[k++] = 0;
            }
        }
        return cleared;
    }

    /// <summary>
    /// Whether this histogram, following <paramref name="previous"/> in a counter, starts over: its hint says so, or a
    /// count, the zero count or any bucket is lower, or a populated bucket is gone; a finer schema or narrower zero bucket
    /// also means a reset. Custom bounds that differ are compared at the bounds both have.
    /// </summary>
    public bool DetectReset(FloatHistogram previous)
    {
        if (CounterResetHint == CounterResetHint.CounterReset) return true;
        if (CounterResetHint == CounterResetHint.NotCounterReset) return false;
        if (Count < previous.Count) return true;
        if (UsesCustomBuckets)
        {
            if (!previous.UsesCustomBuckets) return true;
            if (!CustomValues.AsSpan().SequenceEqual(previous.CustomValues)) return ResetAtCommonBounds(previous);
        }
        if (Schema > previous.Schema) return true;
        if (ZeroThreshold < previous.ZeroThreshold) return true;
        var (previousZero, threshold) = previous.ZeroCountForThreshold(ZeroThreshold);
        if (threshold != ZeroThreshold || ZeroCount < previousZero) return true;
        return SideDecreased(BucketLayout.Expand(PositiveSpans, PositiveBuckets),
                   BucketLayout.Reduce(BucketLayout.Expand(previous.PositiveSpans, previous.PositiveBuckets), previous.Schema, Schema))
               || SideDecreased(BucketLayout.Expand(NegativeSpans, NegativeBuckets),
                   BucketLayout.Reduce(BucketLayout.Expand(previous.NegativeSpans, previous.NegativeBuckets), previous.Schema, Schema));
    }

    private bool SideDecreased(IndexedBuckets current, IndexedBuckets previous)
    {
        bool exponential = !UsesCustomBuckets;
        int i = 0;
        for (int j = 0; j < previous.Length; j++)
        {
            if (exponential && HistogramBounds.Exponential(previous.Index[j], Schema) <= ZeroThreshold) continue;
            while (i < current.Length && current.Index[i] < previous.Index[j]) i++;
            bool present = i < current.Length && current.Index[i] == previous.Index[j];
            if (present ? current.Count[i] < previous.Count[j] : previous.Count[j] != 0) return true;
        }
        return false;
    }

    private bool ResetAtCommonBounds(FloatHistogram previous)
    {
        double[] common = CommonBounds(CustomValues, previous.CustomValues);
        var now = new double[common.Length + 1];
        var before = new double[common.Length + 1];
        BucketLayout.MapCustom(BucketLayout.Expand(PositiveSpans, PositiveBuckets), CustomValues, common, now, 1);
        BucketLayout.MapCustom(BucketLayout.Expand(previous.PositiveSpans, previous.PositiveBuckets), previous.CustomValues, common, before, 1);
        for (int i = 0; i < now.Length; i++)
            if (now[i] < before[i]) return true;
        return false;
    }
}
