using System.Net;
using Amphora.Rpc.Health;
using Amphora.Rpc.Tests.Echo;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Logging;

namespace Amphora.Rpc.Tests;

/// <summary>The echo service on Amphora's gRPC server: Kestrel, h2c, a free loopback port.</summary>
public sealed class EchoServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private EchoServer(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    public static async Task<EchoServer> StartAsync(int maxReceive = GrpcWire.DefaultMaxMessageSize,
        System.Security.Cryptography.X509Certificates.X509Certificate2? tls = null, Security.IGrpcCallGuard? guard = null,
        Microsoft.AspNetCore.Server.Kestrel.Https.HttpsConnectionAdapterOptions? tlsOptions = null, int port = 0)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (tls is not null) l.UseHttps(tls);
            else if (tlsOptions is not null) l.UseHttps(tlsOptions);
        }));
        var app = builder.Build();
        var options = new GrpcServerOptions { MaxReceiveMessageSize = maxReceive, Guard = guard };
        app.MapGrpcUnary("/amphora.test.Echo/Say", EchoRequest.Parser,
            (r, _) => Task.FromResult(new EchoReply { Text = "amphora:" + r.Text }), options);
        app.MapGrpcServerStreaming<CountRequest, EchoReply>("/amphora.test.Echo/Count", CountRequest.Parser, async (r, writer, call) =>
        {
            for (int i = 0; i < r.N; i++)
            {
                if (r.DelayMs > 0) await Task.Delay(r.DelayMs, call.CancellationToken);
                await writer.WriteAsync(new EchoReply { Text = "n" + i, Index = i });
            }
        }, options);
        app.MapGrpcUnary<EchoRequest, EchoReply>("/amphora.test.Echo/Fail", EchoRequest.Parser,
            (r, _) => throw new RpcException(StatusCode.FailedPrecondition, "refused: " + r.Text), options);
        app.MapGrpcUnary("/amphora.test.Echo/Sleep", SleepRequest.Parser, async (r, call) =>
        {
            await Task.Delay(r.Ms, call.CancellationToken);
            return new EchoReply { Text = "slept" };
        }, options);
        app.MapGrpcHealth(service => service is "" or "amphora.test.Echo"
            ? HealthCheckResponse.Types.ServingStatus.Serving
            : HealthCheckResponse.Types.ServingStatus.ServiceUnknown);
        app.MapGrpcFallback();
        await app.StartAsync();
        var address = app.Urls.First();
        return new EchoServer(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
