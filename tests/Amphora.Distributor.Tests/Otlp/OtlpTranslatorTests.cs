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

    [Fact]
    public void An_exponential_histogram_is_refused_until_native_histograms_exist()
    {
        var m = new Metric { Name = "latency", ExponentialHistogram = new ExponentialHistogram { AggregationTemporality = AggregationTemporality.Cumulative } };
        m.ExponentialHistogram.DataPoints.Add(new ExponentialHistogramDataPoint { TimeUnixNano = T, Count = 3 });
        var t = Translate(Request([], m));
        Assert.Equal(1, t.RejectedPoints);
        Assert.StartsWith(OtlpTranslator.ExponentialId + ": metric \"latency\" is an exponential histogram", t.FirstRejection);
        Assert.Contains("explicit_bucket_histogram", t.FirstRejection);
        Assert.Empty(t.Request.Timeseries);
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
