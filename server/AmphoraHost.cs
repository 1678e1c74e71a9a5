using Amphora.Ingester.Grpc;
using Amphora.Metrics;
using Amphora.Services;
using Amphora.Server.Config;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Amphora.Server;

/// <summary>Builds the web host for one process: Kestrel on --listen, logging, the modules of the target, and the routes they serve.</summary>
public static partial class AmphoraHost
{
    public static async Task<int> RunAsync(AmphoraConfig config, CancellationToken ct = default)
    {
        var app = Build(config);
        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("amphora");
        LogStarting(log, BuildInfo.Line, config.Target, config.Listen, config.DataDir);
        try
        {
            await app.RunAsync(ct);
            return 0;
        }
        catch (System.Net.Sockets.SocketException e)
        {
            // A listener that cannot be bound (an address of no interface here, a family the host lacks) is a start-up error
            // naming the address, never an unhandled exception (which aborts the process).
            string which = config.Target == "ingester" ? $"--listen={config.Listen} or --grpc.listen={config.GrpcListen}" : $"--listen={config.Listen}";
            Console.Error.WriteLine($"amphora: cannot listen on {(config.Target == "ingester" ? which : config.Listen)}: {e.Message} (check {which})");
            return 1;
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or Microsoft.AspNetCore.Connections.AddressInUseException)
        {
            log.LogCritical(e, "amphora stopped: {Reason}", e.Message);
            return 1;
        }
    }

    public static WebApplication Build(AmphoraConfig config)
    {
        var builder = WebApplication.CreateSlimBuilder();
        ListenAddress.TryParse(config.Listen, out var endpoint, out _);
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(endpoint, l =>
            {
                // HTTP/2 needs TLS's protocol negotiation here; without TLS the listener serves HTTP/1.1 only (saying so
                // avoids Kestrel's start-up warning that it disabled HTTP/2).
                l.Protocols = config.TlsCertFile is null ? HttpProtocols.Http1 : HttpProtocols.Http1AndHttp2;
                if (config.TlsCertFile is not null)
                    l.UseHttps(System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(config.TlsCertFile, config.TlsKeyFile));
            });
            if (config.Target == "ingester")
            {
                // gRPC between components: HTTP/2 without TLS (h2c) on its own port.
                ListenAddress.TryParse(config.GrpcListen, out var grpc, out _);
                k.Listen(grpc, l =>
                {
                    l.Protocols = HttpProtocols.Http2;
                    if (config.GrpcTlsCertFile is not null) l.UseHttps(GrpcTls(config));
                });
            }
            k.Limits.MaxRequestBodySize = null;
            k.AddServerHeader = false;
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = config.ShutdownTimeout);
        ConfigureLogging(builder.Logging, config);
        ConfigureTracing(builder.Services, config);

        var exporter = new MetricsExporter(workspaceLabel: config.MetricsPerWorkspace);
        builder.Services.AddSingleton(exporter);
        builder.Services.AddSingleton(sp => Modules.Create(config, sp));
        if (config.Target == "ingester")
            builder.Services.AddIngesterGrpc(sp => sp.GetRequiredService<Modules>().IngesterBackend
                ?? throw new InvalidOperationException("the ingester module has no gRPC backend"));
        builder.Services.AddHostedService(sp => new ModuleHost(sp.GetRequiredService<Modules>(), sp.GetRequiredService<ILogger<ModuleHost>>()));

        var app = builder.Build();
        var modules = app.Services.GetRequiredService<Modules>();
        var http = new HttpMetricsMiddleware();
        app.Use(http.InvokeAsync);
        app.UseFamilyErrorBodies();
        app.MapGet("/ready", (HttpContext ctx) => modules.IsReady
            ? Results.Text("ready\n")
            : Results.Text("not ready: " + modules.NotReadyReason + "\n", statusCode: 503));
        app.MapGet("/metrics", () => Results.Text(exporter.Scrape(), "text/plain; version=0.0.4; charset=utf-8"));
        modules.MapRoutes(app);
        return app;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Build} starting: target {Target}, listening on {Listen}, data in {DataDir}")]
    private static partial void LogStarting(ILogger logger, string build, string target, string listen, string dataDir);
}
