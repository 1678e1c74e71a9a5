using Amphora.Distributor.Prompb;
using Amphora.Model;
using Histogram = Amphora.Model.Histogram;

namespace Amphora.Distributor;

/// <summary>
/// Turns remote write's <c>prometheus.Histogram</c> into the storage's <see cref="Histogram"/> and says what is wrong with one
/// that cannot be stored, as a stable id and a sentence. Pure, thread-safe.
/// </summary>
public static class RemoteWriteHistograms
{
    public const string InvalidId = "err-amphora-invalid-native-histogram";

    /// <summary>The histogram, or null with the refusal's id and the problem (without the series, which the caller adds).</summary>
    public static Histogram? Convert(Prompb.Histogram p, out string? id, out string? problem)
    {
        id = problem = null;
        bool floatCounts = p.CountCase == Prompb.Histogram.CountOneofCase.CountFloat ||
            p.ZeroCountCase == Prompb.Histogram.ZeroCountOneofCase.ZeroCountFloat || p.PositiveCounts.Count > 0 || p.NegativeCounts.Count > 0;
        bool intCounts = p.CountCase == Prompb.Histogram.CountOneofCase.CountInt ||
            p.ZeroCountCase == Prompb.Histogram.ZeroCountOneofCase.ZeroCountInt || p.PositiveDeltas.Count > 0 || p.NegativeDeltas.Count > 0;
        if (floatCounts && intCounts)
            return Refuse(InvalidId, "it mixes integer fields (count_int, zero_count_int, *_deltas) with float ones (count_float, " +
                "zero_count_float, *_counts)", out id, out problem);
        if ((int)p.ResetHint is < 0 or > 3)
            return Refuse(InvalidId, $"reset_hint {(int)p.ResetHint} is not one of UNKNOWN, YES, NO, GAUGE", out id, out problem);
        if (StaleNaN.Is(p.Sum)) return Histogram.Stale();
        var h = new Histogram
        {
            CounterResetHint = (CounterResetHint)(int)p.ResetHint,
            Schema = p.Schema,
            ZeroThreshold = p.ZeroThreshold,
            ZeroCount = p.ZeroCountInt,
            Count = p.CountInt,
            Sum = p.Sum,
            PositiveSpans = Spans(p.PositiveSpans),
            NegativeSpans = Spans(p.NegativeSpans),
            PositiveBuckets = p.PositiveDeltas.ToArray(),
            NegativeBuckets = p.NegativeDeltas.ToArray(),
            CustomValues = p.CustomValues.ToArray(),
        };
        if (h.Validate() is { } why) return Refuse(InvalidId, why, out id, out problem);
        return h;
    }

    /// <summary>Whether the message carries float counts (count_float, zero_count_float, *_counts): a float histogram.</summary>
    public static bool IsFloat(Prompb.Histogram p) =>
        p.CountCase == Prompb.Histogram.CountOneofCase.CountFloat || p.ZeroCountCase == Prompb.Histogram.ZeroCountOneofCase.ZeroCountFloat ||
        p.PositiveCounts.Count > 0 || p.NegativeCounts.Count > 0;

    /// <summary>A float histogram (call when <see cref="IsFloat"/>), or null with the refusal's id and the problem.</summary>
    public static FloatHistogram? ConvertFloat(Prompb.Histogram p, out string? id, out string? problem)
    {
        id = problem = null;
        if (p.CountCase == Prompb.Histogram.CountOneofCase.CountInt || p.ZeroCountCase == Prompb.Histogram.ZeroCountOneofCase.ZeroCountInt ||
            p.PositiveDeltas.Count > 0 || p.NegativeDeltas.Count > 0)
            return RefuseFloat("it mixes integer fields (count_int, zero_count_int, *_deltas) with float ones (count_float, " +
                "zero_count_float, *_counts)", out id, out problem);
        if ((int)p.ResetHint is < 0 or > 3) return RefuseFloat($"reset_hint {(int)p.ResetHint} is not one of UNKNOWN, YES, NO, GAUGE", out id, out problem);
        if (StaleNaN.Is(p.Sum)) return new FloatHistogram { Sum = p.Sum };
        var h = new FloatHistogram
        {
            CounterResetHint = (CounterResetHint)(int)p.ResetHint, Schema = p.Schema, ZeroThreshold = p.ZeroThreshold,
            ZeroCount = p.ZeroCountFloat, Count = p.CountFloat, Sum = p.Sum,
            PositiveSpans = Spans(p.PositiveSpans), NegativeSpans = Spans(p.NegativeSpans),
            PositiveBuckets = p.PositiveCounts.ToArray(), NegativeBuckets = p.NegativeCounts.ToArray(), CustomValues = p.CustomValues.ToArray(),
        };
        if (h.Validate() is { } why) return RefuseFloat(why, out id, out problem);
        return h;
    }

    private static FloatHistogram? RefuseFloat(string why, out string? id, out string? problem)
    {
        id = InvalidId;
        problem = why;
        return null;
    }

    private static HistogramSpan[] Spans(Google.Protobuf.Collections.RepeatedField<BucketSpan> spans)
    {
        var result = new HistogramSpan[spans.Count];
        for (int i = 0; i < result.Length; i++) result[i] = new HistogramSpan(spans[i].Offset, spans[i].Length);
        return result;
    }

    private static Histogram? Refuse(string reason, string why, out string? id, out string? problem)
    {
        id = reason;
        problem = why;
        return null;
    }
}
