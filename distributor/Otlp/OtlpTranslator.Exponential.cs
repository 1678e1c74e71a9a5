using Amphora.Distributor.Otlp.Proto;
using Amphora.Distributor.Prompb;
using Amphora.Model;
using Google.Protobuf.Collections;
using OtlpExemplar = Amphora.Distributor.Otlp.Proto.Exemplar;
using PromExemplar = Amphora.Distributor.Prompb.Exemplar;

namespace Amphora.Distributor.Otlp;

public static partial class OtlpTranslator
{
    /// <summary>The zero threshold a native histogram gets when the exponential histogram does not set one.</summary>
    public const double DefaultZeroThreshold = 1e-128;

    private static void AddExponentialHistogram(SeriesWriter series, ExponentialHistogramDataPoint p, ref long newest)
    {
        if (!series.TryBegin(p.Attributes, p.TimeUnixNano, out long t)) return;
        var h = ExponentialToNative(p, t, out string? why);
        if (h is null)
        {
            series.RejectPoint(why!);
            return;
        }
        var ts = series.AddHistogram(h);
        if (!StaleNaN.Is(h.Sum)) AddExemplars(ts, p.Exemplars, series.Options);
        newest = Math.Max(newest, t);
    }

    /// <summary>
    /// An exponential histogram point as a remote-write native histogram with integer counts, as OpenTelemetry's Prometheus
    /// compatibility specification converts it: the scale is the schema, a scale above 8 is reduced to 8 by merging adjacent
    /// buckets (each step down joins bucket pairs), a scale below -4 cannot be represented and is refused; the zero threshold is
    /// the point's, or <see cref="DefaultZeroThreshold"/> when unset; bucket indexes move up by one, since OTLP names a bucket by
    /// its lower bound and Prometheus by its upper bound; empty buckets are left out of the spans. A point without a sum gets 0;
    /// "no recorded value" becomes a staleness marker. Min, max and the start time are not used. Null, with why, when refused.
    /// </summary>
    public static Prompb.Histogram? ExponentialToNative(ExponentialHistogramDataPoint p, long t, out string? why)
    {
        why = null;
        var h = new Prompb.Histogram { Timestamp = t, ResetHint = Prompb.Histogram.Types.ResetHint.Unknown };
        if ((p.Flags & NoRecordedValue) != 0)
        {
            h.Sum = StaleNaN.Value;
            h.CountInt = 0;
            return h;
        }
        if (p.Scale < Amphora.Model.Histogram.MinExponentialSchema)
        {
            why = $"has scale {p.Scale}, coarser than the coarsest native histogram schema ({Amphora.Model.Histogram.MinExponentialSchema}); " +
                  "configure the SDK's exponential histogram with a larger max scale or fewer max buckets";
            return null;
        }
        int down = Math.Max(0, p.Scale - Amphora.Model.Histogram.MaxExponentialSchema);
        h.Schema = p.Scale - down;
        h.ZeroThreshold = p.ZeroThreshold != 0 ? p.ZeroThreshold : DefaultZeroThreshold;
        h.CountInt = p.Count;
        h.ZeroCountInt = p.ZeroCount;
        h.Sum = p.HasSum ? p.Sum : 0;
        if (!TryBuckets(p.Positive, down, h.PositiveSpans, h.PositiveDeltas, "positive", out why) ||
            !TryBuckets(p.Negative, down, h.NegativeSpans, h.NegativeDeltas, "negative", out why))
            return null;
        return h;
    }

    /// <summary>Dense OTLP buckets as Prometheus's spans and delta-encoded counts, after merging <paramref name="down"/> scale steps.</summary>
    private static bool TryBuckets(ExponentialHistogramDataPoint.Types.Buckets? buckets, int down, RepeatedField<BucketSpan> spans,
        RepeatedField<long> deltas, string sign, out string? why)
    {
        why = null;
        if (buckets is null || buckets.BucketCounts.Count == 0) return true;
        long previousIndex = 0, previousCount = 0;
        long index = long.MinValue;
        ulong count = 0;
        for (int i = 0; i <= buckets.BucketCounts.Count; i++)
        {
            // The OTLP index of bucket i at the point's scale, then at the reduced scale (an arithmetic shift floors negatives too).
            long merged = i < buckets.BucketCounts.Count ? ((long)buckets.Offset + i) >> down : long.MaxValue;
            if (merged == index && i < buckets.BucketCounts.Count)
            {
                count += buckets.BucketCounts[i];
                if (count < buckets.BucketCounts[i]) return Overflow(sign, out why);
                continue;
            }
            if (index != long.MinValue && count > 0)
            {
                if (count > long.MaxValue) return Overflow(sign, out why);
                long upper = index + 1;
                if (upper is > int.MaxValue or < int.MinValue)
                {
                    why = $"has a {sign} bucket at index {index}, beyond what a native histogram can hold";
                    return false;
                }
                if (spans.Count > 0 && upper == previousIndex + 1) spans[^1].Length++;
                else spans.Add(new BucketSpan { Offset = (int)(spans.Count == 0 ? upper : upper - previousIndex - 1), Length = 1 });
                deltas.Add((long)count - previousCount);
                previousIndex = upper;
                previousCount = (long)count;
            }
            if (i == buckets.BucketCounts.Count) break;
            index = merged;
            count = buckets.BucketCounts[i];
        }
        return true;
    }

    private static bool Overflow(string sign, out string why)
    {
        why = $"has {sign} bucket counts whose total does not fit in 63 bits";
        return false;
    }

    /// <summary>
    /// Adds <paramref name="exemplars"/> to the series: value, time in milliseconds, the filtered attributes as labels (names
    /// translated like attributes; empty values left out) and <c>trace_id</c>/<c>span_id</c> in lowercase hex when set. One without
    /// a value or a time is skipped; labels the distributor cannot store (over 128 characters, say) are dropped there, counted,
    /// without failing the write.
    /// </summary>
    private static void AddExemplars(TimeSeries ts, RepeatedField<OtlpExemplar> exemplars, OtlpOptions options)
    {
        foreach (var e in exemplars)
        {
            if (e.ValueCase == OtlpExemplar.ValueOneofCase.None || e.TimeUnixNano == 0) continue;
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var a in Sorted(e.FilteredAttributes))
            {
                string name = OtlpNames.LabelName(a.Key, options);
                string value = AttributeText(a.Value);
                if (name.Length > 0 && value.Length > 0) Merge(labels, name, value);
            }
            if (!e.TraceId.IsEmpty) labels["trace_id"] = Convert.ToHexStringLower(e.TraceId.Span);
            if (!e.SpanId.IsEmpty) labels["span_id"] = Convert.ToHexStringLower(e.SpanId.Span);
            var exemplar = new PromExemplar { Value = ExemplarValue(e), Timestamp = (long)(e.TimeUnixNano / 1_000_000) };
            foreach (var (name, value) in labels.OrderBy(l => l.Key, StringComparer.Ordinal)) exemplar.Labels.Add(new Prompb.Label { Name = Utf8(name), Value = Utf8(value) });
            ts.Exemplars.Add(exemplar);
        }
    }

    private static double ExemplarValue(OtlpExemplar e) =>
        e.ValueCase == OtlpExemplar.ValueOneofCase.AsInt ? e.AsInt : e.AsDouble;
}
