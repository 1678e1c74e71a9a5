namespace Amphora.Model;

public sealed partial class FloatHistogram
{
    /// <summary>
    /// A copy keeping only the observations below <paramref name="cut"/> (<paramref name="keepBelow"/>, PromQL's
    /// <c>&lt;/</c>) or above it (<c>&gt;/</c>). A bucket the cut falls into keeps the share of its observations on the
    /// kept side, assuming them spread evenly on a logarithmic scale in exponential buckets and linearly in the zero bucket
    /// and in custom buckets. When anything is cut, count and sum are estimated again from the kept buckets (each bucket's
    /// observations at the geometric mean, or the middle, of the part kept); when nothing is, the copy is unchanged. The
    /// zero bucket spans only [0, threshold] when there are positive buckets only (and mirrored). Of a custom bucket
    /// reaching to -Inf or +Inf, observations count as lying at that infinity, except that the lowest bucket spans
    /// [0, bound] when its bound is positive and the cut is not below zero.
    /// </summary>
    public FloatHistogram Trim(double cut, bool keepBelow)
    {
        var result = Copy();
        bool changed = false;
        double count = 0, sum = 0;
        void Keep(double[] buckets, int k, Part part)
        {
            double kept = buckets[k] * part.Share;
            if (buckets[k] != 0 && part.Cut) changed = true;
            buckets[k] = kept;
            count += kept;
            if (kept != 0) sum += kept * part.Value;
        }
        if (UsesCustomBuckets)
        {
            var it = result.PositiveBucketsAscending();
            for (int k = 0; it.MoveNext(); k++) Keep(result.PositiveBuckets, k, CustomPart(it.Current.Lower, it.Current.Upper, cut, keepBelow));
        }
        else
        {
            double zl = -ZeroThreshold, zu = ZeroThreshold;
            if (NegativeBuckets.Length == 0 && PositiveBuckets.Length > 0) zl = 0;
            else if (PositiveBuckets.Length == 0 && NegativeBuckets.Length > 0) zu = 0;
            var zero = new[] { ZeroCount };
            Keep(zero, 0, FinitePart(zl, zu, cut, keepBelow, logarithmic: false));
            result.ZeroCount = zero[0];
            foreach (bool positive in (ReadOnlySpan<bool>)[true, false])
            {
                var buckets = positive ? result.PositiveBuckets : result.NegativeBuckets;
                var it = new BucketEnumerator(result, positive);
                for (int k = 0; it.MoveNext(); k++) Keep(buckets, k, FinitePart(it.Current.Lower, it.Current.Upper, cut, keepBelow, logarithmic: true));
            }
        }
        if (!changed) return Copy();
        result.Count = count;
        result.Sum = sum;
        return result;
    }

    /// <summary>The share of a bucket's observations kept, where they are taken to lie, and whether the cut changed the bucket.</summary>
    private readonly record struct Part(double Share, double Value, bool Cut);

    private static Part FinitePart(double lo, double hi, double cut, bool keepBelow, bool logarithmic)
    {
        double a = lo, b = hi;
        if (keepBelow)
        {
            if (hi <= cut) return new Part(1, Middle(lo, hi, logarithmic), false);
            if (lo >= cut) return new Part(0, 0, true);
            b = cut;
        }
        else
        {
            if (lo >= cut) return new Part(1, Middle(lo, hi, logarithmic), false);
            if (hi <= cut) return new Part(0, 0, true);
            a = cut;
        }
        double share = logarithmic
            ? Math.Abs(Math.Log2(Math.Abs(b)) - Math.Log2(Math.Abs(a))) / Math.Abs(Math.Log2(Math.Abs(hi)) - Math.Log2(Math.Abs(lo)))
            : (b - a) / (hi - lo);
        return new Part(share, Middle(a, b, logarithmic), true);
    }

    private static double Middle(double a, double b, bool logarithmic) =>
        logarithmic && a != 0 && b != 0 ? Math.Sign(b) * Math.Sqrt(a * b) : (a + b) / 2;

    private static Part CustomPart(double lo, double hi, double cut, bool keepBelow)
    {
        bool lowest = double.IsNegativeInfinity(lo), highest = double.IsPositiveInfinity(hi);
        if (lowest && highest)
        {
            bool all = keepBelow ? double.IsPositiveInfinity(cut) : double.IsNegativeInfinity(cut);
            return all ? new Part(1, 0, false) : new Part(0, 0, true);
        }
        if (highest)
        {
            if (keepBelow) return double.IsPositiveInfinity(cut) ? new Part(1, lo, false) : new Part(0, 0, true);
            if (lo >= cut) return new Part(1, lo, false);
            return double.IsPositiveInfinity(cut) ? new Part(0, 0, true) : new Part(1, cut, true);
        }
        if (lowest)
        {
            if (hi > 0 && (keepBelow || cut >= 0)) return FinitePart(0, hi, cut, keepBelow, logarithmic: false);
            if (keepBelow)
            {
                if (double.IsNegativeInfinity(cut)) return new Part(0, 0, true);
                return cut < hi ? new Part(1, cut, true) : new Part(1, hi, false);
            }
            if (double.IsNegativeInfinity(cut)) return new Part(1, hi, false);
            return new Part(0, 0, true);
        }
        return FinitePart(lo, hi, cut, keepBelow, logarithmic: false);
    }
}
