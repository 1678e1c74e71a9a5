using Amphora.Bucket;
using Amphora.Services;
using Amphora.Tenancy.State;
using Amphora.Tenancy.Audit;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.ControlPlane;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Limits;
using Amphora.Tenancy.Rules;
using Amphora.Tenancy.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy;

/// <summary>
/// Everything the tenancy layer provides, built from <see cref="TenancyOptions"/>: the registry, the key store, the rule
/// groups namespaces and Alertmanager definitions, the authenticator, the audit log and the per-workspace limits. <see cref="Services"/> lists the lifecycle services (file
/// reloaders) the executable starts and stops with its other components.
/// </summary>
public sealed class TenancyServices : IDisposable
{
    public TenancyOptions Options { get; }
    public MasterKey MasterKey { get; }
    public TenancyStore Store { get; }
    public WorkspaceRegistry Registry { get; }
    public KeyStore Keys { get; }
    public RulesRegistry Rules { get; }
    public Authenticator Authenticator { get; }
    public AuditLog Audit { get; }
    public Overrides Overrides { get; }
    public LimitMetrics LimitMetrics { get; } = new();
    public IngestionRateLimiter IngestionRate { get; }
    public SeriesLimiter Series { get; }
    public QueryLimiter Queries { get; }
    public TimeProvider Time { get; }

    /// <summary>How long a workspace's samples are kept: the overrides' retention_period, else the workspace's
    /// retentionPeriodInDays, else AMP's default of 150 days.</summary>
    public TimeSpan Retention(string workspace) =>
        Overrides.For(workspace).RetentionPeriod
        ?? TimeSpan.FromDays(Registry.Find(workspace)?.Configuration.RetentionPeriodInDays ?? WorkspaceConfiguration.DefaultRetentionPeriodInDays);

    public TenancyServices(TenancyOptions options, IWorkspaceLifecycleHooks? hooks = null, Limits.Limits? defaultLimits = null,
        ILoggerFactory? loggers = null, TimeProvider? time = null)
    {
        options.Validate();
        Options = options;
        Time = time ?? TimeProvider.System;
        Directory.CreateDirectory(options.DataDir);
        // A component that serves no requests opens no secret: a throwaway key spares it a key file of its own.
        MasterKey = options.ServesRequests
            ? MasterKey.Load(options.ResolvedMasterKeyFile, options.CreateMasterKeyIfMissing)
            : new MasterKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var bucket = options.Bucket ?? new FilesystemBucket(Path.Combine(options.DataDir, "bucket"));
        string bucketName = options.BucketName ?? (options.Bucket is null ? Path.GetFullPath(Path.Combine(options.DataDir, "bucket")) : "the blocks bucket");
        Store = new TenancyStore(bucket, bucketName, options.DataDir, options.SyncInterval, time: Time, logger: loggers?.CreateLogger<TenancyStore>());
        Registry = new WorkspaceRegistry(options, Store, hooks, Time, loggers?.CreateLogger<WorkspaceRegistry>(), options.CompletesDeletion);
        Keys = new KeyStore(options, Store, MasterKey, Time, loggers?.CreateLogger<KeyStore>());
        Rules = new RulesRegistry(options, Store, Time);
        Authenticator = new Authenticator(Keys, options, Time);
        Audit = AuditLog.FromOptions(options);
        Overrides = new Overrides(defaultLimits, options.OverridesFile, options.ReloadInterval, Time, loggers?.CreateLogger<Overrides>())
        {
            WorkspaceSettings = ws => Registry.Find(ws)?.Configuration.Limits,
        };
        IngestionRate = new IngestionRateLimiter(Overrides, LimitMetrics, Time);
        Series = new SeriesLimiter(Overrides, Registry, LimitMetrics, options.SeriesLimitShare).ObserveUse();
        Queries = new QueryLimiter(Overrides, LimitMetrics);
    }

    /// <summary>The services to start in this order (the shared state first: the registry and the key store migrate into
    /// it) and to stop in the reverse order. A component that serves no requests (an ingester) has no use for the keys.</summary>
    public IReadOnlyList<IService> Services => Options.ServesRequests ? [Store, Registry, Keys, Overrides] : [Store, Registry, Overrides];

    /// <summary>First start: the <c>default</c> workspace and an admin key, or null when keys already exist.</summary>
    public Task<BootstrapCredentials?> BootstrapAsync(CancellationToken ct = default) => TenancyBootstrap.EnsureAsync(Options, Registry, Keys, ct);

    /// <summary>Adds authentication and authorization for every request (call before the endpoints run).</summary>
    public IApplicationBuilder UseAuth(IApplicationBuilder app) => app.UseAmphoraAuth(Authenticator, Audit, Options, Registry, Time);

    /// <summary>Maps the control plane; with <paramref name="usage"/>, also <c>GET /workspaces/{id}/usage</c>.</summary>
    public void MapControlPlane(IEndpointRouteBuilder routes, IWorkspaceUsageSource? usage = null) =>
        routes.MapControlPlane(Registry, Keys, Rules, Audit, Time, usage);

    public void Dispose()
    {
        Audit.Dispose();
        LimitMetrics.Dispose();
        MasterKey.Dispose();
    }
}
