using System.Net;
using System.Net.Sockets;
using Amphora.Cluster;
using Amphora.Cluster.Security;
using Amphora.Ingester.Grpc;
using Amphora.Ingester.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Protocol = Amphora.Cluster.Protocol;

namespace Amphora.Ingester.Tests.Grpc;

/// <summary>
/// An ingester's gRPC server as the process hosts it: a real <see cref="IngesterService"/> over a temp folder, served by
/// Grpc.AspNetCore on a Kestrel HTTP/2 listener on a free loopback port (h2c, or TLS), behind the cluster's call guard.
/// </summary>
public sealed class IngesterGrpcServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly IngesterService _ingester;
    private readonly string _dir;

    private IngesterGrpcServer(WebApplication app, IngesterService ingester, string dir, int port, bool tls)
    {
        _app = app;
        _ingester = ingester;
        _dir = dir;
        Port = port;
        HostPort = $"127.0.0.1:{port}";
        Address = new Uri($"{(tls ? "https" : "http")}://{HostPort}");
    }

    public int Port { get; }
    public string HostPort { get; }
    public Uri Address { get; }

    /// <summary>The state the ingester reports (and its health follows); ACTIVE unless a test changes it.</summary>
    public Protocol.InstanceState State { get; set; } = Protocol.InstanceState.Active;

    public static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    /// <param name="guardPort">The port the guard admits calls on; the listener's own unless a test says otherwise.</param>
    /// <param name="openStorage">False leaves the storage unopened, so every read fails as an ingester still replaying would.</param>
    public static async Task<IngesterGrpcServer> StartAsync(ClusterSecret? secret = null, HttpsConnectionAdapterOptions? tls = null,
        bool requireClientCertificate = false, int? guardPort = null, bool openStorage = true)
    {
        string dir = Path.Combine(Path.GetTempPath(), "amphora-grpc-" + Guid.NewGuid().ToString("N"));
        var ingester = new IngesterService(dir, new TsdbOptions { CutInterval = TimeSpan.Zero, Fsync = Amphora.Tsdb.Wal.FsyncPolicy.Never },
            NullLogger<IngesterService>.Instance);
        if (openStorage) await ingester.StartAsync(CancellationToken.None);
        int port = FreePort();
        IngesterGrpcServer? server = null;
        var backend = new IngesterBackend("ingester-0", ingester, ingester, ingester, () => server!.State);
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.Listen(IPAddress.Loopback, port, l =>
        {
            l.Protocols = HttpProtocols.Http2;
            if (tls is not null) l.UseHttps(tls);
        }));
        builder.Services.AddIngesterGrpc(_ => backend);
        var app = builder.Build();
        app.MapIngesterGrpc(new ClusterCallGuard(guardPort ?? port, secret, requireClientCertificate));
        await app.StartAsync();
        server = new IngesterGrpcServer(app, ingester, dir, port, tls is not null);
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        await _ingester.StopAsync(CancellationToken.None);
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
