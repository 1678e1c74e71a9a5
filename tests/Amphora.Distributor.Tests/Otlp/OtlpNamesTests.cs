using Amphora.Distributor.Otlp;
using Xunit;

namespace Amphora.Distributor.Tests.Otlp;

/// <summary>Names as Prometheus 3's OTLP translation documents them (the default UnderscoreEscapingWithSuffixes strategy).</summary>
public sealed class OtlpNamesTests
{
    private static readonly OtlpOptions Default = new();

    [Theory]
    [InlineData("http.server.request.duration", "s", OtlpMetricKind.Histogram, "http_server_request_duration_seconds")]
    [InlineData("system.memory.usage", "By", OtlpMetricKind.NonMonotonicCounter, "system_memory_usage_bytes")]
    [InlineData("http.server.requests", "{request}", OtlpMetricKind.MonotonicCounter, "http_server_requests_total")]
    [InlineData("network.io", "By/s", OtlpMetricKind.Gauge, "network_io_bytes_per_second")]
    [InlineData("events", "1/s", OtlpMetricKind.Gauge, "events_per_second")]
    [InlineData("cpu.utilization", "1", OtlpMetricKind.Gauge, "cpu_utilization_ratio")]
    [InlineData("queue.fill", "1", OtlpMetricKind.NonMonotonicCounter, "queue_fill")]
    [InlineData("processed", "1", OtlpMetricKind.MonotonicCounter, "processed_total")]
    [InlineData("total.requests", "", OtlpMetricKind.MonotonicCounter, "requests_total")]
    [InlineData("requests_total", "", OtlpMetricKind.MonotonicCounter, "requests_total")]
    [InlineData("latency_seconds", "s", OtlpMetricKind.Gauge, "latency_seconds")]
    [InlineData("uptime", "ms", OtlpMetricKind.MonotonicCounter, "uptime_milliseconds_total")]
    [InlineData("room.temperature", "Cel", OtlpMetricKind.Gauge, "room_temperature_celsius")]
    [InlineData("disk.free", "%", OtlpMetricKind.Gauge, "disk_free_percent")]
    [InlineData("odd", "furlongs/fortnight", OtlpMetricKind.Gauge, "odd_furlongs_per_fortnight")]
    [InlineData("2xx.responses", "", OtlpMetricKind.Gauge, "_2xx_responses")]
    [InlineData("foo__bar..baz", "", OtlpMetricKind.Gauge, "foo_bar_baz")]
    [InlineData("ns:metric.name", "", OtlpMetricKind.Gauge, "ns:metric_name")]
    [InlineData("rpc.duration", "s", OtlpMetricKind.Summary, "rpc_duration_seconds")]
    public void Metric_names_get_escaped_and_unit_and_type_suffixes(string name, string unit, OtlpMetricKind kind, string expected) =>
        Assert.Equal(expected, OtlpNames.MetricName(name, unit, kind, Default));

    [Theory]
    [InlineData(OtlpTranslationStrategy.UnderscoreEscapingWithoutSuffixes, "http.server.duration", "http_server_duration")]
    [InlineData(OtlpTranslationStrategy.NoUTF8EscapingWithSuffixes, "http.server.duration", "http.server.duration_seconds_total")]
    [InlineData(OtlpTranslationStrategy.NoTranslation, "http.server.duration", "http.server.duration")]
    public void Other_strategies_keep_or_only_escape_the_name(OtlpTranslationStrategy strategy, string name, string expected) =>
        Assert.Equal(expected, OtlpNames.MetricName(name, "s", OtlpMetricKind.MonotonicCounter, new OtlpOptions { TranslationStrategy = strategy }));

    [Theory]
    [InlineData("http.method", "http_method")]
    [InlineData("net-peer/name", "net_peer_name")]
    [InlineData("2xx", "key_2xx")]
    [InlineData("_private", "key_private")]
    [InlineData("__reserved", "__reserved")]
    [InlineData("ünit", "key_nit")]
    [InlineData("status_code", "status_code")]
    public void Label_names_are_sanitized(string key, string expected) => Assert.Equal(expected, OtlpNames.LabelName(key, Default));

    [Theory]
    [InlineData(0.005, "0.005")]
    [InlineData(1, "1")]
    [InlineData(2.5, "2.5")]
    [InlineData(1e-7, "0.0000001")]
    [InlineData(1.5e21, "1500000000000000000000")]
    [InlineData(-2.5e-6, "-0.0000025")]
    [InlineData(double.PositiveInfinity, "+Inf")]
    public void Bounds_and_quantiles_are_written_in_positional_notation(double v, string expected) =>
        Assert.Equal(expected, OtlpNames.FormatFloat(v));

    [Theory]
    [InlineData("UnderscoreEscapingWithSuffixes", true)]
    [InlineData("NoTranslation", true)]
    [InlineData("underscoreescapingwithsuffixes", false)]
    [InlineData("1", false)]
    [InlineData("", false)]
    public void Strategy_names_parse_exactly(string text, bool valid) => Assert.Equal(valid, OtlpOptions.ParseStrategy(text) is not null);
}
