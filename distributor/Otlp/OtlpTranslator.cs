using Amphora.Distributor.Otlp.Proto;
using Amphora.Distributor.Prompb;
using Amphora.Model;
using Google.Protobuf;
using PromMetadata = Amphora.Distributor.Prompb.MetricMetadata;

namespace Amphora.Distributor.Otlp;

/// <summary>
/// Translates an OTLP export request into a remote-write request as Prometheus 3's OTLP receiver does: names by
/// <see cref="OtlpNames"/>; <c>job</c> from <c>service.namespace/service.name</c> and <c>instance</c> from
/// <c>service.instance.id</c>; the other resource attributes in a <c>target_info</c> series (value 1) and, when chosen, on
/// every series; gauges and non-monotonic sums as gauges; monotonic cumulative sums as counters; explicit-bucket histograms as
/// <c>_bucket{le}</c> (cumulative, ending with <c>+Inf</c>), <c>_sum</c>, <c>_count</c>; summaries as <c>{quantile}</c>,
/// <c>_sum</c>, <c>_count</c>; exponential histograms as native histograms (<see cref="ExponentialToNative"/>); a point flagged
/// "no recorded value" as a staleness marker. Delta and unspecified temporality are refused with a message saying what to
/// change. Exemplars of monotonic sums and of both kinds of histogram become remote-write exemplars of the series they belong
/// to (<see cref="AddExemplars"/>); those of gauges and non-monotonic sums are dropped, as OpenTelemetry's Prometheus
/// compatibility specification says. Validation of the result (label limits, timestamps, histogram counts) is the
/// distributor's, as for remote write. Pure and thread-safe.
/// </summary>
public static partial class OtlpTranslator
{
    public const string DeltaId = "err-amphora-otlp-delta-temporality";
    public const string TemporalityId = "err-amphora-otlp-unspecified-temporality";
    public const string InvalidNameId = "err-amphora-otlp-invalid-metric-name";
    public const string InvalidPointId = "err-amphora-otlp-invalid-point";
    public const string NoDataId = "err-amphora-otlp-metric-without-data";

    private const uint NoRecordedValue = 1;

    /// <summary>
    /// Translates <paramref name="request"/>. With <paramref name="limits"/>, translation stops as soon as the result holds more
    /// series, samples or labels than one request may (<see cref="OtlpTranslation.OverLimit"/>), so a small body of many
    /// histogram buckets costs the limit, not what it would expand to.
    /// </summary>
    /// <param name="maxLabelBytes">Most bytes of label names and values the translated series may hold in all (the remote-write
    /// body limit: what a remote write of the same series could carry).</param>
    public static OtlpTranslation Translate(ExportMetricsServiceRequest request, OtlpOptions options, RequestShapeLimits? limits = null,
        long maxLabelBytes = long.MaxValue)
    {
        var result = new OtlpTranslation(limits, maxLabelBytes);
        var metadataNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var rm in request.ResourceMetrics)
        {
            var resource = ResourceLabels.From(rm.Resource, options);
            long newest = long.MinValue;
            foreach (var sm in rm.ScopeMetrics)
                foreach (var metric in sm.Metrics)
                {
                    TranslateMetric(metric, resource, options, result, metadataNames, ref newest);
                    if (result.OverLimit) return result;
                }
            if (newest != long.MinValue && resource.TargetInfo.Count > 0)
                AddTargetInfo(resource, newest, result, metadataNames);
        }
        return result;
    }

    private static void TranslateMetric(Metric metric, ResourceLabels resource, OtlpOptions options, OtlpTranslation result,
        HashSet<string> metadataNames, ref long newest)
    {
        int points = metric.DataCase switch
        {
            Metric.DataOneofCase.Gauge => metric.Gauge.DataPoints.Count,
            Metric.DataOneofCase.Sum => metric.Sum.DataPoints.Count,
            Metric.DataOneofCase.Histogram => metric.Histogram.DataPoints.Count,
            Metric.DataOneofCase.ExponentialHistogram => metric.ExponentialHistogram.DataPoints.Count,
            Metric.DataOneofCase.Summary => metric.Summary.DataPoints.Count,
            _ => 0,
        };
        result.Points += points;
        string shown = Shown(metric.Name);

        OtlpMetricKind kind;
        switch (metric.DataCase)
        {
            case Metric.DataOneofCase.Gauge:
                kind = OtlpMetricKind.Gauge;
                break;
            case Metric.DataOneofCase.Sum:
                if (RefusedTemporality(metric.Sum.AggregationTemporality, "sum", shown, points, result)) return;
                kind = metric.Sum.IsMonotonic ? OtlpMetricKind.MonotonicCounter : OtlpMetricKind.NonMonotonicCounter;
                break;
            case Metric.DataOneofCase.Histogram:
                if (RefusedTemporality(metric.Histogram.AggregationTemporality, "histogram", shown, points, result)) return;
                kind = OtlpMetricKind.Histogram;
                break;
            case Metric.DataOneofCase.ExponentialHistogram:
                if (RefusedTemporality(metric.ExponentialHistogram.AggregationTemporality, "exponential histogram", shown, points, result)) return;
                kind = OtlpMetricKind.Histogram;
                break;
            case Metric.DataOneofCase.Summary:
                kind = OtlpMetricKind.Summary;
                break;
            default:
                result.Reject(NoDataId, $"metric \"{shown}\" has no gauge, sum, histogram or summary data", 0);
                return;
        }

        string name = OtlpNames.MetricName(metric.Name, metric.Unit, kind, options);
        if (name.Length == 0 || !LabelNames.IsValid(name, options.Utf8Names, metric: true))
        {
            result.Reject(InvalidNameId, name.Length == 0
                ? $"metric \"{shown}\" has no name left after translation (--otlp.translation-strategy={options.TranslationStrategy})"
                : $"metric name \"{Shown(name)}\" is kept untranslated by --otlp.translation-strategy={options.TranslationStrategy}, " +
                  "but under the legacy name validation scheme names must match [a-zA-Z_:][a-zA-Z0-9_:]*; set " +
                  "--validation.name-validation-scheme=utf8 to store it as sent, or use --otlp.translation-strategy=" +
                  "UnderscoreEscapingWithSuffixes (the default) to store it with invalid characters replaced by _", points);
            return;
        }
        if (metadataNames.Add(name))
            result.Request.Metadata.Add(new PromMetadata
            {
                MetricFamilyName = name,
                Type = kind switch
                {
                    OtlpMetricKind.MonotonicCounter => PromMetadata.Types.MetricType.Counter,
                    OtlpMetricKind.Histogram => PromMetadata.Types.MetricType.Histogram,
                    OtlpMetricKind.Summary => PromMetadata.Types.MetricType.Summary,
                    _ => PromMetadata.Types.MetricType.Gauge,
                },
                Help = metric.Description,
                Unit = OtlpNames.PrometheusUnit(metric.Unit),
            });

        var series = new SeriesWriter(result, resource, options, name, shown);
        switch (kind)
        {
            case OtlpMetricKind.Histogram when metric.DataCase == Metric.DataOneofCase.ExponentialHistogram:
                foreach (var p in metric.ExponentialHistogram.DataPoints)
                    if (!result.OverLimit) AddExponentialHistogram(series, p, ref newest);
                break;
            case OtlpMetricKind.Histogram:
                foreach (var p in metric.Histogram.DataPoints)
                    if (!result.OverLimit) AddHistogram(series, p, ref newest);
                break;
            case OtlpMetricKind.Summary:
                foreach (var p in metric.Summary.DataPoints)
                    if (!result.OverLimit) AddSummary(series, p, ref newest);
                break;
            default:
                foreach (var p in metric.DataCase == Metric.DataOneofCase.Gauge ? metric.Gauge.DataPoints : metric.Sum.DataPoints)
                    if (!result.OverLimit) AddNumber(series, p, kind == OtlpMetricKind.MonotonicCounter, ref newest);
                break;
        }
    }

    private static bool RefusedTemporality(AggregationTemporality temporality, string type, string shown, int points, OtlpTranslation result)
    {
        if (temporality == AggregationTemporality.Cumulative) return false;
        if (temporality == AggregationTemporality.Delta)
            result.Reject(DeltaId, $"metric \"{shown}\" is a {type} with delta aggregation temporality; Prometheus stores cumulative " +
                $"values only, so its {points} point(s) were refused. Send cumulative temporality (OpenTelemetry SDKs: " +
                "OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative; the OpenTelemetry Collector: the deltatocumulative processor)",
                points);
        else
            result.Reject(TemporalityId, $"metric \"{shown}\" is a {type} without an aggregation temporality (it must be cumulative); " +
                $"its {points} point(s) were refused", points);
        return true;
    }

    private static void AddNumber(SeriesWriter series, NumberDataPoint p, bool keepExemplars, ref long newest)
    {
        if (!series.TryBegin(p.Attributes, p.TimeUnixNano, out long t)) return;
        double v;
        if ((p.Flags & NoRecordedValue) != 0) v = StaleNaN.Value;
        else if (p.ValueCase == NumberDataPoint.ValueOneofCase.AsDouble) v = p.AsDouble;
        else if (p.ValueCase == NumberDataPoint.ValueOneofCase.AsInt) v = p.AsInt;
        else
        {
            series.RejectPoint("has neither as_double nor as_int");
            return;
        }
        var ts = WithStart(series.Add("", null, null, t, v), StartTimestamp(p.StartTimeUnixNano, t));
        if (keepExemplars) AddExemplars(ts, p.Exemplars, series.Options);
        newest = Math.Max(newest, t);
    }

    /// <summary>
    /// A point's start time in ms as its sample's start timestamp: 0 (none) when unset, and also when it equals the point's
    /// time, OpenTelemetry's way of saying the start is unknown (Prometheus's OTLP ingestion maps it to 0 as well).
    /// </summary>
    internal static long StartTimestamp(ulong startTimeUnixNano, long t)
    {
        long st = (long)(startTimeUnixNano / 1_000_000);
        return st == t ? 0 : st;
    }

    private static void AddHistogram(SeriesWriter series, HistogramDataPoint p, ref long newest)
    {
        if (!series.TryBegin(p.Attributes, p.TimeUnixNano, out long t)) return;
        if (p.BucketCounts.Count != 0 && p.BucketCounts.Count != p.ExplicitBounds.Count + 1)
        {
            series.RejectPoint($"has {p.BucketCounts.Count} bucket counts for {p.ExplicitBounds.Count} explicit bounds (it needs " +
                $"{p.ExplicitBounds.Count + 1}, one more than the bounds, or none)");
            return;
        }
        bool stale = (p.Flags & NoRecordedValue) != 0;
        long st = StartTimestamp(p.StartTimeUnixNano, t);
        ulong cumulative = 0;
        var buckets = new List<Prompb.TimeSeries>(p.BucketCounts.Count);
        for (int i = 0; i < p.BucketCounts.Count - 1 && !series.Full; i++)
        {
            cumulative += p.BucketCounts[i];
            buckets.Add(WithStart(series.Add("_bucket", "le", OtlpNames.FormatFloat(p.ExplicitBounds[i]), t, stale ? StaleNaN.Value : cumulative), st));
        }
        var infinity = WithStart(series.Add("_bucket", "le", "+Inf", t, stale ? StaleNaN.Value : p.Count), st);
        // Each exemplar goes to the bucket it falls in: the first whose upper bound is not below its value, else +Inf.
        if (p.Exemplars.Count > 0 && !stale)
            foreach (var e in p.Exemplars)
            {
                double value = ExemplarValue(e);
                int bucket = 0;
                while (bucket < buckets.Count && !(value <= p.ExplicitBounds[bucket])) bucket++;
                AddExemplars(bucket < buckets.Count ? buckets[bucket] : infinity, [e], series.Options);
            }
        if (p.HasSum) WithStart(series.Add("_sum", null, null, t, stale ? StaleNaN.Value : p.Sum), st);
        WithStart(series.Add("_count", null, null, t, stale ? StaleNaN.Value : p.Count), st);
        newest = Math.Max(newest, t);
    }

    /// <summary>Gives the sample just added to <paramref name="ts"/> its start timestamp.</summary>
    private static Prompb.TimeSeries WithStart(Prompb.TimeSeries ts, long st)
    {
        ts.Samples[^1].StartTimestamp = st;
        return ts;
    }

    private static void AddSummary(SeriesWriter series, SummaryDataPoint p, ref long newest)
    {
        if (!series.TryBegin(p.Attributes, p.TimeUnixNano, out long t)) return;
        bool stale = (p.Flags & NoRecordedValue) != 0;
        foreach (var q in p.QuantileValues)
            series.Add("", "quantile", OtlpNames.FormatFloat(q.Quantile), t, stale ? StaleNaN.Value : q.Value);
        series.Add("_sum", null, null, t, stale ? StaleNaN.Value : p.Sum);
        series.Add("_count", null, null, t, stale ? StaleNaN.Value : p.Count);
        newest = Math.Max(newest, t);
    }

    private static void AddTargetInfo(ResourceLabels resource, long t, OtlpTranslation result, HashSet<string> metadataNames)
    {
        var labels = new Dictionary<string, string>(resource.TargetInfo, StringComparer.Ordinal);
        resource.AddIdentity(labels);
        labels[LabelNames.MetricName] = "target_info";
        SeriesWriter.Append(result, [.. labels], t, 1);
        if (metadataNames.Add("target_info"))
            result.Request.Metadata.Add(new PromMetadata
            {
                MetricFamilyName = "target_info",
                Type = PromMetadata.Types.MetricType.Gauge,
                Help = "Target metadata",
            });
    }

    /// <summary>Text from the sender, cut for a message.</summary>
    internal static string Shown(string s) => s.Length > 120 ? s[..120] + "…" : s;

    internal static ByteString Utf8(string s) => ByteString.CopyFromUtf8(s);
}
