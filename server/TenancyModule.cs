using Amphora.Server.Config;
using Amphora.Services;
using Amphora.Tenancy;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Server;

/// <summary>
/// Workspaces, access keys, authentication, limits and the audit log in the executable. With <c>--auth=keys</c> every request
/// is authenticated and authorized by action; the first start creates workspace <c>default</c> and an admin key, printed
/// once and written (mode 0600) to the data dir. The control plane (<c>/workspaces</c>, <c>/tags</c>) is served in both modes.
/// </summary>
public sealed partial class TenancyModule : ServiceBase, IWorkspaceLifecycleHooks
{
    private readonly AmphoraConfig _config;
    private readonly Func<string, Task>? _dropWorkspaceData;
    private readonly ILogger<TenancyModule> _logger;

    /// <param name="dropWorkspaceData">Removes a deleted workspace's data (--target=all), or requests its removal (the bucket's
    /// workspace deletion mark, for the compactor, in a cluster); null where nothing is to be done.</param>
    /// <param name="bucket">The bucket every component shares; the tenancy state is kept in it under <c>tenancy/</c>.</param>
    /// <param name="completesDeletion">Whether this component removes a deleted workspace's record once the hook returned
    /// (--target=all); in a cluster the compactor does, after removing the workspace's objects.</param>
    /// <param name="seriesLimitShare">The part of each series limit this process enforces (see
    /// <see cref="TenancyOptions.SeriesLimitShare"/>); only an ingester, which serves no requests, passes one below 1.</param>
    public TenancyModule(AmphoraConfig config, Func<string, Task>? dropWorkspaceData, ILoggerFactory loggers,
        Amphora.Bucket.IConditionalBucket bucket, bool completesDeletion, double? seriesLimitShare = null)
    {
        _config = config;
        _dropWorkspaceData = dropWorkspaceData;
        _logger = loggers.CreateLogger<TenancyModule>();
        ListenAddress.TryParse(config.Listen, out var endpoint, out _);
        string scheme = config.TlsCertFile is null ? "http" : "https";
        try
        {
            Tenancy = CreateServices(config, endpoint, scheme, loggers, bucket, completesDeletion, seriesLimitShare);
        }
        catch (Exception e) when (e is ArgumentException or FormatException or IOException or InvalidDataException or TenancyException)
        {
            throw new ConfigException($"cannot set up workspaces and access control: {e.Message}");
        }
    }

    private TenancyServices CreateServices(AmphoraConfig config, System.Net.IPEndPoint endpoint, string scheme, ILoggerFactory loggers,
        Amphora.Bucket.IConditionalBucket bucket, bool completesDeletion, double? seriesLimitShare) =>
        new(new TenancyOptions
        {
            SeriesLimitShare = seriesLimitShare ?? 1,
            ServesRequests = seriesLimitShare is null,
            DataDir = config.DataDir,
            Bucket = bucket,
            BucketName = BucketName(config),
            SyncInterval = config.TenancySyncInterval,
            CompletesDeletion = completesDeletion,
            MasterKeyFile = config.MasterKeyFile,
            AdminKeyFile = config.AdminKeyFile,
            EndpointBaseUrl = $"{scheme}://{endpoint}",
            SigV4Regions = config.SigV4Regions.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            AuditLogFile = config.AuditLogFile,
            AuditLogToStdout = config.AuditLogToStdout,
            Audit = new Amphora.Tenancy.Audit.AuditLogOptions
            {
                DenialsPerSecond = config.AuditDenialsPerSecond,
                MaxFileBytes = config.AuditMaxFileBytes,
                MaxFiles = config.AuditMaxFiles,
            },
            MaxSignedRemoteWriteBodyBytes = Amphora.Distributor.RemoteWriteDecoder.MaxCompressedSize(config.MaxRequestBodyBytes),
            MaxSignedQueryBodyBytes = config.SigV4MaxQueryBodyBytes,
            MaxSignedBodyBytes = config.SigV4MaxBodyBytes,
            UnverifiedBodies = new Amphora.Tenancy.Auth.UnverifiedBodyBudget(config.SigV4MaxUnverifiedBytes),
            OverridesFile = config.LimitsOverridesFile,
            AlertmanagerBinary = config.ResolvedAlertmanagerBinary(),
        }, this, loggers: loggers, defaultLimits: Amphora.Tenancy.Limits.Limits.Default with
        {
            // A workspace without overrides gets the flags' limits; the overrides file changes them per workspace.
            MaxRequestBodyBytes = config.MaxRequestBodyBytes,
            MaxLabelNamesPerSeries = config.MaxLabelNamesPerSeries,
        });

    public override string Name => "tenancy";

    /// <summary>Connects an ingester's new series to this tenancy's series limits: admission, release (a series that was not
    /// created after all, or that the head GC removed) and the recount after the WAL replay.</summary>
    public void LimitSeriesOf(Amphora.Ingester.IngesterService ingester) =>
        ingester.SeriesLimits = new Amphora.Ingester.WorkspaceSeriesLimits(Tenancy.Series, Tenancy.Registry);

    /// <summary>How logs and errors name the shared bucket.</summary>
    public static string BucketName(AmphoraConfig config) => config.BlocksStorage == "s3"
        ? $"s3://{config.S3Bucket}/{config.S3Prefix}"
        : Path.GetFullPath(config.BlocksFilesystemDir ?? Path.Combine(config.DataDir, "bucket"));
    public TenancyServices Tenancy { get; }

    /// <summary>This process's per-workspace meters, for the control plane's <c>/workspaces/{id}/usage</c>.</summary>
    public Amphora.Metrics.UsageCollector Usage { get; } = new();

    /// <summary>The bucket whose workspace prefixes the usage endpoint measures; null where this component reads none.</summary>
    public Amphora.Bucket.IBucket? UsageBucket { get; set; }

    protected override async Task StartingAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_config.DataDir);
        foreach (var service in Tenancy.Services) await service.StartAsync(ct);
        if (_config.Auth != AuthMode.Keys || !Tenancy.Options.ServesRequests) return;
        var credentials = await Tenancy.BootstrapAsync(ct);
        if (credentials is null) return;
        // Printed once, on the first start only; the same values are in the credentials file (mode 0600).
        Console.Out.WriteLine($"""

            amphora: first start — created workspace "{credentials.WorkspaceId}" and an admin access key (all actions):
              access key id:     {credentials.AccessKeyId}
              secret access key: {credentials.SecretAccessKey}
            They are also in {credentials.CredentialsFile} (readable by this user only). The secret is not shown again.

            """);
        LogBootstrapped(credentials.WorkspaceId, credentials.AccessKeyId, credentials.CredentialsFile);
    }

    protected override async Task StoppingAsync(CancellationToken ct)
    {
        for (int i = Tenancy.Services.Count - 1; i >= 0; i--) await Tenancy.Services[i].StopAsync(ct);
        Tenancy.Dispose();
        Usage.Dispose();
    }

    public void MapRoutes(WebApplication app)
    {
        if (_config.Auth == AuthMode.Keys) Tenancy.UseAuth(app);
        Tenancy.MapControlPlane(app, new WorkspaceUsageSource(Usage, Tenancy.Overrides, UsageBucket, wholeService: _config.Target == "all",
            app.Services.GetRequiredService<ILogger<WorkspaceUsageSource>>()));
    }

    public Task ProvisionAsync(WorkspaceRecord workspace, CancellationToken ct) => Task.CompletedTask;

    public Task DeleteDataAsync(WorkspaceRecord workspace, CancellationToken ct)
    {
        Usage.Forget(workspace.WorkspaceId);
        return _dropWorkspaceData?.Invoke(workspace.WorkspaceId) ?? Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "created workspace {Workspace} and admin key {KeyId} (credentials in {File})")]
    private partial void LogBootstrapped(string workspace, string keyId, string file);
}
