using Amphora.Server.Config;
using OpenTelemetry.Exporter;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Amphora.Server;

public static partial class AmphoraHost
{
    /// <summary>
    /// With <c>--tracing.otlp-endpoint</c>: a span for every HTTP request served (remote write, queries, the control plane,
    /// and the ingesters' gRPC calls, which are HTTP/2 requests) and for every outgoing call (distributor and querier to the
    /// ingesters, the bucket), linked across processes by the W3C <c>traceparent</c> header that .NET's HTTP client sends
    /// and ASP.NET Core reads; exported as OTLP/HTTP protobuf in batches. Off, nothing is registered and nothing is paid.
    /// </summary>
    private static void ConfigureTracing(IServiceCollection services, AmphoraConfig config)
    {
        if (config.TracingOtlpEndpoint is not { } endpoint) return;
        var traces = new Uri(endpoint.TrimEnd('/') + "/v1/traces");
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService("amphora", serviceInstanceId: $"{config.Target}/{config.InstanceName}")
                .AddAttributes([new KeyValuePair<string, object>("amphora.target", config.Target)]))
            .WithTracing(t => t
                // A trace starts at a request served; background work (ring polls, bucket syncs) starts none.
                .SetSampler(new ParentBasedSampler(new ServedRequestsSampler()))
                .AddAspNetCoreInstrumentation(o => o.Filter = ctx => ctx.Request.Path != "/ready" && ctx.Request.Path != "/metrics")
                .AddHttpClientInstrumentation()
                .AddOtlpExporter(o =>
                {
                    o.Endpoint = traces;
                    o.Protocol = OtlpExportProtocol.HttpProtobuf;
                    o.BatchExportProcessorOptions.ScheduledDelayMilliseconds = 1000;
                }));
    }

    /// <summary>Samples every root span of a request served (server kind) and no other root span.</summary>
    private sealed class ServedRequestsSampler : Sampler
    {
        public override SamplingResult ShouldSample(in SamplingParameters samplingParameters) =>
            new(samplingParameters.Kind == System.Diagnostics.ActivityKind.Server ? SamplingDecision.RecordAndSample : SamplingDecision.Drop);
    }
}
