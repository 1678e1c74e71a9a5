using System.Diagnostics.Metrics;
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
}
