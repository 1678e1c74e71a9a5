namespace Amphora.Model;

public sealed partial class FloatHistogram
{
    /// <summary>
    /// <see cref="Add"/> with compensated summation: <paramref name="compensation"/> (start with an empty histogram) keeps
    /// the low-order parts of count, sum, zero count and every bucket, so that the total is this histogram plus
    /// <see cref="WithCompensation"/>. Large values cancelling each other no longer swallow small ones.
    /// </summary>
    public HistogramMerge KahanAdd(FloatHistogram other, FloatHistogram compensation)
    {
        if (UsesCustomBuckets != other.UsesCustomBuckets) return HistogramMerge.IncompatibleSchema;
        var result = AdjustCounterReset(other) ? HistogramMerge.CounterResetCollision : HistogramMerge.None;
        (Count, compensation.Count) = KahanSum.Inc(other.Count, Count, compensation.Count);
        (Sum, compensation.Sum) = KahanSum.Inc(other.Sum, Sum, compensation.Sum);
        var mine = BucketLayout.Expand(PositiveSpans, PositiveBuckets);
        var comp = BucketLayout.Expand(compensation.PositiveSpans, compensation.PositiveBuckets);
        var theirs = BucketLayout.Expand(other.PositiveSpans, other.PositiveBuckets);
        if (UsesCustomBuckets)
        {
            compensation.Schema = Schema;
            if (CustomValues.AsSpan().SequenceEqual(other.CustomValues))
            {
                (mine, comp) = KahanMerge(mine, comp, theirs, Schema, 0);
                (PositiveSpans, PositiveBuckets) = BucketLayout.Build(mine);
                (compensation.PositiveSpans, compensation.PositiveBuckets) = BucketLayout.Build(comp);
                compensation.CustomValues = CustomValues;
                return result;
            }
            double[] common = CommonBounds(CustomValues, other.CustomValues);
            var sums = new double[common.Length + 1];
            var comps = new double[common.Length + 1];
            var adds = new double[common.Length + 1];
            BucketLayout.MapCustom(mine, CustomValues, common, sums, 1);
            BucketLayout.MapCustom(comp, CustomValues, common, comps, 1);
            BucketLayout.MapCustom(theirs, other.CustomValues, common, adds, 1);
            for (int i = 0; i < sums.Length; i++) (sums[i], comps[i]) = KahanSum.Inc(adds[i], sums[i], comps[i]);
            var all = Enumerable.Range(0, sums.Length).ToArray();
            (PositiveSpans, PositiveBuckets) = BucketLayout.Build(new IndexedBuckets(all, sums));
            (compensation.PositiveSpans, compensation.PositiveBuckets) = BucketLayout.Build(new IndexedBuckets(all, comps));
            CustomValues = compensation.CustomValues = common;
            return result | HistogramMerge.CustomBoundsReconciled;
        }

        double threshold = ZeroThreshold;
        double otherZero = ReconcileZeroBuckets(other);
        if (ZeroThreshold != threshold)
        {
            mine = BucketLayout.Expand(PositiveSpans, PositiveBuckets);
            compensation.AbsorbIntoZeroBucket(ZeroThreshold, Schema);
            comp = BucketLayout.Expand(compensation.PositiveSpans, compensation.PositiveBuckets);
        }
        (ZeroCount, compensation.ZeroCount) = KahanSum.Inc(otherZero, ZeroCount, compensation.ZeroCount);
        int schema = Math.Min(Schema, other.Schema);
        var myNegative = BucketLayout.Reduce(BucketLayout.Expand(NegativeSpans, NegativeBuckets), Schema, schema);
        var compNegative = BucketLayout.Reduce(BucketLayout.Expand(compensation.NegativeSpans, compensation.NegativeBuckets), Schema, schema);
        var theirNegative = BucketLayout.Reduce(BucketLayout.Expand(other.NegativeSpans, other.NegativeBuckets), other.Schema, schema);
        mine = BucketLayout.Reduce(mine, Schema, schema);
        comp = BucketLayout.Reduce(comp, Schema, schema);
        theirs = BucketLayout.Reduce(theirs, other.Schema, schema);
        (mine, comp) = KahanMerge(mine, comp, theirs, schema, ZeroThreshold);
        (myNegative, compNegative) = KahanMerge(myNegative, compNegative, theirNegative, schema, ZeroThreshold);
        Schema = compensation.Schema = schema;
        compensation.ZeroThreshold = ZeroThreshold;
        (PositiveSpans, PositiveBuckets) = BucketLayout.Build(mine);
        (NegativeSpans, NegativeBuckets) = BucketLayout.Build(myNegative);
        (compensation.PositiveSpans, compensation.PositiveBuckets) = BucketLayout.Build(comp);
        (compensation.NegativeSpans, compensation.NegativeBuckets) = BucketLayout.Build(compNegative);
        return result;
    }

    /// <summary>This histogram with the compensation terms of a <see cref="KahanAdd"/> added back (a new histogram).</summary>
    public FloatHistogram WithCompensation(FloatHistogram compensation)
    {
        var h = Copy();
        h.Count += compensation.Count;
        h.Sum += compensation.Sum;
        h.ZeroCount += compensation.ZeroCount;
        (h.PositiveSpans, h.PositiveBuckets) = BucketLayout.Build(BucketLayout.Add(BucketLayout.Expand(PositiveSpans, PositiveBuckets),
            BucketLayout.Expand(compensation.PositiveSpans, compensation.PositiveBuckets), 1, Schema, 0));
        (h.NegativeSpans, h.NegativeBuckets) = BucketLayout.Build(BucketLayout.Add(BucketLayout.Expand(NegativeSpans, NegativeBuckets),
            BucketLayout.Expand(compensation.NegativeSpans, compensation.NegativeBuckets), 1, Schema, 0));
        return h;
    }

    /// <summary>
    /// Kahan-adds <paramref name="b"/>'s buckets (leading ones inside the zero bucket skipped) to <paramref name="a"/>,
    /// whose compensations are <paramref name="ca"/>; both results have the same bucket indexes.
    /// </summary>
    private static (IndexedBuckets Sums, IndexedBuckets Compensations) KahanMerge(IndexedBuckets a, IndexedBuckets ca, IndexedBuckets b, int schema, double zeroThreshold)
    {
        var sums = BucketLayout.Add(a, b, 1, schema, zeroThreshold); // the union of indexes; values replaced below
        var comps = new double[sums.Length];
        var values = new double[sums.Length];
        int ia = 0, ic = 0, ib = 0;
        while (ib < b.Length && HistogramBounds.IsExponential(schema) && HistogramBounds.Exponential(b.Index[ib], schema) <= zeroThreshold) ib++;
        for (int k = 0; k < sums.Length; k++)
        {
            int idx = sums.Index[k];
            double s = 0, c = 0;
            if (ia < a.Length && a.Index[ia] == idx) s = a.Count[ia++];
            while (ic < ca.Length && ca.Index[ic] < idx) ic++;
            if (ic < ca.Length && ca.Index[ic] == idx) c = ca.Count[ic++];
            if (ib < b.Length && b.Index[ib] == idx) (s, c) = KahanSum.Inc(b.Count[ib++], s, c);
            values[k] = s;
            comps[k] = c;
        }
        return (new IndexedBuckets(sums.Index, values), new IndexedBuckets(sums.Index, comps));
    }

    /// <summary>Moves every bucket whose lower bound is below <paramref name="threshold"/> into the zero bucket.</summary>
    private void AbsorbIntoZeroBucket(double threshold, int schema)
    {
        Schema = schema;
        ZeroCount += ClearBucketsBelow(threshold);
        ZeroThreshold = threshold;
    }
}
