using Amphora.Distributor.Otlp;
using Amphora.Distributor.Otlp.Proto;
using Xunit;
using static Amphora.Distributor.Tests.Otlp.OtlpRequests;
using PromType = Amphora.Distributor.Prompb.MetricMetadata.Types.MetricType;

namespace Amphora.Distributor.Tests.Otlp;

/// <summary>Each OTLP metric type becomes the series Prometheus 3's OTLP translation documents, or is refused saying why.</summary>
public sealed class OtlpTranslatorTests
{
    [Fact]
    public void A_gauge_keeps_its_attributes_as_labels_and_gets_job_and_instance_from_the_service()
    {
        var t = Translate(Request([Attr("service.name", "checkout"), Attr("service.namespace", "shop"), Attr("service.instance.id", "pod-1")],
            Gauge("cpu.utilization", "1", Number(0.25, T, Attr("cpu", "0"), Attr("http.method", "GET")))));
        Assert.Equal(["cpu_utilization_ratio{cpu=\"0\", http_method=\"GET\", instance=\"pod-1\", job=\"shop/checkout\"} 0.25 @" + Ms], Series(t));
        var meta = Assert.Single(t.Request.Metadata);
        Assert.Equal(("cpu_utilization_ratio", PromType.Gauge), (meta.MetricFamilyName, meta.Type));
        Assert.Equal(0, t.RejectedPoints);
    }

    [Fact]
    public void A_monotonic_cumulative_sum_is_a_counter_with_total_and_an_up_down_counter_is_a_gauge()
    {
        var counter = Sum("http.server.requests", "{request}", true, AggregationTemporality.Cumulative, Number(0, T, Attr("route", "/")));
        counter.Sum.DataPoints[0].AsInt = 42;
        var upDown = Sum("queue.length", "{item}", false, AggregationTemporality.Cumulative, Number(-3));
        var t = Translate(Request(Service, counter, upDown));
        Assert.Equal([
            $"http_server_requests_total{{instance=\"pod-1\", job=\"checkout\", route=\"/\"}} 42 @{Ms}",
            $"queue_length{{instance=\"pod-1\", job=\"checkout\"}} -3 @{Ms}",
        ], Series(t));
        Assert.Equal([PromType.Counter, PromType.Gauge], t.Request.Metadata.Select(m => m.Type));
    }

    [Fact]
    public void A_histogram_becomes_cumulative_buckets_ending_in_plus_inf_with_sum_and_count()
    {
        var p = new HistogramDataPoint { TimeUnixNano = T, Count = 6, Sum = 7.5 };
        p.ExplicitBounds.Add([0.5, 1]);
        p.BucketCounts.Add([1, 2, 3]);
        var m = new Metric { Name = "http.server.request.duration", Unit = "s", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        m.Histogram.DataPoints.Add(p);
        var t = Translate(Request(Service, m));
        const string L = "instance=\"pod-1\", job=\"checkout\"";
        Assert.Equal([
            $"http_server_request_duration_seconds_bucket{{{L}, le=\"+Inf\"}} 6 @{Ms}",
            $"http_server_request_duration_seconds_bucket{{{L}, le=\"0.5\"}} 1 @{Ms}",
            $"http_server_request_duration_seconds_bucket{{{L}, le=\"1\"}} 3 @{Ms}",
            $"http_server_request_duration_seconds_count{{{L}}} 6 @{Ms}",
            $"http_server_request_duration_seconds_sum{{{L}}} 7.5 @{Ms}",
        ], Series(t));
        Assert.Equal(PromType.Histogram, Assert.Single(t.Request.Metadata).Type);
    }

    [Fact]
    public void A_histogram_without_buckets_or_sum_has_only_plus_inf_and_count()
    {
        var m = new Metric { Name = "jobs", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        m.Histogram.DataPoints.Add(new HistogramDataPoint { TimeUnixNano = T, Count = 4 });
        Assert.Equal([$"jobs_bucket{{le=\"+Inf\"}} 4 @{Ms}", $"jobs_count{{}} 4 @{Ms}"], Series(Translate(Request([], m))));
    }

    [Fact]
    public void A_histogram_point_whose_bucket_counts_do_not_fit_its_bounds_is_refused_and_the_others_kept()
    {
        var bad = new HistogramDataPoint { TimeUnixNano = T, Count = 3 };
        bad.ExplicitBounds.Add([1, 2]);
        bad.BucketCounts.Add([1, 2]);
        var good = new HistogramDataPoint { TimeUnixNano = T, Count = 1 };
        good.Attributes.Add(Attr("k", "v"));
        var m = new Metric { Name = "h", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        m.Histogram.DataPoints.Add([bad, good]);
        var t = Translate(Request([], m));
        Assert.Equal(1, t.RejectedPoints);
        Assert.Contains("has 2 bucket counts for 2 explicit bounds", t.FirstRejection);
        Assert.StartsWith(OtlpTranslator.InvalidPointId, t.FirstRejection);
        Assert.Equal(2, t.Request.Timeseries.Count);
    }

    [Fact]
    public void A_summary_becomes_quantile_series_with_sum_and_count()
    {
        var p = new SummaryDataPoint { TimeUnixNano = T, Count = 10, Sum = 2.5 };
        p.QuantileValues.Add(new SummaryDataPoint.Types.ValueAtQuantile { Quantile = 0.5, Value = 0.2 });
        p.QuantileValues.Add(new SummaryDataPoint.Types.ValueAtQuantile { Quantile = 0.99, Value = 0.9 });
        var m = new Metric { Name = "rpc.duration", Unit = "s", Summary = new Summary() };
        m.Summary.DataPoints.Add(p);
        Assert.Equal([
            $"rpc_duration_seconds_count{{}} 10 @{Ms}",
            $"rpc_duration_seconds_sum{{}} 2.5 @{Ms}",
            $"rpc_duration_seconds{{quantile=\"0.5\"}} 0.2 @{Ms}",
            $"rpc_duration_seconds{{quantile=\"0.99\"}} 0.9 @{Ms}",
        ], Series(Translate(Request([], m))));
    }

    [Fact]
    public void A_delta_sum_is_refused_naming_the_setting_to_change_and_the_rest_is_kept()
    {
        var t = Translate(Request(Service,
            Sum("requests", "", true, AggregationTemporality.Delta, Number(1), Number(2, T + 1_000_000_000)),
            Gauge("temperature", "Cel", Number(21))));
        Assert.Equal(2, t.RejectedPoints);
        Assert.Equal(3, t.Points);
        Assert.StartsWith(OtlpTranslator.DeltaId + ": metric \"requests\" is a sum with delta aggregation temporality", t.FirstRejection);
        Assert.Contains("OTEL_EXPORTER_OTLP_METRICS_TEMPORALITY_PREFERENCE=cumulative", t.FirstRejection);
        Assert.Equal([$"temperature_celsius{{instance=\"pod-1\", job=\"checkout\"}} 21 @{Ms}"], Series(t));
    }

    [Fact]
    public void A_sum_without_temporality_and_a_delta_histogram_are_refused()
    {
        var h = new Metric { Name = "h", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Delta } };
        h.Histogram.DataPoints.Add(new HistogramDataPoint { TimeUnixNano = T, Count = 1 });
        var t = Translate(Request([], Sum("s", "", true, AggregationTemporality.Unspecified, Number(1)), h));
        Assert.Equal(2, t.RejectedPoints);
        Assert.Equal(1, t.RejectedByReason[OtlpTranslator.TemporalityId]);
        Assert.Equal(1, t.RejectedByReason[OtlpTranslator.DeltaId]);
        Assert.Empty(t.Request.Timeseries);
    }

    private static Metric Exponential(string name, string unit, params ExponentialHistogramDataPoint[] points)
    {
        var m = new Metric { Name = name, Unit = unit, ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        m.ExponentialHistogram.DataPoints.AddRange(points);
        return m;
    }

    private static ExponentialHistogramDataPoint.Types.Buckets Buckets(int offset, params ulong[] counts)
    {
        var b = new ExponentialHistogramDataPoint.Types.Buckets { Offset = offset };
        b.BucketCounts.AddRange(counts);
        return b;
    }

    private static string Spans(IEnumerable<Prompb.BucketSpan> spans) => string.Join(" ", spans.Select(s => $"{s.Offset}:{s.Length}"));

    [Fact]
    public void An_exponential_histogram_is_a_native_histogram_with_bucket_indexes_moved_up_by_one()
    {
        var p = new ExponentialHistogramDataPoint
        {
            TimeUnixNano = T, Count = 11, Sum = 5.5, Scale = 2, ZeroCount = 1,
            Positive = Buckets(-1, 1, 0, 0, 0, 2, 3), Negative = Buckets(0, 4),
        };
        p.Attributes.Add(Attr("http.route", "/cart"));
        var t = Translate(Request(Service, Exponential("rpc.latency", "s", p)));
        Assert.Equal(0, t.RejectedPoints);
        var ts = Assert.Single(t.Request.Timeseries);
        Assert.Empty(ts.Samples);
        Assert.Equal(["__name__=rpc_latency_seconds", "http_route=/cart", "instance=pod-1", "job=checkout"],
            ts.Labels.Select(l => l.Name.ToStringUtf8() + "=" + l.Value.ToStringUtf8()));
        var h = Assert.Single(ts.Histograms);
        Assert.Equal((2, 11UL, 1UL, 5.5, OtlpTranslator.DefaultZeroThreshold, Ms), (h.Schema, h.CountInt, h.ZeroCountInt, h.Sum, h.ZeroThreshold, h.Timestamp));
        // OTLP bucket -1 is (2^-0.25, 1], Prometheus's bucket 0; the three empty buckets between are left out of the spans.
        Assert.Equal("0:1 3:2", Spans(h.PositiveSpans));
        Assert.Equal([1L, 1, 1], h.PositiveDeltas);
        Assert.Equal("1:1", Spans(h.NegativeSpans));
        Assert.Equal([4L], h.NegativeDeltas);
        Assert.Equal(PromType.Histogram, Assert.Single(t.Request.Metadata).Type);

        // The distributor stores it (the bucket counts add up), and each bucket has the upper bound its OTLP bucket had:
        // OTLP bucket i at scale 2 ends at 2^((i+1)/4), Prometheus's bucket k at schema 2 at 2^(k/4).
        var stored = RemoteWriteHistograms.Convert(h, out _, out var problem);
        Assert.Null(problem);
        Assert.NotNull(stored);
        int[] otlpIndexes = [-1, 3, 4], promIndexes = [0, 4, 5];
        for (int i = 0; i < 3; i++)
            Assert.Equal(Math.Pow(2, (otlpIndexes[i] + 1) / 4.0), Amphora.Model.HistogramBounds.Exponential(promIndexes[i], 2), 12);
    }

    [Fact]
    public void A_scale_above_8_is_reduced_to_8_by_merging_buckets_and_one_below_minus_4_is_refused()
    {
        var fine = new ExponentialHistogramDataPoint { TimeUnixNano = T, Count = 5, Scale = 10, Positive = Buckets(5, 1, 1, 1, 1, 1) };
        var negative = new ExponentialHistogramDataPoint { TimeUnixNano = T + 1_000_000, Count = 3, Scale = 9, Positive = Buckets(-3, 1, 1, 1) };
        var coarse = new ExponentialHistogramDataPoint { TimeUnixNano = T + 2_000_000, Count = 1, Scale = -5, Positive = Buckets(0, 1) };
        var t = Translate(Request(Service, Exponential("sizes", "By", fine, negative, coarse)));
        var hs = Assert.Single(t.Request.Timeseries.Where(ts => ts.Histograms.Count > 0).SelectMany(ts => ts.Histograms).GroupBy(_ => 0)).ToList();
        Assert.Equal(2, hs.Count);
        // Scale 10 to 8 merges groups of four: OTLP 5..9 fall in 1,1,1,2,2 at scale 8, Prometheus's buckets 2 and 3.
        Assert.Equal((8, "2:2"), (hs[0].Schema, Spans(hs[0].PositiveSpans)));
        Assert.Equal([3L, -1], hs[0].PositiveDeltas);
        // Scale 9 to 8 with negative indexes: -3 falls in -2, -2 and -1 in -1 (floor division), Prometheus's -1 and 0.
        Assert.Equal((8, "-1:2"), (hs[1].Schema, Spans(hs[1].PositiveSpans)));
        Assert.Equal([1L, 1], hs[1].PositiveDeltas);
        Assert.Equal(1, t.RejectedPoints);
        Assert.Contains("a point of metric \"sizes\" has scale -5, coarser than the coarsest native histogram schema (-4)", t.FirstRejection);
    }

    [Fact]
    public void An_exponential_point_without_a_recorded_value_is_a_stale_marker_and_a_delta_one_is_refused()
    {
        var stale = new ExponentialHistogramDataPoint { TimeUnixNano = T, Flags = 1, Scale = 3 };
        var t = Translate(Request(Service, Exponential("latency", "s", stale)));
        Assert.True(Amphora.Model.StaleNaN.Is(Assert.Single(Assert.Single(t.Request.Timeseries).Histograms).Sum));

        var delta = Exponential("latency", "s", new ExponentialHistogramDataPoint { TimeUnixNano = T, Count = 1, ZeroCount = 1 });
        delta.ExponentialHistogram.AggregationTemporality = AggregationTemporality.Delta;
        var refused = Translate(Request(Service, delta));
        Assert.Empty(refused.Request.Timeseries);
        Assert.StartsWith(OtlpTranslator.DeltaId + ": metric \"latency\" is a exponential histogram with delta", refused.FirstRejection);
    }

    private static Exemplar Ex(double value, string traceHex = "", string spanHex = "", params KeyValue[] attributes)
    {
        var e = new Exemplar { AsDouble = value, TimeUnixNano = T - 1_000_000, TraceId = Google.Protobuf.ByteString.CopyFrom(Convert.FromHexString(traceHex)),
            SpanId = Google.Protobuf.ByteString.CopyFrom(Convert.FromHexString(spanHex)) };
        e.FilteredAttributes.AddRange(attributes);
        return e;
    }

    private static List<string> Exemplars(OtlpTranslation t) =>
        t.Request.Timeseries.SelectMany(ts => ts.Exemplars.Select(e =>
            string.Join(",", ts.Labels.Where(l => l.Name.ToStringUtf8() is "__name__" or "le").Select(l => l.Value.ToStringUtf8())) + " " +
            string.Join(",", e.Labels.Select(l => l.Name.ToStringUtf8() + "=" + l.Value.ToStringUtf8())) + $" {e.Value} @{e.Timestamp}"))
            .Order(StringComparer.Ordinal).ToList();

    [Fact]
    public void Exemplars_of_counters_and_histograms_go_to_their_series_with_trace_and_span_ids_and_those_of_gauges_are_dropped()
    {
        const string trace = "4BF92F3577B34DA6A3CE929D0E0E4736", span = "00F067AA0BA902B7";
        var counter = Sum("requests", "", true, AggregationTemporality.Cumulative, Number(3));
        counter.Sum.DataPoints[0].Exemplars.Add(Ex(1, trace, span, Attr("user.id", "u-7")));
        var gauge = Gauge("temperature", "", Number(21));
        gauge.Gauge.DataPoints[0].Exemplars.Add(Ex(21, trace, span));
        var upDown = Sum("queue", "", false, AggregationTemporality.Cumulative, Number(2));
        upDown.Sum.DataPoints[0].Exemplars.Add(Ex(2, trace, span));
        var histogram = new Metric { Name = "duration", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        var hp = new HistogramDataPoint { TimeUnixNano = T, Count = 3, Sum = 6 };
        hp.ExplicitBounds.Add([0.5, 1]);
        hp.BucketCounts.Add([1, 1, 1]);
        hp.Exemplars.Add([Ex(0.7, trace), Ex(1), Ex(4.5, "", span)]);
        histogram.Histogram.DataPoints.Add(hp);
        var ep = new ExponentialHistogramDataPoint { TimeUnixNano = T, Count = 1, ZeroCount = 1 };
        ep.Exemplars.Add(new Exemplar { AsInt = 9, TimeUnixNano = T });
        ep.Exemplars.Add(new Exemplar { TimeUnixNano = T }); // no value: skipped
        var t = Translate(Request(Service, counter, gauge, upDown, histogram, Exponential("native", "", ep)));
        string ids = $"span_id={span.ToLowerInvariant()},trace_id={trace.ToLowerInvariant()}";
        Assert.Equal([
            $"duration_bucket,+Inf span_id={span.ToLowerInvariant()} 4.5 @{Ms - 1}",
            $"duration_bucket,1  1 @{Ms - 1}",
            $"duration_bucket,1 trace_id={trace.ToLowerInvariant()} 0.7 @{Ms - 1}",
            $"native  9 @{Ms}",
            $"requests_total {ids},user_id=u-7 1 @{Ms - 1}",
        ], Exemplars(t));
    }

    [Fact]
    public void Other_resource_attributes_go_to_target_info_at_the_newest_point_time()
    {
        var t = Translate(Request([.. Service, Attr("host.name", "node-7"), Attr("deployment.environment", "prod")],
            Gauge("g", "", Number(1, T), Number(2, T + 5_000_000_000))));
        Assert.Contains($"target_info{{deployment_environment=\"prod\", host_name=\"node-7\", instance=\"pod-1\", job=\"checkout\"}} 1 @{Ms + 5000}", Series(t));
        Assert.DoesNotContain(Series(t), s => s.StartsWith("g{", StringComparison.Ordinal) && s.Contains("host_name"));
        Assert.Contains(t.Request.Metadata, m => m.MetricFamilyName == "target_info");
    }

    [Fact]
    public void No_target_info_when_the_resource_has_only_identifying_attributes_unless_they_are_kept()
    {
        var request = Request(Service, Gauge("g", "", Number(1)));
        Assert.DoesNotContain(Series(Translate(request)), s => s.StartsWith("target_info", StringComparison.Ordinal));
        Assert.Contains($"target_info{{instance=\"pod-1\", job=\"checkout\", service_instance_id=\"pod-1\", service_name=\"checkout\"}} 1 @{Ms}",
            Series(Translate(request, new OtlpOptions { KeepIdentifyingResourceAttributes = true })));
    }

    [Fact]
    public void Promoted_resource_attributes_are_labels_of_every_series_but_a_point_attribute_of_the_same_name_wins()
    {
        var request = Request([.. Service, Attr("deployment.environment", "prod"), Attr("region", "eu")],
            Gauge("g", "", Number(1, T, Attr("region", "us"))));
        var t = Translate(request, new OtlpOptions { PromoteResourceAttributes = ["deployment.environment", "region"] });
        Assert.Contains($"g{{deployment_environment=\"prod\", instance=\"pod-1\", job=\"checkout\", region=\"us\"}} 1 @{Ms}", Series(t));
    }

    [Fact]
    public void Attributes_that_collide_after_sanitizing_keep_both_values_joined_with_a_semicolon()
    {
        var t = Translate(Request([], Gauge("g", "", Number(1, T, Attr("a_b", "2"), Attr("a.b", "1")))));
        Assert.Equal([$"g{{a_b=\"1;2\"}} 1 @{Ms}"], Series(t));
    }

    [Fact]
    public void Non_string_attributes_become_text_and_arrays_json()
    {
        var p = Number(1);
        p.Attributes.Add(new KeyValue { Key = "n", Value = new AnyValue { IntValue = 7 } });
        p.Attributes.Add(new KeyValue { Key = "b", Value = new AnyValue { BoolValue = true } });
        var list = new ArrayValue();
        list.Values.Add([new AnyValue { StringValue = "x" }, new AnyValue { DoubleValue = 1.5 }]);
        p.Attributes.Add(new KeyValue { Key = "arr", Value = new AnyValue { ArrayValue = list } });
        Assert.Equal([$"g{{arr=\"[\"x\",1.5]\", b=\"true\", n=\"7\"}} 1 @{Ms}"], Series(Translate(Request([], Gauge("g", "", p)))));
    }

    [Fact]
    public void A_point_flagged_without_a_recorded_value_is_a_staleness_marker()
    {
        var gauge = Number(5);
        gauge.Flags = 1;
        var hp = new HistogramDataPoint { TimeUnixNano = T, Count = 1, Sum = 1, Flags = 1 };
        var h = new Metric { Name = "h", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        h.Histogram.DataPoints.Add(hp);
        var t = Translate(Request([], Gauge("g", "", gauge), h));
        Assert.Equal([$"g{{}} stale @{Ms}", $"h_bucket{{le=\"+Inf\"}} stale @{Ms}", $"h_count{{}} stale @{Ms}", $"h_sum{{}} stale @{Ms}"], Series(t));
    }

    [Fact]
    public void A_point_without_a_time_or_a_value_is_refused()
    {
        var noValue = new NumberDataPoint { TimeUnixNano = T };
        var t = Translate(Request([], Gauge("g", "", Number(1, t: 0), noValue, Number(3))));
        Assert.Equal(2, t.RejectedPoints);
        Assert.Contains("has no time_unix_nano", t.FirstRejection);
        Assert.Equal([$"g{{}} 3 @{Ms}"], Series(t));
    }

    [Fact]
    public void Strategies_that_keep_names_refuse_the_names_this_storage_cannot_hold_and_keep_valid_ones()
    {
        var options = new OtlpOptions { TranslationStrategy = OtlpTranslationStrategy.NoTranslation };
        var t = Translate(Request([], Gauge("http.requests", "", Number(1)), Gauge("http_requests", "", Number(2, T, Attr("ok_key", "v")))), options);
        Assert.Equal(1, t.RejectedPoints);
        Assert.Contains("--otlp.translation-strategy=NoTranslation", t.FirstRejection);
        Assert.Equal([$"http_requests{{ok_key=\"v\"}} 2 @{Ms}"], Series(t));

        var dotted = Translate(Request([], Gauge("g", "", Number(1, T, Attr("http.method", "GET")))), options);
        Assert.Equal(1, dotted.RejectedPoints);
        Assert.Contains("\"http.method\"", dotted.FirstRejection);
    }

    [Fact]
    public void Under_the_utf8_name_scheme_strategies_that_keep_names_store_them_as_sent()
    {
        var options = new OtlpOptions { TranslationStrategy = OtlpTranslationStrategy.NoTranslation, Utf8Names = true };
        var t = Translate(Request([Attr("service.name", "checkout")], Gauge("http.requests", "", Number(1, T, Attr("http.method", "GET")))), options);
        Assert.Equal(0, t.RejectedPoints);
        Assert.Equal([$"http.requests{{http.method=\"GET\", job=\"checkout\"}} 1 @{Ms}"], Series(t));
    }

    [Fact]
    public void Translation_stops_once_the_result_outgrows_the_per_request_limits()
    {
        var p = new HistogramDataPoint { TimeUnixNano = T, Count = 1000 };
        p.ExplicitBounds.Add(Enumerable.Range(1, 999).Select(i => (double)i));
        p.BucketCounts.Add(Enumerable.Repeat(1UL, 1000));
        var m = new Metric { Name = "wide", Histogram = new Histogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        m.Histogram.DataPoints.Add([p, p.Clone()]);
        var t = OtlpTranslator.Translate(Request([], m), new OtlpOptions(), new RequestShapeLimits { MaxSamplesPerRequest = 10 });
        Assert.True(t.OverLimit);
        Assert.Equal(13, t.Request.Timeseries.Count); // 11 buckets reach the limit; the point ends with +Inf and _count
        Assert.False(OtlpTranslator.Translate(Request([], m), new OtlpOptions(), new RequestShapeLimits()).OverLimit);
    }
}
