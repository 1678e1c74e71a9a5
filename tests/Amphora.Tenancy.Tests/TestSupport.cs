using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Amphora.Bucket;
using Amphora.Tenancy.Audit;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.ControlPlane;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.State;
using Amphora.Tenancy.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.Tests;

/// <summary>A temporary directory removed at the end of the test.</summary>
public sealed class TempDir : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "amphora-tenancy-" + Guid.NewGuid().ToString("N"));
    public TempDir() => Directory.CreateDirectory(Path);
    public string File(string name) => System.IO.Path.Combine(Path, name);
    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
    }
}

/// <summary>A clock the test moves by hand.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;
    public override DateTimeOffset GetUtcNow() => _now;
    public override long GetTimestamp() => _now.UtcTicks;
    public override long TimestampFrequency => TimeSpan.TicksPerSecond;
    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>Registry, key store and audit log over a temporary data directory and a filesystem bucket inside it. The store
/// is not started: the fixture's own changes are in its snapshot at once, which is what these tests read.</summary>
public sealed class TenancyFixture : IDisposable
{
    public TempDir Dir { get; } = new();
    public TenancyOptions Options { get; }
    public TenancyStore Store { get; }
    public WorkspaceRegistry Registry { get; }
    public KeyStore Keys { get; }
    public Amphora.Tenancy.Rules.RulesRegistry Rules { get; }
    public MasterKey Master { get; }
    public string AuditPath => Dir.File("audit.log");
    public AuditLog Audit { get; }

    public TenancyFixture(Action<TenancyOptions>? configure = null, IWorkspaceLifecycleHooks? hooks = null)
    {
        Options = new TenancyOptions { DataDir = Dir.Path, AuditLogFile = Dir.File("audit.log") };
        configure?.Invoke(Options);
        Master = MasterKey.Load(Options.ResolvedMasterKeyFile, createIfMissing: true);
        Store = NewStore();
        Registry = new WorkspaceRegistry(Options, Store, hooks, completesDeletion: Options.CompletesDeletion);
        Keys = new KeyStore(Options, Store, Master);
        Rules = new Amphora.Tenancy.Rules.RulesRegistry(Options, Store);
        Audit = new AuditLog(Options.AuditLogFile);
    }

    /// <summary>Another component's store over the same bucket (its cache in a directory of its own).</summary>
    public TenancyStore NewStore(string component = "component")
    {
        string dir = Dir.File(component);
        Directory.CreateDirectory(dir);
        return new TenancyStore(new FilesystemBucket(Dir.File("bucket")), Dir.File("bucket"), dir, Options.SyncInterval);
    }

    public async Task<string[]> AuditLinesAsync()
    {
        await Audit.FlushAsync();
        using var fs = new FileStream(AuditPath, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        using var reader = new StreamReader(fs);
        return reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    public void Dispose()
    {
        Audit.Dispose();
        Master.Dispose();
        Dir.Dispose();
    }
}

/// <summary>
/// A real Kestrel server on 127.0.0.1, port 0, with the auth middleware, the control plane, and stand-in data-plane endpoints
/// that store and return labels per workspace (so tests can check that nothing crosses workspaces).
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;
    public Uri BaseAddress { get; }
    public HttpClient Client { get; }
    public Authenticator Authenticator { get; }
    private readonly Dictionary<string, List<string>> _written;

    private TestServer(WebApplication app, Uri baseAddress, Authenticator authenticator, Dictionary<string, List<string>> written)
    {
        _app = app;
        _written = written;
        BaseAddress = baseAddress;
        Authenticator = authenticator;
        Client = new HttpClient { BaseAddress = baseAddress };
    }

    public static async Task<TestServer> StartAsync(TenancyFixture f, TimeProvider? time = null, Func<HttpContext, int>? remoteWriteStatus = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var authenticator = new Authenticator(f.Keys, f.Options, time);
        app.UseAmphoraAuth(authenticator, f.Audit, f.Options, f.Registry, time);
        app.MapControlPlane(f.Registry, f.Keys, f.Rules, f.Audit, time, new NoUsage());
        var written = new Dictionary<string, List<string>>();
        async Task<IResult> Write(HttpContext ctx, string ws)
        {
            using var reader = new StreamReader(ctx.Request.Body);
            string body = await reader.ReadToEndAsync();
            int status = remoteWriteStatus?.Invoke(ctx) ?? 204;
            if (status == 204)
                lock (written) { if (!written.TryGetValue(ws, out var l)) written[ws] = l = []; l.Add(body); }
            return Results.StatusCode(status);
        }
        IResult Read(string ws)
        {
            lock (written) return Results.Json(new { status = "success", data = written.GetValueOrDefault(ws) ?? [] });
        }
        app.MapPost("/workspaces/{ws}/api/v1/remote_write", (HttpContext ctx, string ws) => Write(ctx, ws));
        app.MapPost("/api/v1/push", (Func<HttpContext, Task<IResult>>)(ctx => Write(ctx, ctx.Request.Headers["X-Scope-OrgID"].ToString())));
        app.MapPost("/workspaces/{ws}/api/v1/otlp/v1/metrics", (HttpContext ctx, string ws) => Write(ctx, ws));
        app.MapPost("/otlp/v1/metrics", (Func<HttpContext, Task<IResult>>)(ctx => Write(ctx, ctx.Request.Headers["X-Scope-OrgID"].ToString())));
        foreach (var p in new[] { "query", "query_range", "series", "labels", "label/{name}/values", "metadata", "status/tsdb",
            "cardinality/label_names", "cardinality/label_values" })
        {
            app.MapGet("/workspaces/{ws}/api/v1/" + p, (string ws) => Read(ws));
            app.MapGet("/prometheus/api/v1/" + p, (Func<HttpContext, IResult>)(ctx => Read(ctx.Request.Headers["X-Scope-OrgID"].ToString())));
        }
        app.MapGet("/ready", () => "ready");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new TestServer(app, new Uri(address), authenticator, written);
    }

    public IReadOnlyList<string> WrittenTo(string ws)
    {
        lock (_written) return _written.TryGetValue(ws, out var l) ? [.. l] : [];
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public static class Http
{
    public static AuthenticationHeaderValue Basic(string id, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(id + ":" + secret)));

    public static AuthenticationHeaderValue Bearer(string id, string secret) => new("Bearer", id + ":" + secret);

    public static HttpRequestMessage Request(HttpMethod method, string path, AuthenticationHeaderValue? auth, string? json = null)
    {
        var req = new HttpRequestMessage(method, path);
        if (auth is not null) req.Headers.Authorization = auth;
        if (json is not null) req.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return req;
    }
}

/// <summary>Usage figures of a workspace that saw nothing (the access tests check who may read them, not the figures).</summary>
internal sealed class NoUsage : Amphora.Tenancy.ControlPlane.IWorkspaceUsageSource
{
    public Task<Amphora.Tenancy.ControlPlane.WorkspaceUsage> UsageAsync(string workspace, CancellationToken ct) =>
        Task.FromResult(new Amphora.Tenancy.ControlPlane.WorkspaceUsage(0, new Dictionary<string, long>(), 0, 10_000_000, 0, null, "service"));
}

/// <summary>
/// The synchronous forms the tests were written against: each waits for the asynchronous change (the library never blocks
/// on a task; its awaits do not capture a context, so waiting here cannot deadlock).
/// </summary>
internal static class SyncChanges
{
    public static CreatedAccessKey Create(this KeyStore keys, string? workspaceId, IReadOnlyList<string>? actions, string? description = null) =>
        keys.CreateAsync(workspaceId, actions, description).GetAwaiter().GetResult();
    public static AccessKeyInfo SetEnabled(this KeyStore keys, string accessKeyId, bool enabled) =>
        keys.SetEnabledAsync(accessKeyId, enabled).GetAwaiter().GetResult();
    public static void Delete(this KeyStore keys, string accessKeyId) => keys.DeleteAsync(accessKeyId).GetAwaiter().GetResult();
    public static WorkspaceConfiguration UpdateConfiguration(this WorkspaceRegistry registry, string workspaceId, int? retentionPeriodInDays,
        IReadOnlyList<LimitsPerLabelSet>? limitsPerLabelSet, long? outOfOrderTimeWindowInSeconds) =>
        registry.UpdateConfigurationAsync(workspaceId, retentionPeriodInDays, limitsPerLabelSet, outOfOrderTimeWindowInSeconds).GetAwaiter().GetResult();
    public static WorkspaceRecord BeginDelete(this WorkspaceRegistry registry, string workspaceId) =>
        registry.BeginDeleteAsync(workspaceId).GetAwaiter().GetResult();
    public static void UpdateAlias(this WorkspaceRegistry registry, string workspaceId, string? alias) =>
        registry.UpdateAliasAsync(workspaceId, alias).GetAwaiter().GetResult();
    public static void TagResource(this WorkspaceRegistry registry, string arn, IReadOnlyDictionary<string, string> tags) =>
        registry.TagResourceAsync(arn, tags).GetAwaiter().GetResult();
    public static void UntagResource(this WorkspaceRegistry registry, string arn, IReadOnlyCollection<string> tagKeys) =>
        registry.UntagResourceAsync(arn, tagKeys).GetAwaiter().GetResult();
}
