namespace Amphora.Model;

/// <summary>
/// What a histogram sample says about counter resets, with Prometheus's numbering (the remote-write and chunk encodings
/// carry these values): unknown, a reset happened, no reset happened, or the histogram is a gauge.
/// </summary>
public enum CounterResetHint : byte { Unknown = 0, CounterReset = 1, NotCounterReset = 2, Gauge = 3 }

/// <summary>
/// A run of <see cref="Length"/> consecutive buckets starting <see cref="Offset"/> bucket indexes after the end of the
/// previous span (for the first span: the absolute index of its first bucket).
/// </summary>
public readonly record struct HistogramSpan(int Offset, uint Length);

/// <summary>One bucket with its boundaries, as the bucket iterators of <see cref="FloatHistogram"/> yield it.</summary>
public readonly record struct HistogramBucket(double Lower, double Upper, bool LowerInclusive, bool UpperInclusive, double Count, int Index);

/// <summary>What <see cref="FloatHistogram.Add"/> or <see cref="FloatHistogram.Sub"/> noticed; several may be set.</summary>
[Flags]
public enum HistogramMerge : byte
{
    None = 0,
    /// <summary>One side said counter reset, the other no counter reset; the result's hint became unknown.</summary>
    CounterResetCollision = 1,
    /// <summary>Custom bucket boundaries differed; the result keeps only the boundaries both had.</summary>
    CustomBoundsReconciled = 2,
    /// <summary>One side has exponential buckets and the other custom buckets; nothing was changed.</summary>
    IncompatibleSchema = 4,
}
