using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Otlp;

/// <summary>An amphora that promotes <c>deployment.environment</c> from OTLP resources to labels.</summary>
public sealed class OtlpAmphoraFixture : IAsyncLifetime
{
    public AmphoraProcess Process { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Process = AmphoraProcess.Start(extraArgs: "--otlp.promote-resource-attributes=deployment.environment");
        await Process.WaitReadyAsync();
    }

    public async Task DisposeAsync()
    {
        await Process.TerminateAsync(TimeSpan.FromSeconds(30));
        Process.Dispose();
    }
}

/// <summary>
/// The OpenTelemetry JS SDK's own OTLP/HTTP exporters (protobuf and JSON, from npm) send a counter, an up-down counter, a
/// gauge, a ratio gauge and a histogram to a real amphora; the Prometheus HTTP API then answers with the series Prometheus 3's
/// OTLP translation gives, written down in <see cref="Expected"/> from its documentation.
/// </summary>
public sealed class OtlpSenderTests(OtlpAmphoraFixture amphora) : IClassFixture<OtlpAmphoraFixture>
{
    private const string Workspace = "otlp-e2e";

    /// <summary>
    /// What each instrument of send-metrics.js becomes. OTLP: a monotonic sum of unit <c>{request}</c> (annotation: no unit
    /// word) → <c>_total</c>; a non-monotonic sum → a gauge without suffix; unit <c>Cel</c> → <c>_celsius</c>; a gauge of unit
    /// <c>1</c> → <c>_ratio</c>; unit <c>s</c> → <c>_seconds</c>, and an explicit-bucket histogram → cumulative
    /// <c>_bucket{le}</c> ending with <c>+Inf</c>, <c>_sum</c>, <c>_count</c>; dots in names and attribute keys → <c>_</c>;
    /// <c>service.namespace/service.name</c> → <c>job</c>, <c>service.instance.id</c> → <c>instance</c>, and the promoted
    /// <c>deployment.environment</c> on every series.
    /// </summary>
    internal static readonly (string Series, string Value)[] Expected =
    [
        ("P_requests_total{http_route=\"/cart\"}", "5"),                 // counter, unit {request}, add(5)
        ("P_queue_size{}", "2"),                                         // up-down counter, unit {item}, +3 −1
        ("P_temperature_celsius{room=\"a\"}", "21.5"),                   // gauge, unit Cel
        ("P_cpu_utilization_ratio{}", "0.25"),                           // observable gauge, unit 1
        ("P_duration_seconds_bucket{le=\"0.1\"}", "1"),                  // histogram, unit s, bounds [0.1, 1], 0.05 0.5 2
        ("P_duration_seconds_bucket{le=\"1\"}", "2"),
        ("P_duration_seconds_bucket{le=\"+Inf\"}", "3"),
        ("P_duration_seconds_sum{}", "2.55"),
        ("P_duration_seconds_count{}", "3"),
    ];

    private const string Identity = "deployment_environment=\"e2e\", instance=\"cart-1\", job=\"shop/cart\"";

    [Theory]
    [InlineData("proto", "/otlp/v1/metrics")]
    [InlineData("json", "/workspaces/" + Workspace + "/api/v1/otlp/v1/metrics")]
    public async Task The_opentelemetry_js_exporter_is_stored_as_prometheus_3_translates_it(string protocol, string path)
    {
        string prefix = "e2e." + protocol;
        var (stdout, stderr) = await OtlpSender.SendAsync(amphora.Process.BaseAddress, path, Workspace, protocol, prefix, "cumulative");
        Assert.True(stdout.Contains("exported", StringComparison.Ordinal), stderr);
        Assert.DoesNotContain("Partial Success", stderr);

        string p = "e2e_" + protocol;
        var expected = Expected.Select(e => WithIdentity(e.Series.Replace("P_", p + "_")) + " " + e.Value).Order(StringComparer.Ordinal);
        Assert.Equal(expected, await QueryAsync($"{{__name__=~\"{p}_.*\"}}"));
        // The other resource attributes are in target_info, and join onto the series by job and instance.
        Assert.Contains("target_info{deployment_environment=\"e2e\", host_name=\"node-7\", instance=\"cart-1\", job=\"shop/cart\"} 1",
            await QueryAsync("target_info"));
        Assert.Equal([$"{{deployment_environment=\"e2e\", host_name=\"node-7\", http_route=\"/cart\", instance=\"cart-1\", job=\"shop/cart\"}} 5"],
            await QueryAsync($"{p}_requests_total * on (job, instance) group_left (host_name) target_info"));
    }

    [Fact]
    public async Task Delta_temporality_is_refused_in_a_partial_success_and_the_gauges_are_kept()
    {
        var (stdout, stderr) = await OtlpSender.SendAsync(amphora.Process.BaseAddress, "/otlp/v1/metrics", Workspace, "proto", "e2e.delta", "delta");
        Assert.True(stdout.Contains("exported", StringComparison.Ordinal), stderr);
        // The SDK's delta preference applies to counters and histograms; up-down counters and gauges stay cumulative.
        Assert.Contains("Partial Success", stderr);
        Assert.Contains("\"rejectedDataPoints\":\"2\"", stderr);
        Assert.Contains("err-amphora-otlp-delta-temporality: metric \\\"e2e.delta.requests\\\" is a sum with delta aggregation temporality", stderr);
        Assert.Equal(["e2e_delta_cpu_utilization_ratio", "e2e_delta_queue_size", "e2e_delta_temperature_celsius"],
            (await QueryAsync("{__name__=~\"e2e_delta_.*\"}")).Select(s => s[..s.IndexOf('{')]).Order(StringComparer.Ordinal));

        // Metered as a remote write's refusals are: the workspace's usage counts them by reason.
        using var http = new HttpClient { BaseAddress = amphora.Process.BaseAddress };
        var usage = System.Text.Json.JsonDocument.Parse(await http.GetStringAsync($"/workspaces/{Workspace}/usage")).RootElement;
        Assert.True(usage.GetProperty("samplesDiscardedByReason").GetProperty("err-amphora-otlp-delta-temporality").GetInt64() >= 2, usage.ToString());
    }

    /// <summary>A series with the resource's labels added, in the sorted order the API returns.</summary>
    internal static string WithIdentity(string series)
    {
        int open = series.IndexOf('{');
        var labels = series[(open + 1)..^1].Split(", ", StringSplitOptions.RemoveEmptyEntries).Concat(Identity.Split(", "));
        return series[..open] + "{" + string.Join(", ", labels.Order(StringComparer.Ordinal)) + "}";
    }

    private Task<List<string>> QueryAsync(string query) => OtlpSender.QueryAsync(amphora.Process.BaseAddress, Workspace, query);
}
