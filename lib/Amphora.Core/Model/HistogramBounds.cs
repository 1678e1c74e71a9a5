namespace Amphora.Model;

/// <summary>
/// Bucket boundaries of native histograms. Exponential schemas (-4..8) have bucket index i covering
/// (2^((i-1)/2^schema), 2^(i/2^schema)], with the mirror image for negative buckets; the custom-bucket schema (-53)
/// has bucket i covering (custom[i-1], custom[i]], bucket 0 starting at -Inf and the last one ending at +Inf.
/// </summary>
public static class HistogramBounds
{
    public const int CustomBucketsSchema = -53;
    public const int MinExponentialSchema = -4;
    public const int MaxExponentialSchema = 8;

    // Fractions[s][k] = 2^(k/2^s) / 2, the mantissas of the boundaries of schema s in [0.5, 1).
    private static readonly double[][] Fractions = BuildFractions();

    public static bool IsExponential(int schema) => schema is >= MinExponentialSchema and <= MaxExponentialSchema;

    public static bool IsCustom(int schema) => schema == CustomBucketsSchema;

    public static bool IsValid(int schema) => IsExponential(schema) || IsCustom(schema);

    /// <summary>
    /// The absolute upper boundary of exponential bucket <paramref name="index"/>. The bucket just below the overflow
    /// bucket ends at double.MaxValue (so that ±Inf observations have a bucket of their own).
    /// </summary>
    public static double Exponential(int index, int schema)
    {
        if (schema <= 0)
        {
            long exp = (long)index << -schema;
            if (exp == 1024) return double.MaxValue;
            if (exp > 1024) return double.PositiveInfinity;
            if (exp < -1100) return 0;
            return Math.ScaleB(1.0, (int)exp);
        }
        double frac = Fractions[schema][index & ((1 << schema) - 1)];
        int e = (index >> schema) + 1;
        if (frac == 0.5 && e == 1025) return double.MaxValue;
        return Math.ScaleB(frac, e);
    }

    /// <summary>The upper boundary of custom bucket <paramref name="index"/>: -Inf below 0, +Inf from the last one on.</summary>
    public static double Custom(int index, double[] customValues)
    {
        if (index < 0) return double.NegativeInfinity;
        if (index >= customValues.Length) return double.PositiveInfinity;
        return customValues[index];
    }

    /// <summary>The upper boundary of bucket <paramref name="index"/> (absolute value for negative buckets).</summary>
    public static double Upper(int index, int schema, double[] customValues) =>
        IsCustom(schema) ? Custom(index, customValues) : Exponential(index, schema);

    /// <summary>The index a bucket of schema <paramref name="from"/> falls into at the coarser schema <paramref name="to"/>.</summary>
    public static int ReduceIndex(int index, int from, int to) => ((index - 1) >> (from - to)) + 1;

    /// <summary>The bucket index (exponential schema) whose range holds the absolute value <paramref name="v"/> &gt; 0.</summary>
    public static int IndexOf(double v, int schema)
    {
        // Smallest index whose upper bound is >= v; a binary search over the bound function keeps it exact.
        int lo = -(1 << 20), hi = 1 << 20;
        while (lo < hi)
        {
            int mid = lo + ((hi - lo) >> 1);
            if (Exponential(mid, schema) >= v) hi = mid;
            else lo = mid + 1;
        }
        return lo;
    }

    private static double[][] BuildFractions()
    {
        var table = new double[MaxExponentialSchema + 1][];
        for (int s = 0; s <= MaxExponentialSchema; s++)
        {
            int n = 1 << s;
            table[s] = new double[n];
            for (int k = 0; k < n; k++) table[s][k] = k == 0 ? 0.5 : Math.Pow(2, (double)k / n) / 2;
        }
        return table;
    }
}
