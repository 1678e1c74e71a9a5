namespace Amphora.Model;

/// <summary>
/// One side of a histogram's buckets as absolute indexes with their counts, ascending: the form the histogram arithmetic
/// works in, converted from and back to spans.
/// </summary>
internal readonly record struct IndexedBuckets(int[] Index, double[] Count)
{
    public int Length => Index.Length;
}

internal static class BucketLayout
{
    public static IndexedBuckets Expand(HistogramSpan[] spans, double[] buckets)
    {
        int n = 0;
        foreach (var s in spans) n += (int)s.Length;
        n = Math.Min(n, buckets.Length);
        var index = new int[n];
        var count = new double[n];
        int at = 0, k = 0;
        foreach (var s in spans)
        {
            at += s.Offset;
            for (uint j = 0; j < s.Length && k < n; j++, k++, at++)
            {
                index[k] = at;
                count[k] = buckets[k];
            }
        }
        return new IndexedBuckets(index, count);
    }

    /// <summary>Spans for the given buckets, every bucket kept; consecutive indexes share a span.</summary>
    public static (HistogramSpan[] Spans, double[] Buckets) Build(IndexedBuckets b)
    {
        var spans = new List<HistogramSpan>();
        int end = 0; // index just after the last span
        for (int i = 0; i < b.Length; i++)
        {
            if (spans.Count > 0 && b.Index[i] == end)
                spans[^1] = spans[^1] with { Length = spans[^1].Length + 1 };
            else
                spans.Add(new HistogramSpan(b.Index[i] - end, 1));
            end = b.Index[i] + 1;
        }
        return (spans.ToArray(), b.Count);
    }

    /// <summary>
    /// Spans for the populated buckets only, keeping runs of at most <paramref name="maxEmpty"/> empty buckets between
    /// populated ones inside a span (what Prometheus's <c>Compact</c> produces).
    /// </summary>
    public static (HistogramSpan[] Spans, double[] Buckets) Build(IndexedBuckets b, int maxEmpty)
    {
        var spans = new List<HistogramSpan>();
        var counts = new List<double>();
        int end = 0;
        for (int i = 0; i < b.Length; i++)
        {
            if (b.Count[i] == 0) continue;
            int idx = b.Index[i];
            if (spans.Count > 0 && idx - end <= maxEmpty)
            {
                for (int gap = end; gap < idx; gap++) counts.Add(0);
                spans[^1] = spans[^1] with { Length = spans[^1].Length + (uint)(idx - end) + 1 };
            }
            else
            {
                spans.Add(new HistogramSpan(idx - end, 1));
            }
            counts.Add(b.Count[i]);
            end = idx + 1;
        }
        return (spans.ToArray(), counts.ToArray());
    }

    /// <summary>Merges buckets of schema <paramref name="from"/> into the coarser schema <paramref name="to"/>.</summary>
    public static IndexedBuckets Reduce(IndexedBuckets b, int from, int to)
    {
        if (from == to || b.Length == 0) return b;
        var index = new List<int>(b.Length);
        var count = new List<double>(b.Length);
        for (int i = 0; i < b.Length; i++)
        {
            int t = HistogramBounds.ReduceIndex(b.Index[i], from, to);
            if (index.Count > 0 && index[^1] == t) count[^1] += b.Count[i];
            else
            {
                index.Add(t);
                count.Add(b.Count[i]);
            }
        }
        return new IndexedBuckets(index.ToArray(), count.ToArray());
    }

    /// <summary>
    /// The union of both bucket sets, counts of <paramref name="b"/> times <paramref name="sign"/> added to those of
    /// <paramref name="a"/>. Leading buckets of <paramref name="b"/> with an upper bound within <paramref name="zeroThreshold"/>
    /// are skipped (they were counted into the zero bucket).
    /// </summary>
    public static IndexedBuckets Add(IndexedBuckets a, IndexedBuckets b, double sign, int schema, double zeroThreshold)
    {
        int j = 0;
        if (HistogramBounds.IsExponential(schema))
            while (j < b.Length && HistogramBounds.Exponential(b.Index[j], schema) <= zeroThreshold) j++;
        var index = new List<int>(a.Length + b.Length - j);
        var count = new List<double>(a.Length + b.Length - j);
        int i = 0;
        while (i < a.Length || j < b.Length)
        {
            if (j >= b.Length || (i < a.Length && a.Index[i] < b.Index[j]))
            {
                index.Add(a.Index[i]);
                count.Add(a.Count[i++]);
            }
            else if (i >= a.Length || b.Index[j] < a.Index[i])
            {
                index.Add(b.Index[j]);
                count.Add(sign * b.Count[j++]);
            }
            else
            {
                index.Add(a.Index[i]);
                count.Add(a.Count[i++] + sign * b.Count[j++]);
            }
        }
        return new IndexedBuckets(index.ToArray(), count.ToArray());
    }

    public static bool Identical(IndexedBuckets a, IndexedBuckets b)
    {
        if (a.Length != b.Length) return false;
        for (int i = 0; i < a.Length; i++)
            if (a.Index[i] != b.Index[i] || BitConverter.DoubleToUInt64Bits(a.Count[i]) != BitConverter.DoubleToUInt64Bits(b.Count[i]))
                return false;
        return true;
    }

    /// <summary>
    /// Counts of custom buckets (upper bounds <paramref name="bounds"/>) summed into the buckets of the coarser common bounds
    /// <paramref name="target"/> (a subset of them): each bucket goes to the first target bucket whose bound is not below its own.
    /// </summary>
    public static void MapCustom(IndexedBuckets b, double[] bounds, double[] target, double[] into, double sign)
    {
        for (int i = 0; i < b.Length; i++)
        {
            double upper = HistogramBounds.Custom(b.Index[i], bounds);
            int t = Array.BinarySearch(target, upper);
            if (t < 0) t = ~t;
            into[t] += sign * b.Count[i];
        }
    }
}
