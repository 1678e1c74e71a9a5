using Amphora.Cluster;
using Amphora.Ingester.Grpc;
using Amphora.Distributor;
using Amphora.Distributor.Otlp;
using Amphora.Ingester;
using Amphora.Querier;
using Amphora.Querier.Api;
using Amphora.Querier.Cluster;
using Amphora.Ring;
using Amphora.Server.Config;
using Amphora.Storage;

namespace Amphora.Server;

/// <summary>One component per process, talking gRPC: ingesters serve their storage, distributors and queriers use the ring.</summary>
public sealed partial class Modules
{
    private static readonly TimeSpan IngesterCallTimeout = TimeSpan.FromSeconds(10);

    /// <summary>The gRPC address this process serves on, when its target has one.</summary>
    public string? GrpcListen { get; private set; }

    /// <summary>What the ingester's gRPC service serves (<c>--target=ingester</c>), null for other targets.</summary>
    public IngesterBackend? IngesterBackend { get; private set; }

    private void AddIngester(AmphoraConfig config, IServiceProvider services)
    {
        // The series limits: the ingester reads the workspaces and their limits from the shared state and enforces its share.
        var tenancy = AddTenancy(config, services, deleteData: null, completesDeletion: false, IngesterSeriesLimitShare(config));
        var ingester = new IngesterService(config.DataDir, TsdbOptionsFrom(config, services), services.GetRequiredService<ILogger<IngesterService>>());
        tenancy.LimitSeriesOf(ingester);
        var deletion = new IngesterWorkspaceDeletion(ingester, tenancy.Tenancy.Store, services.GetRequiredService<ILogger<IngesterWorkspaceDeletion>>());
        ingester.WorkspaceReplayed = deletion.Check; // deleted while this ingester was down or replaying
        _services.Add(ingester);
        GrpcListen = config.GrpcListen;
        // JOINING while the WAL replays, ACTIVE while serving, LEAVING from SIGTERM on (distributors stop sending).
        var backend = IngesterBackend = new IngesterBackend(config.IngesterName, ingester, ingester, ingester, () =>
            ingester.State == Amphora.Services.ServiceState.Running && IsReady ? Amphora.Cluster.Protocol.InstanceState.Active
            : _notReady == ShuttingDown ? Amphora.Cluster.Protocol.InstanceState.Leaving
            : Amphora.Cluster.Protocol.InstanceState.Joining) { Exemplars = ingester };
        ListenAddress.TryParse(config.GrpcListen, out var grpc, out _);
        var guard = new ClusterCallGuard(grpc.Port, LoadSecret(config), config.GrpcTlsClientCaFile is not null);
        _routes.Add(app => app.MapIngesterGrpc(guard));
    }

    /// <summary>An ingester's share of a workspace's series: each series goes to replication-factor ingesters of the
    /// <c>--ring.members</c>, so one holds about RF ÷ members of them (all of them without the flag, or with fewer members).</summary>
    private static double IngesterSeriesLimitShare(AmphoraConfig config)
    {
        if (string.IsNullOrWhiteSpace(config.RingMembers)) return 1;
        int members;
        try
        {
            members = RingMembers.Parse(config.RingMembers).Count;
        }
        catch (FormatException e)
        {
            throw new ConfigException($"invalid --ring.members: {e.Message}");
        }
        return members <= config.RingReplicationFactor ? 1 : (double)config.RingReplicationFactor / members;
    }

    private RingClient AddRing(AmphoraConfig config, IServiceProvider services)
    {
        List<RingInstance> members;
        try
        {
            members = RingMembers.Parse(config.RingMembers);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"invalid --ring.members: {e.Message}");
        }
        var transport = new ClusterTransport(
            config.RingTlsCaFile is null ? null : Amphora.Cluster.Security.CertificateTrust.LoadAuthority(config.RingTlsCaFile),
            config.RingTlsCertFile is null ? null : Amphora.Cluster.Security.CertificateTrust.LoadWithKey(config.RingTlsCertFile, config.RingTlsKeyFile!),
            LoadSecret(config));
        var ring = new RingClient(members, config.RingReplicationFactor, config.RingPollInterval,
            services.GetRequiredService<ILogger<RingClient>>(), transport);
        _services.Add(ring);
        return ring;
    }

    private static Amphora.Cluster.Security.ClusterSecret? LoadSecret(AmphoraConfig config)
    {
        try
        {
            return config.LoadClusterSecret();
        }
        catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
        {
            throw new ConfigException($"--cluster.secret-file \"{config.ClusterSecretFile}\": {e.Message}");
        }
    }

    private void AddDistributor(AmphoraConfig config, IServiceProvider services)
    {
        var tenancy = AddTenancy(config, services, workspace => RequestWorkspaceDeletionAsync(config, services, workspace), completesDeletion: false);
        if (config.IngestionRateStrategy == "global")
        {
            // Each distributor admits its share of a workspace's rate: the rate ÷ the distributors that heartbeat in the bucket.
            ListenAddress.TryParse(config.Listen, out var http, out _);
            var count = new Amphora.Tenancy.Limits.DistributorCount(BucketFrom(config, services), $"{Environment.MachineName}-{http.Port}",
                config.TenancySyncInterval, logger: services.GetRequiredService<ILogger<Amphora.Tenancy.Limits.DistributorCount>>());
            _services.Add(count);
            tenancy.Tenancy.IngestionRate.Distributors = () => count.Count;
        }
        var ring = AddRing(config, services);
        var distributor = NewDistributor(config, services, tenancy, new RingPush(ring, IngesterCallTimeout, config.MaxBackgroundPushes));
        _services.Add(distributor);
        _routes.Add(app =>
        {
            tenancy.MapRoutes(app);
            app.MapRemoteWrite(distributor);
            app.MapOtlp(distributor);
        });
    }

    private void AddQuerier(AmphoraConfig config, IServiceProvider services)
    {
        var tenancy = AddTenancy(config, services, workspace => RequestWorkspaceDeletionAsync(config, services, workspace), completesDeletion: false);
        var querier = NewRingQuerier(config, services, tenancy, AddRing(config, services));
        tenancy.UsageBucket = BucketFrom(config, services);
        _services.Add(querier);
        var frontend = FrontendFor(config, querier);
        _routes.Add(app =>
        {
            tenancy.MapRoutes(app);
            app.MapPrometheusApi(querier, frontend, TrustsFrontend(config));
        });
    }

    /// <summary>A distributor over <paramref name="push"/> with the workspaces' write limits and ingestion rate.</summary>
    private static DistributorService NewDistributor(AmphoraConfig config, IServiceProvider services, TenancyModule tenancy, IIngesterPush push) =>
        new(push, DistributorOptionsFrom(config), services.GetRequiredService<ILogger<DistributorService>>())
        {
            Overrides = tenancy.Tenancy.Overrides,
            IngestionRate = tenancy.Tenancy.IngestionRate,
        };

    /// <summary>A querier over the ring's ingesters and the bucket's blocks, with the workspaces' retention and query limits.</summary>
    private QuerierService NewRingQuerier(AmphoraConfig config, IServiceProvider services, TenancyModule tenancy, RingClient ring)
    {
        var ingesters = new RingQueryable(ring, TimeSpan.FromMinutes(2));
        var storage = new RetentionWorkspaceQueryable(new MergeWorkspaceQueryable(ingesters, BlockStoreFrom(config, services)), tenancy.Tenancy.Retention);
        return new QuerierService(storage, ingesters, QuerierOptionsFrom(config)) { Limits = QueryLimitsFrom(tenancy), Exemplars = ingesters };
    }

    private Amphora.Ingester.Storage.TsdbOptions TsdbOptionsFrom(AmphoraConfig config, IServiceProvider services) => new()
    {
        OutOfOrderWindow = config.OutOfOrderWindow,
        MaxExemplarsPerWorkspace = config.MaxExemplarsPerWorkspace,
        BlockRange = config.BlockRange,
        CutInterval = config.BlockCutInterval,
        LocalBlockRetention = config.BlockLocalRetention,
        Bucket = BucketFrom(config, services),
        IngesterName = config.IngesterName,
        WalSegmentSize = config.WalSegmentSize,
        WalRepair = config.WalRepair,
        Fsync = config.WalFsync switch
        {
            "batch" => Amphora.Tsdb.Wal.FsyncPolicy.Batch,
            "never" => Amphora.Tsdb.Wal.FsyncPolicy.Never,
            _ => Amphora.Tsdb.Wal.FsyncPolicy.Always,
        },
    };

    private static DistributorOptions DistributorOptionsFrom(AmphoraConfig config) => new()
    {
        MaxRecvMsgSize = config.MaxRequestBodyBytes,
        RequestShape = new RequestShapeLimits
        {
            MaxSeriesPerRequest = config.MaxSeriesPerRequest,
            MaxSamplesPerRequest = config.MaxSamplesPerRequest,
            MaxLabelsPerRequest = config.MaxLabelsPerRequest,
        },
        Validation = new ValidationOptions
        {
            MaxLabelNamesPerSeries = config.MaxLabelNamesPerSeries,
            MaxLabelNameLength = config.MaxLabelNameLength,
            MaxLabelValueLength = config.MaxLabelValueLength,
            CreateGracePeriod = config.CreateGracePeriod,
            Utf8Names = config.Utf8Names,
        },
        Otlp = new OtlpOptions
        {
            TranslationStrategy = OtlpOptions.ParseStrategy(config.OtlpTranslationStrategy)
                ?? OtlpTranslationStrategy.UnderscoreEscapingWithSuffixes,
            PromoteResourceAttributes = config.OtlpPromotedAttributes(),
            KeepIdentifyingResourceAttributes = config.OtlpKeepIdentifyingResourceAttributes,
            Utf8Names = config.Utf8Names,
        },
    };

    private static QuerierOptions QuerierOptionsFrom(AmphoraConfig config) => new()
    {
        LookbackDelta = config.LookbackDelta,
        Timeout = config.QueryTimeout,
        MaxSamples = config.QueryMaxSamples,
        MaxConcurrent = config.QueryMaxConcurrent,
        EnableExperimentalFunctions = config.QueryExperimentalFunctions,
        EnableStartTimestamps = config.QueryStartTimestamps,
        MaxNestingDepth = config.QueryMaxNestingDepth,
    };

    /// <summary>
    /// Which query requests come from a <c>--target=query-frontend</c>: those made with an admin key (which the frontend
    /// uses). Only they may say that they hold their workspace's query slot; with <c>--auth=none</c> nobody can prove it,
    /// so a frontend's pieces then queue in the querier's own frontend like any query.
    /// </summary>
    private static Func<HttpContext, bool> TrustsFrontend(AmphoraConfig config) => ctx => config.Auth == AuthMode.Keys &&
        Amphora.Tenancy.Auth.TenancyHttp.GetKey(ctx) is { WorkspaceId: null } key && key.Actions.Contains(Amphora.Tenancy.Keys.ApsActions.All);

    /// <summary>The query frontend in front of a querier, or null with --query-frontend.enabled=false.</summary>
    private static Amphora.Querier.Frontend.QueryFrontend? FrontendFor(AmphoraConfig config, Amphora.Querier.Frontend.IQueryBackend querier,
        bool always = false) =>
        !config.QueryFrontendEnabled && !always ? null : new(querier, new Amphora.Querier.Frontend.QueryFrontendOptions
        {
            SplitInterval = config.QueryFrontendSplitInterval,
            CacheMaxBytes = config.QueryFrontendCacheMaxBytes,
            // Samples may arrive up to the out-of-order window late: steps that recent are never cached.
            MaxCacheFreshness = config.QueryFrontendMaxCacheFreshness > config.OutOfOrderWindow
                ? config.QueryFrontendMaxCacheFreshness : config.OutOfOrderWindow,
            CacheTtl = config.QueryFrontendCacheTtl,
            MaxQueuedPerWorkspace = config.QueryFrontendMaxQueuedPerWorkspace,
        });

    private static QueryLimitHooks QueryLimitsFrom(TenancyModule tenancy) => new(
        (workspace, start, end) => tenancy.Tenancy.Queries.CheckRange(workspace,
            DateTimeOffset.FromUnixTimeMilliseconds(start), DateTimeOffset.FromUnixTimeMilliseconds(end)) is { } v
            ? $"{v.ErrorId}: {v.Message}" : null,
        (workspace, threshold) => tenancy.Tenancy.Queries.MaxSamples(workspace, threshold),
        workspace => tenancy.Tenancy.Queries.Timeout(workspace),
        workspace =>
        {
            var slot = tenancy.Tenancy.Queries.TryEnter(workspace, out var v);
            return (slot, v is null ? null : $"{v.ErrorId}: {v.Message}");
        });
}
