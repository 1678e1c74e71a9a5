using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Globalization;
using Amphora.EndToEnd.Tests.Harness;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Xunit;

namespace Amphora.EndToEnd.Tests.Otlp;

/// <summary>
/// The OpenTelemetry .NET SDK with its OTLP exporter (<c>OpenTelemetry.Exporter.OpenTelemetryProtocol</c>, HTTP/protobuf)
/// records the same instruments as the JS sender; the query API answers with the same Prometheus 3 translation
/// (<see cref="OtlpSenderTests.Expected"/>).
/// </summary>
public sealed class OtlpDotnetSdkTests(OtlpAmphoraFixture amphora) : IClassFixture<OtlpAmphoraFixture>
{
    private const string Workspace = "otlp-e2e-dotnet";

    [Fact]
    public async Task The_opentelemetry_dotnet_exporter_is_stored_as_prometheus_3_translates_it()
    {
        const string prefix = "e2e.dotnet";
        using var meter = new Meter("amphora-e2e-" + Guid.NewGuid().ToString("N"));
        using (var provider = Sdk.CreateMeterProviderBuilder()
                   .SetResourceBuilder(ResourceBuilder.CreateEmpty()
                       .AddService("cart", "shop", autoGenerateServiceInstanceId: false, serviceInstanceId: "cart-1")
                       .AddAttributes([new("deployment.environment", "e2e"), new("host.name", "node-7")]))
                   .AddMeter(meter.Name)
                   .AddView($"{prefix}.duration", new ExplicitBucketHistogramConfiguration { Boundaries = [0.1, 1] })
                   .AddOtlpExporter((exporter, reader) =>
                   {
                       exporter.Endpoint = new Uri(amphora.Process.BaseAddress, "/otlp/v1/metrics");
                       exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                       exporter.Headers = "X-Scope-OrgID=" + Workspace;
                       reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
                       reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
                   })
                   .Build())
        {
            meter.CreateCounter<long>($"{prefix}.requests", "{request}", "Requests served").Add(5, new KeyValuePair<string, object?>("http.route", "/cart"));
            var queue = meter.CreateUpDownCounter<long>($"{prefix}.queue.size", "{item}");
            queue.Add(3);
            queue.Add(-1);
            meter.CreateGauge<double>($"{prefix}.temperature", "Cel").Record(21.5, new KeyValuePair<string, object?>("room", "a"));
            meter.CreateObservableGauge($"{prefix}.cpu.utilization", () => 0.25, "1");
            var duration = meter.CreateHistogram<double>($"{prefix}.duration", "s");
            foreach (double v in new[] { 0.05, 0.5, 2 }) duration.Record(v);
            Assert.True(provider.ForceFlush(30_000), "the OTLP exporter's flush failed");
        }

        const string p = "e2e_dotnet";
        var expected = OtlpSenderTests.Expected.Select(e => OtlpSenderTests.WithIdentity(e.Series.Replace("P_", p + "_")) + " " + e.Value)
            .Order(StringComparer.Ordinal);
        Assert.Equal(expected, await OtlpSender.QueryAsync(amphora.Process.BaseAddress, Workspace, $"{{__name__=~\"{p}_.*\"}}"));
        Assert.Contains("target_info{deployment_environment=\"e2e\", host_name=\"node-7\", instance=\"cart-1\", job=\"shop/cart\"} 1",
            await OtlpSender.QueryAsync(amphora.Process.BaseAddress, Workspace, "target_info"));
    }

    [Fact]
    public async Task Exponential_histograms_are_native_histograms_and_exemplars_carry_the_trace_they_were_recorded_in()
    {
        const string workspace = Workspace + "-native";
        using var meter = new Meter("amphora-e2e-" + Guid.NewGuid().ToString("N"));
        using var source = new ActivitySource("amphora-e2e-" + Guid.NewGuid().ToString("N"));
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name == source.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
        };
        ActivitySource.AddActivityListener(listener);
        // The SDK starts exponential histograms at scale 20 and lowers the scale only as far as their range needs: the wide one
        // ends below 8 (stored as sent), the narrow one above (reduced to 8 by merging buckets).
        double[] wide = [0.003, 0.02, 0.5, 1.5, 7], narrow = [1.0, 1.001, 1.002];
        ActivityTraceId trace;
        using (var provider = Sdk.CreateMeterProviderBuilder()
                   .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("cart", autoGenerateServiceInstanceId: false, serviceInstanceId: "cart-1"))
                   .AddMeter(meter.Name)
                   .AddView("rpc.*", new Base2ExponentialBucketHistogramConfiguration())
                   .SetExemplarFilter(ExemplarFilterType.AlwaysOn)
                   .AddOtlpExporter((exporter, reader) =>
                   {
                       exporter.Endpoint = new Uri(amphora.Process.BaseAddress, $"/workspaces/{workspace}/api/v1/otlp/v1/metrics");
                       exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                       reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
                       reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
                   })
                   .Build())
        {
            var wideHistogram = meter.CreateHistogram<double>("rpc.wide", "s");
            var narrowHistogram = meter.CreateHistogram<double>("rpc.narrow", "s");
            var orders = meter.CreateCounter<long>("orders", "{order}");
            using (var activity = source.StartActivity("checkout"))
            {
                Assert.NotNull(activity);
                trace = activity.TraceId;
                foreach (double v in wide) wideHistogram.Record(v);
                foreach (double v in narrow) narrowHistogram.Record(v);
                orders.Add(2);
            }
            Assert.True(provider.ForceFlush(30_000), "the OTLP exporter's flush failed");
        }

        const string identity = "{instance=\"cart-1\", job=\"cart\"}";
        using var api = new PromApiClient(amphora.Process.BaseAddress, "/prometheus/api/v1", workspace);
        foreach (var (name, values) in new[] { ("rpc_wide_seconds", wide), ("rpc_narrow_seconds", narrow) })
        {
            Assert.Equal([$"{identity} {values.Length}"], await OtlpSender.QueryAsync(amphora.Process.BaseAddress, workspace, $"histogram_count({name})"));
            var sum = await OtlpSender.QueryAsync(amphora.Process.BaseAddress, workspace, $"histogram_sum({name})");
            Assert.Equal(values.Sum(), double.Parse(Assert.Single(sum).Split(' ')[^1], CultureInfo.InvariantCulture), 9);

            var raw = await api.QueryAsync(name);
            Assert.True(raw.Status == System.Net.HttpStatusCode.OK, raw.Body);
            var buckets = raw.Json.GetProperty("data").GetProperty("result")[0].GetProperty("histogram")[1].GetProperty("buckets").EnumerateArray()
                .Select(b => (Lower: double.Parse(b[1].GetString()!, CultureInfo.InvariantCulture), Upper: double.Parse(b[2].GetString()!, CultureInfo.InvariantCulture),
                    Count: double.Parse(b[3].GetString()!, CultureInfo.InvariantCulture)))
                .ToList();
            // Every observation is in one bucket, and the buckets hold them all.
            Assert.Equal(values.Length, buckets.Sum(b => b.Count));
            foreach (double v in values) Assert.Single(buckets, b => b.Lower < v && v <= b.Upper);
            // The median (an odd number of observations, so there is one middle) is estimated inside the bucket that holds it.
            var median = await OtlpSender.QueryAsync(amphora.Process.BaseAddress, workspace, $"histogram_quantile(0.5, {name})");
            double estimate = double.Parse(Assert.Single(median).Split(' ')[^1], CultureInfo.InvariantCulture);
            double middle = values.Order().ElementAt((values.Length - 1) / 2);
            var holding = buckets.Single(b => b.Lower < middle && middle <= b.Upper);
            Assert.InRange(estimate, holding.Lower, holding.Upper);
            // The narrow one came at a scale above 8 and was reduced to schema 8: its buckets are 2^(1/256) wide.
            if (name == "rpc_narrow_seconds")
                foreach (var b in buckets) Assert.Equal(Math.Pow(2, 1.0 / 256), b.Upper / b.Lower, 9);
        }

        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var exemplars = await api.GetAsync("query_exemplars", [("query", "orders_total"), ("start", PromApiClient.FormatTime(now - 600_000)),
            ("end", PromApiClient.FormatTime(now + 60_000))]);
        Assert.True(exemplars.Status == System.Net.HttpStatusCode.OK, exemplars.Body);
        Assert.Contains($"\"trace_id\":\"{trace.ToHexString()}\"", exemplars.Body);
        Assert.Contains("\"value\":\"2\"", exemplars.Body);
        var histogramExemplars = await api.GetAsync("query_exemplars", [("query", "rpc_wide_seconds"), ("start", PromApiClient.FormatTime(now - 600_000)),
            ("end", PromApiClient.FormatTime(now + 60_000))]);
        Assert.Contains($"\"trace_id\":\"{trace.ToHexString()}\"", histogramExemplars.Body);
    }

    [Fact]
    public async Task Under_the_utf8_name_scheme_untranslated_names_are_stored_as_sent_and_queried_quoted()
    {
        using var utf8 = AmphoraProcess.Start(null, null, "--validation.name-validation-scheme=utf8", "--otlp.translation-strategy=NoTranslation");
        await utf8.WaitReadyAsync();
        using var meter = new Meter("amphora-e2e-" + Guid.NewGuid().ToString("N"));
        using (var provider = Sdk.CreateMeterProviderBuilder()
                   .SetResourceBuilder(ResourceBuilder.CreateEmpty().AddService("cart", autoGenerateServiceInstanceId: false, serviceInstanceId: "cart-1"))
                   .AddMeter(meter.Name)
                   .AddOtlpExporter((exporter, reader) =>
                   {
                       exporter.Endpoint = new Uri(utf8.BaseAddress, "/otlp/v1/metrics");
                       exporter.Protocol = OtlpExportProtocol.HttpProtobuf;
                       exporter.Headers = "X-Scope-OrgID=utf8-names";
                       reader.TemporalityPreference = MetricReaderTemporalityPreference.Cumulative;
                       reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = 3_600_000;
                   })
                   .Build())
        {
            meter.CreateCounter<long>("e2e.utf8.requests", "{request}").Add(4, new KeyValuePair<string, object?>("http.route", "/cart"));
            Assert.True(provider.ForceFlush(30_000), "the OTLP exporter's flush failed");
        }
        Assert.Equal(["e2e.utf8.requests{http.route=\"/cart\", instance=\"cart-1\", job=\"cart\"} 4"],
            await OtlpSender.QueryAsync(utf8.BaseAddress, "utf8-names", "{\"e2e.utf8.requests\", \"http.route\"=\"/cart\"}"));
        await utf8.TerminateAsync(TimeSpan.FromSeconds(20));
    }
}
