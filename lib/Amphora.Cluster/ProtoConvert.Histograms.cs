using Amphora.Model;
using Google.Protobuf.Collections;

namespace Amphora.Cluster;

/// <summary>Native histograms between the model and the ingester protocol: field for field, nothing recomputed.</summary>
public static partial class ProtoConvert
{
    public static Protocol.Histogram ToProto(long t, Histogram h)
    {
        var p = new Protocol.Histogram
        {
            TimestampMs = t, Schema = h.Schema, ZeroThreshold = h.ZeroThreshold, ZeroCount = h.ZeroCount, Count = h.Count, Sum = h.Sum,
            ResetHint = (Protocol.CounterResetHint)(int)h.CounterResetHint,
        };
        AddSpans(p.PositiveSpans, h.PositiveSpans);
        AddSpans(p.NegativeSpans, h.NegativeSpans);
        p.PositiveDeltas.AddRange(h.PositiveBuckets);
        p.NegativeDeltas.AddRange(h.NegativeBuckets);
        p.CustomValues.AddRange(h.CustomValues);
        return p;
    }

    public static Protocol.FloatHistogram ToProto(long t, FloatHistogram h)
    {
        var p = new Protocol.FloatHistogram
        {
            TimestampMs = t, Schema = h.Schema, ZeroThreshold = h.ZeroThreshold, ZeroCount = h.ZeroCount, Count = h.Count, Sum = h.Sum,
            ResetHint = (Protocol.CounterResetHint)(int)h.CounterResetHint,
        };
        AddSpans(p.PositiveSpans, h.PositiveSpans);
        AddSpans(p.NegativeSpans, h.NegativeSpans);
        p.PositiveCounts.AddRange(h.PositiveBuckets);
        p.NegativeCounts.AddRange(h.NegativeBuckets);
        p.CustomValues.AddRange(h.CustomValues);
        return p;
    }

    /// <summary>The model's histogram, or null with why it cannot be stored (a reset hint outside the enum, or what
    /// <see cref="Histogram.Validate"/> says).</summary>
    public static Histogram? FromProto(Protocol.Histogram p, out string? problem)
    {
        var h = new Histogram
        {
            CounterResetHint = (CounterResetHint)(int)p.ResetHint, Schema = p.Schema, ZeroThreshold = p.ZeroThreshold,
            ZeroCount = p.ZeroCount, Count = p.Count, Sum = p.Sum,
            PositiveSpans = Spans(p.PositiveSpans), NegativeSpans = Spans(p.NegativeSpans),
            PositiveBuckets = p.PositiveDeltas.ToArray(), NegativeBuckets = p.NegativeDeltas.ToArray(), CustomValues = p.CustomValues.ToArray(),
        };
        problem = HintProblem(p.ResetHint) ?? h.Validate();
        return problem is null ? h : null;
    }

    /// <summary>The model's float histogram, or null with why it cannot be stored.</summary>
    public static FloatHistogram? FromProto(Protocol.FloatHistogram p, out string? problem)
    {
        var h = new FloatHistogram
        {
            CounterResetHint = (CounterResetHint)(int)p.ResetHint, Schema = p.Schema, ZeroThreshold = p.ZeroThreshold,
            ZeroCount = p.ZeroCount, Count = p.Count, Sum = p.Sum,
            PositiveSpans = Spans(p.PositiveSpans), NegativeSpans = Spans(p.NegativeSpans),
            PositiveBuckets = p.PositiveCounts.ToArray(), NegativeBuckets = p.NegativeCounts.ToArray(), CustomValues = p.CustomValues.ToArray(),
        };
        problem = HintProblem(p.ResetHint) ?? h.Validate();
        return problem is null ? h : null;
    }

    private static string? HintProblem(Protocol.CounterResetHint hint) =>
        (int)hint is >= 0 and <= 3 ? null : $"reset_hint {(int)hint} is not one of UNKNOWN, RESET, NOT_RESET, GAUGE";

    private static void AddSpans(RepeatedField<Protocol.BucketSpan> into, HistogramSpan[] spans)
    {
        foreach (var s in spans) into.Add(new Protocol.BucketSpan { Offset = s.Offset, Length = s.Length });
    }

    private static HistogramSpan[] Spans(RepeatedField<Protocol.BucketSpan> spans)
    {
        var result = new HistogramSpan[spans.Count];
        for (int i = 0; i < result.Length; i++) result[i] = new HistogramSpan(spans[i].Offset, spans[i].Length);
        return result;
    }
}
