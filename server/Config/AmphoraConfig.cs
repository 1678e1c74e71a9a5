namespace Amphora.Server.Config;

public enum AuthMode { None, Keys }

/// <summary>
/// The whole configuration of one amphora process, filled from defaults, then the YAML file (<c>--config</c>), then flags.
/// Components never see this type: <see cref="Program"/> maps its sections onto each component's own options.
/// </summary>
public sealed partial class AmphoraConfig
{
    public static readonly string[] Targets = ["all", "distributor", "ingester", "querier", "query-frontend", "compactor", "ruler", "alertmanager", "operator"];

    public string Target { get; set; } = "all";
    public string Listen { get; set; } = "127.0.0.1:9009";
    public string DataDir { get; set; } = "./data";
    public string? ConfigFile { get; set; }
    public bool CheckConfigOnly { get; set; }
    public AuthMode Auth { get; set; } = AuthMode.Keys;
    public string? MasterKeyFile { get; set; }
    public string? AdminKeyFile { get; set; }
    public string SigV4Regions { get; set; } = "";
    public string? AuditLogFile { get; set; }
    public bool AuditLogToStdout { get; set; }
    public bool MetricsPerWorkspace { get; set; }
    public int AuditDenialsPerSecond { get; set; } = 10;
    public long AuditMaxFileBytes { get; set; } = 100L << 20;
    public int AuditMaxFiles { get; set; } = 5;
    public long SigV4MaxQueryBodyBytes { get; set; } = 5L << 20;
    public long SigV4MaxBodyBytes { get; set; } = 4L << 20;
    public long SigV4MaxUnverifiedBytes { get; set; } = 32L << 20;
    public string? LimitsOverridesFile { get; set; }
    public string? TlsCertFile { get; set; }
    public string? TlsKeyFile { get; set; }
    public string LogLevel { get; set; } = "info";
    public string LogFormat { get; set; } = "text";
    public string? TracingOtlpEndpoint { get; set; }
    public string? LogInstance { get; set; }
    public string? AlertmanagerBinary { get; set; }

    /// <summary>The Alertmanager executable: --alertmanager.binary, else alertmanager or prometheus-alertmanager on the PATH;
    /// null when there is none.</summary>
    public string? ResolvedAlertmanagerBinary() => AlertmanagerBinary ?? Amphora.Tenancy.Rules.AlertmanagerBinary.OnPath();

    /// <summary>This process among its target's replicas, as every log line names it.</summary>
    public string InstanceName => LogInstance ?? Target switch
    {
        "ingester" => IngesterName,
        "compactor" => CompactorName,
        "ruler" => RulerInstance,
        _ => Listen,
    };
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    public long MaxRequestBodyBytes { get; set; } = 10 << 20;
    public string IngestionRateStrategy { get; set; } = "global";
    public int MaxBackgroundPushes { get; set; } = 1000;
    public int MaxSeriesPerRequest { get; set; } = 100_000;
    public int MaxSamplesPerRequest { get; set; } = 1_000_000;
    public int MaxLabelsPerRequest { get; set; } = 1_000_000;

    public string OtlpTranslationStrategy { get; set; } = "UnderscoreEscapingWithSuffixes";
    public string OtlpPromoteResourceAttributes { get; set; } = "";
    public bool OtlpKeepIdentifyingResourceAttributes { get; set; }

    /// <summary>The resource attributes --otlp.promote-resource-attributes names.</summary>
    public IReadOnlyList<string> OtlpPromotedAttributes() =>
        OtlpPromoteResourceAttributes.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    public int MaxLabelNamesPerSeries { get; set; } = 70;
    public int MaxLabelNameLength { get; set; } = 1024;
    public int MaxLabelValueLength { get; set; } = 2048;
    public string NameValidationScheme { get; set; } = "legacy";
    public bool Utf8Names => NameValidationScheme == "utf8";
    public TimeSpan CreateGracePeriod { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan OutOfOrderWindow { get; set; } = TimeSpan.FromSeconds(60);
    public int MaxExemplarsPerWorkspace { get; set; } = 100_000;

    public TimeSpan BlockRange { get; set; } = TimeSpan.FromHours(2);
    public string WalFsync { get; set; } = "always";
    public bool WalRepair { get; set; }
    public long WalSegmentSize { get; set; } = 128L << 20;
    public TimeSpan BlockCutInterval { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan BlockLocalRetention { get; set; } = TimeSpan.FromHours(1);

    public string BlocksStorage { get; set; } = "filesystem";
    public string? BlocksFilesystemDir { get; set; }
    public string? S3Endpoint { get; set; }
    public string S3Bucket { get; set; } = "";
    public string S3Region { get; set; } = "us-east-1";
    public bool S3PathStyle { get; set; }
    public string? S3AccessKey { get; set; }
    public string? S3SecretKey { get; set; }
    public string? S3Prefix { get; set; }
    public TimeSpan BlocksSyncInterval { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan BucketIndexMaxStale { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan TenancySyncInterval { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan CompactorInterval { get; set; } = TimeSpan.FromMinutes(5);
    public string CompactorBlockRanges { get; set; } = "2h,12h,24h";
    public TimeSpan CompactorDeletionDelay { get; set; } = TimeSpan.FromHours(12);
    public TimeSpan CompactorConsistencyDelay { get; set; } = TimeSpan.FromMinutes(30);
    public TimeSpan CompactorPartialUploadTimeout { get; set; } = TimeSpan.FromHours(24);
    public string CompactorName { get; set; } = "compactor-0";
    public string CompactorMembers { get; set; } = "";

    public string GrpcListen { get; set; } = "127.0.0.1:9095";
    public string IngesterName { get; set; } = "ingester-0";
    public string? GrpcTlsCertFile { get; set; }
    public string? GrpcTlsKeyFile { get; set; }
    public string? RingTlsCaFile { get; set; }
    public string? ClusterSecretFile { get; set; }
    public string? GrpcTlsClientCaFile { get; set; }
    public string? RingTlsCertFile { get; set; }
    public string? RingTlsKeyFile { get; set; }
    public string RingMembers { get; set; } = "";
    public int RingReplicationFactor { get; set; } = 3;
    public TimeSpan RingPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    public TimeSpan LookbackDelta { get; set; } = TimeSpan.FromMinutes(5);
    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromMinutes(2);
    public long QueryMaxSamples { get; set; } = 50_000_000;
    public int QueryMaxConcurrent { get; set; } = 20;
    public bool QueryExperimentalFunctions { get; set; }
    public bool QueryStartTimestamps { get; set; }
    public int QueryMaxNestingDepth { get; set; } = 256;

    public bool QueryFrontendEnabled { get; set; } = true;
    public TimeSpan QueryFrontendSplitInterval { get; set; } = TimeSpan.FromDays(1);
    public long QueryFrontendCacheMaxBytes { get; set; } = 256L << 20;
    public TimeSpan QueryFrontendMaxCacheFreshness { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan QueryFrontendCacheTtl { get; set; } = TimeSpan.FromHours(1);
    public int QueryFrontendMaxQueuedPerWorkspace { get; set; } = 100;
    public string QueryFrontendDownstreamUrl { get; set; } = "";

    /// <summary>The compactor's block ranges, or null when the setting is not a valid list.</summary>
    public IReadOnlyList<TimeSpan>? CompactorRanges()
    {
        var ranges = new List<TimeSpan>();
        foreach (var part in CompactorBlockRanges.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            try
            {
                ranges.Add(ValueParsers.Duration(part));
            }
            catch (FormatException)
            {
                return null;
            }
            if (ranges.Count > 1 && (ranges[^1] <= ranges[^2] || ranges[^1].Ticks % ranges[^2].Ticks != 0)) return null;
        }
        return ranges.Count == 0 ? null : ranges;
    }

    /// <summary>Checks cross-option rules; returns the problems in the words a user needs to fix them.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (!Targets.Contains(Target))
            errors.Add($"invalid --target \"{Target}\": must be one of {string.Join(", ", Targets)}");
        if (!ListenAddress.TryParse(Listen, out var endpoint, out var listenError))
            errors.Add($"invalid --listen \"{Listen}\": {listenError}");
        else if (Auth == AuthMode.None && !ListenAddress.IsLoopback(endpoint))
            errors.Add($"--auth=none serves every workspace without credentials, so it only listens on a loopback address; " +
                       $"--listen={Listen} is not loopback. Use --listen=127.0.0.1:PORT, or --auth=keys to serve other hosts.");
        if ((TlsCertFile is null) != (TlsKeyFile is null))
            errors.Add("--tls.cert-file and --tls.key-file go together: give both to serve TLS, or neither");
        else if (TlsCertFile is not null && (!File.Exists(TlsCertFile) || !File.Exists(TlsKeyFile)))
            errors.Add($"--tls.cert-file \"{TlsCertFile}\" or --tls.key-file \"{TlsKeyFile}\" does not exist");
        if (WalFsync is not ("always" or "batch" or "never"))
            errors.Add($"invalid --wal.fsync \"{WalFsync}\": must be always, batch or never");
        if (LogLevel is not ("debug" or "info" or "warn" or "error"))
            errors.Add($"invalid --log.level \"{LogLevel}\": must be debug, info, warn or error");
        if (LogFormat is not ("text" or "json"))
            errors.Add($"invalid --log.format \"{LogFormat}\": must be text or json");
        if (TracingOtlpEndpoint is not null && !(Uri.TryCreate(TracingOtlpEndpoint, UriKind.Absolute, out var otlp) && otlp.Scheme is "http" or "https"))
            errors.Add($"invalid --tracing.otlp-endpoint \"{TracingOtlpEndpoint}\": an http:// or https:// URL such as http://otel-collector:4318");
        if (MaxLabelNamesPerSeries <= 0) errors.Add("--validation.max-label-names-per-series must be positive");
        if (MaxLabelNameLength <= 0) errors.Add("--validation.max-label-name-length must be positive");
        if (MaxLabelValueLength <= 0) errors.Add("--validation.max-label-value-length must be positive");
        if (NameValidationScheme is not ("legacy" or "utf8"))
            errors.Add($"invalid --validation.name-validation-scheme \"{NameValidationScheme}\": must be legacy or utf8");
        if (CreateGracePeriod < TimeSpan.Zero) errors.Add("--validation.create-grace-period must not be negative");
        if (MaxRequestBodyBytes <= 0) errors.Add("--distributor.max-recv-msg-size must be positive");
        if (MaxBackgroundPushes < 0) errors.Add("--distributor.max-background-pushes must be 0 or more");
        if (IngestionRateStrategy is not ("global" or "local"))
            errors.Add($"invalid --distributor.ingestion-rate-limit-strategy \"{IngestionRateStrategy}\": must be global or local");
        if (AuditDenialsPerSecond <= 0) errors.Add("--audit.denials-per-second must be positive");
        if (AuditMaxFileBytes < 4096) errors.Add("--audit.max-file-size must be at least 4KiB");
        if (AuditMaxFiles < 0) errors.Add("--audit.max-files must not be negative");
        if (SigV4MaxQueryBodyBytes <= 0 || SigV4MaxBodyBytes <= 0) errors.Add("--auth.sigv4-max-query-body-size and --auth.sigv4-max-body-size must be positive");
        if (SigV4MaxUnverifiedBytes < 64 * 1024) errors.Add("--auth.sigv4-max-unverified-bytes must be at least 64KiB");
        if (MaxSeriesPerRequest <= 0) errors.Add("--distributor.max-series-per-request must be positive");
        if (MaxSamplesPerRequest <= 0) errors.Add("--distributor.max-samples-per-request must be positive");
        if (MaxLabelsPerRequest <= 0) errors.Add("--distributor.max-labels-per-request must be positive");
        if (Amphora.Distributor.Otlp.OtlpOptions.ParseStrategy(OtlpTranslationStrategy) is null)
            errors.Add($"invalid --otlp.translation-strategy \"{OtlpTranslationStrategy}\": must be UnderscoreEscapingWithSuffixes, " +
                       "UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes or NoTranslation");
        if (OutOfOrderWindow < TimeSpan.Zero) errors.Add("--ingester.out-of-order-window must not be negative");
        if (MaxExemplarsPerWorkspace < 0) errors.Add("--ingester.max-exemplars must not be negative");
        if (BlockRange < TimeSpan.FromMinutes(1)) errors.Add("--tsdb.block-range must be at least 1m");
        if (Target is "all" or "ingester" && OutOfOrderWindow * 2 > BlockRange)
            errors.Add($"--ingester.out-of-order-window ({OutOfOrderWindow}) must be at most half of --tsdb.block-range ({BlockRange}), " +
                       "so out-of-order samples still reach the head before their block is cut");
        if (BlockCutInterval <= TimeSpan.Zero) errors.Add("--tsdb.cut-interval must be positive");
        if (TenancySyncInterval <= TimeSpan.Zero)
            errors.Add("--tenancy.sync-interval must be positive (for example 10s)");
        if (BlocksSyncInterval >= BlockLocalRetention)
            errors.Add($"--blocks.sync-interval ({BlocksSyncInterval}) must be shorter than --tsdb.local-retention ({BlockLocalRetention}): " +
                       "queriers must find an uploaded block in the bucket before the ingester stops serving its local copy");
        if (BlocksStorage is not ("filesystem" or "s3"))
            errors.Add($"invalid --blocks.storage \"{BlocksStorage}\": must be filesystem or s3");
        if (BlocksStorage == "s3" && S3Bucket.Length == 0)
            errors.Add("--blocks.storage=s3 needs --blocks.s3.bucket (the bucket must exist)");
        if (S3Endpoint is not null && !(Uri.TryCreate(S3Endpoint, UriKind.Absolute, out var s3Url) && s3Url.Scheme is "http" or "https"))
            errors.Add($"invalid --blocks.s3.endpoint \"{S3Endpoint}\": an http:// or https:// URL such as http://127.0.0.1:9000");
        if ((S3AccessKey is null) != (S3SecretKey is null))
            errors.Add("--blocks.s3.access-key and --blocks.s3.secret-key go together; without both the standard AWS environment variables are used");
        if (Target is "distributor" or "querier" or "ruler" && RingMembers.Length == 0)
            errors.Add($"--target={Target} needs the ingesters: set --ring.members=ingester-0=host:port,... (their --grpc.listen addresses)");
        if (RingMembers.Length > 0)
        {
            try
            {
                Amphora.Ring.RingMembers.Parse(RingMembers);
            }
            catch (FormatException e)
            {
                errors.Add($"invalid --ring.members: {e.Message}");
            }
        }
        ValidateClusterSecurity(errors);
        if (RingReplicationFactor < 1) errors.Add("--ring.replication-factor must be at least 1");
        if (CompactorInterval <= TimeSpan.Zero) errors.Add("--compactor.interval must be positive");
        if (CompactorRanges() is not { } ranges)
            errors.Add($"invalid --compactor.block-ranges \"{CompactorBlockRanges}\": a comma-separated list of increasing durations, each a multiple of the one before (e.g. 2h,12h,24h)");
        else if (Target is "all" or "compactor" && ranges[0] != BlockRange)
            errors.Add($"--compactor.block-ranges must start with the ingesters' --tsdb.block-range ({BlockRange}); it starts with {ranges[0]}");
        if (Target == "all" && CompactorInterval + BlocksSyncInterval >= BlockLocalRetention)
            errors.Add($"--compactor.interval ({CompactorInterval}) plus --blocks.sync-interval ({BlocksSyncInterval}) must be shorter than " +
                       $"--tsdb.local-retention ({BlockLocalRetention}): the querier finds new blocks through the compactor's bucket index");
        if (CompactorMembers.Length > 0 && !CompactorMembers.Split(',').Contains(CompactorName))
            errors.Add($"--compactor.members ({CompactorMembers}) must include this compactor's --compactor.name ({CompactorName})");
        if (QueryMaxConcurrent <= 0) errors.Add("--query.max-concurrent must be positive");
        if (QueryFrontendSplitInterval < TimeSpan.FromMinutes(1)) errors.Add("--query-frontend.split-interval must be at least 1m");
        if (QueryFrontendCacheMaxBytes < 0) errors.Add("--query-frontend.results-cache-max-bytes must not be negative");
        if (QueryFrontendMaxCacheFreshness < TimeSpan.Zero) errors.Add("--query-frontend.max-cache-freshness must not be negative");
        if (QueryFrontendCacheTtl <= TimeSpan.Zero) errors.Add("--query-frontend.results-cache-ttl must be positive");
        if (QueryFrontendMaxQueuedPerWorkspace <= 0) errors.Add("--query-frontend.max-queued-per-workspace must be positive");
        if (Target == "query-frontend")
        {
            if (!Uri.TryCreate(QueryFrontendDownstreamUrl, UriKind.Absolute, out var downstream) || downstream.Scheme is not ("http" or "https"))
                errors.Add($"--target=query-frontend needs --query-frontend.downstream-url, the queriers' http(s) address (a Service over them); got \"{QueryFrontendDownstreamUrl}\"");
            if (Auth == AuthMode.Keys && AdminKeyFile is null)
                errors.Add("--target=query-frontend needs --auth.admin-key-file: it sends the queries it has authorised to the queriers with that admin key");
        }
        if (QueryMaxSamples <= 0) errors.Add("--query.max-samples must be positive");
        if (QueryMaxNestingDepth is < 1 or > 10_000) errors.Add("--query.max-nesting-depth must be between 1 and 10000");
        if (Target is "all" or "ruler") ValidateRuler(errors);
        if (Target == "operator") ValidateOperator(errors);
        if (AlertmanagerBinary is not null && !File.Exists(AlertmanagerBinary))
            errors.Add($"--alertmanager.binary \"{AlertmanagerBinary}\" does not exist (the Prometheus Alertmanager executable, e.g. /usr/bin/prometheus-alertmanager)");
        if (Target == "alertmanager" && ResolvedAlertmanagerBinary() is null)
            errors.Add("--target=alertmanager needs the Prometheus Alertmanager: set --alertmanager.binary, or put alertmanager or prometheus-alertmanager on the PATH");
        return errors;
    }
}
