using Amphora.Cluster;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace Amphora.Ingester.Grpc;

/// <summary>The ingester's gRPC server on Grpc.AspNetCore: its service, its message limits, its health service and its guard.</summary>
public static class IngesterGrpcHosting
{
    /// <summary>The name the health service reports the ingester's readiness under (and "" for the whole server).</summary>
    public const string HealthServiceName = "amphora.ingester.v1.Ingester";

    /// <summary>Registers the service (built from <paramref name="backend"/> on first use), its limits of
    /// <see cref="IngesterClient.MaxMessageSize"/> bytes per message either way, and a health check that is healthy while the
    /// ingester is ACTIVE in the ring.</summary>
    public static IServiceCollection AddIngesterGrpc(this IServiceCollection services, Func<IServiceProvider, IngesterBackend> backend)
    {
        services.AddGrpc().AddServiceOptions<IngesterGrpcService>(o =>
        {
            o.MaxReceiveMessageSize = IngesterClient.MaxMessageSize;
            o.MaxSendMessageSize = IngesterClient.MaxMessageSize;
            // A failure the service did not map to a status (a storage error) reaches the distributor or querier with its
            // message, which they log and put in their answer: the callers are the cluster's own components.
            o.EnableDetailedErrors = true;
        });
        services.AddSingleton(sp => new IngesterGrpcService(backend(sp)));
        services.AddGrpcHealthChecks(o =>
            {
                o.Services.Map("", _ => true);
                o.Services.Map(HealthServiceName, _ => true);
            })
            .Add(new HealthCheckRegistration("ingester", sp => new ReadyCheck(backend(sp)), HealthStatus.Unhealthy, null));
        return services;
    }

    /// <summary>Maps the service and grpc.health.v1.Health behind <paramref name="guard"/>.</summary>
    public static void MapIngesterGrpc(this WebApplication app, ClusterCallGuard guard)
    {
        app.Use(guard.InvokeAsync);
        app.MapGrpcService<IngesterGrpcService>();
        app.MapGrpcHealthChecksService();
    }

    private sealed class ReadyCheck(IngesterBackend backend) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(backend.Ready() ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy($"ingester {backend.InstanceName} is not ACTIVE"));
    }
}
