using System.Net;
using Amphora.Storage;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Distributor.Tests;

/// <summary>An ingester stand-in that records what the distributor pushed, completing synchronously.</summary>
public sealed class RecordingPush : IIngesterPush
{
    public List<ValidSeries> Series { get; } = [];
    public int Pushes { get; private set; }
    /// <summary>Whether it stands in for storage that keeps native histograms (the single process's) or for the cluster's.</summary>
    public bool StoresHistograms { get; init; }

    public Task<PushOutcome> PushAsync(string workspace, IReadOnlyList<ValidSeries> series, IReadOnlyList<MetricMetadata> metadata,
        CancellationToken ct)
    {
        Pushes++;
        Series.AddRange(series);
        return Task.FromResult(new PushOutcome { Accepted = series.Sum(s => (long)s.Timestamps.Length + s.Histograms.Length) });
    }
}

public static class Distributors
{
    public static DistributorService Create(IIngesterPush push, DistributorOptions? options = null) =>
        new(push, options ?? new DistributorOptions(), NullLogger<DistributorService>.Instance);

    public static byte[] Snappy(byte[] message) => IronSnappy.Snappy.Encode(message);
}

/// <summary>A temporary directory removed at the end of the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "amphora-distributor-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A Kestrel app on a free loopback port serving the routes a test maps, and a client for it.</summary>
public sealed class TestEndpoint : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestEndpoint(WebApplication app, HttpClient http)
    {
        _app = app;
        Http = http;
    }

    public HttpClient Http { get; }

    public static async Task<TestEndpoint> StartAsync(Action<WebApplication> map)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        map(app);
        await app.StartAsync();
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestEndpoint(app, new HttpClient { BaseAddress = new Uri(address) });
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.DisposeAsync();
    }
}
