using static Amphora.Server.Config.ValueParsers;

namespace Amphora.Server.Config;

/// <summary>Every option amphora accepts, in the order <c>--help</c> lists them.</summary>
public static class Options
{
    public static readonly IReadOnlyList<OptionSpec> All =
    [
        new("target", "all", "Which component(s) this process runs: all, distributor, ingester, querier, compactor, ruler or operator (the Kubernetes operator).",
            (c, v) => c.Target = v),
        new("listen", "127.0.0.1:9009", "HOST:PORT of the HTTP listener (remote write, Prometheus query API, /metrics, /ready).",
            (c, v) => c.Listen = v),
        new("data-dir", "./data", "Directory for the write-ahead log, blocks and the local bucket.",
            (c, v) => c.DataDir = v),
        new("config", "", "YAML file with any of these options; flags given on the command line override it.",
            (c, v) => c.ConfigFile = v),
        new("check-config", "false", "Validate the flags and the --config file, print the result and exit (0 when valid, 2 when not) without starting anything.",
            (c, v) => c.CheckConfigOnly = Bool(v), IsSwitch: true),
        new("auth", "keys", "How requests prove who they are: keys (access keys by basic auth, bearer token or SigV4) or none (workspace from the URL or X-Scope-OrgID; loopback only).",
            (c, v) => c.Auth = v switch
            {
                "none" => AuthMode.None,
                "keys" => AuthMode.Keys,
                _ => throw new FormatException($"\"{v}\" is not none or keys"),
            }),
        new("auth.master-key-file", "", "File with the 32-byte key that encrypts access-key secrets at rest; default <data-dir>/master.key, created if missing.",
            (c, v) => c.MasterKeyFile = v.Length == 0 ? null : v),
        new("auth.admin-key-file", "", "JSON file {\"accessKeyId\": ID, \"secretAccessKey\": SECRET} (e.g. a mounted Secret) with an admin key (aps:*, every workspace) accepted besides stored keys; ID 1-32 letters/digits, SECRET 20-128 printable ASCII; re-read when it changes.",
            (c, v) => c.AdminKeyFile = v.Length == 0 ? null : v),
        new("auth.sigv4-regions", "", "Comma-separated regions accepted in SigV4 signatures (service aps); empty accepts any region.",
            (c, v) => c.SigV4Regions = v),
        new("audit.log-file", "", "Append the audit log (one JSON line per control-plane call and per denied request) to this file.",
            (c, v) => c.AuditLogFile = v.Length == 0 ? null : v),
        new("audit.stdout", "false", "Also write the audit log to standard output.",
            (c, v) => c.AuditLogToStdout = Bool(v), IsSwitch: true),
        new("audit.denials-per-second", "10", "Denied requests written to the audit log one by one per second (after a burst of 10 times as many); the rest are counted in a summary line.",
            (c, v) => c.AuditDenialsPerSecond = Int(v)),
        new("audit.max-file-size", "100MiB", "Size at which the audit log file is rotated (audit.log → audit.log.1 → …).",
            (c, v) => c.AuditMaxFileBytes = Bytes(v)),
        new("audit.max-files", "5", "Rotated audit log files kept beside the current one; older ones are removed.",
            (c, v) => c.AuditMaxFiles = Int(v)),
        new("auth.sigv4-max-query-body-size", "5MiB", "Largest SigV4-signed query body (a form) read to check its payload hash (larger: 413). Remote-write bodies are bounded by --distributor.max-recv-msg-size.",
            (c, v) => c.SigV4MaxQueryBodyBytes = Bytes(v)),
        new("auth.sigv4-max-body-size", "4MiB", "Largest SigV4-signed control-plane body read to check its payload hash (larger: 413).",
            (c, v) => c.SigV4MaxBodyBytes = Bytes(v)),
        new("auth.sigv4-max-unverified-bytes", "32MiB", "Memory held at once, over all requests, by SigV4-signed bodies read before their signature is checked (more: 503 with Retry-After).",
            (c, v) => c.SigV4MaxUnverifiedBytes = Bytes(v)),
        new("limits.overrides-file", "", "YAML file of per-workspace limit overrides, reloaded when it changes (no restart).",
            (c, v) => c.LimitsOverridesFile = v.Length == 0 ? null : v),
        new("tls.cert-file", "", "PEM certificate: serve HTTPS instead of HTTP (with --tls.key-file).",
            (c, v) => c.TlsCertFile = v.Length == 0 ? null : v),
        new("tls.key-file", "", "PEM private key of --tls.cert-file.",
            (c, v) => c.TlsKeyFile = v.Length == 0 ? null : v),
        new("log.level", "info", "Lowest log level written: debug, info, warn or error.", (c, v) => c.LogLevel = v),
        new("log.format", "text", "Log line format: text or json.", (c, v) => c.LogFormat = v),
        new("tracing.otlp-endpoint", "", "OTLP/HTTP endpoint (e.g. http://otel-collector:4318) to send traces to, as protobuf to <endpoint>/v1/traces: " +
            "every HTTP request and every call between components (distributor to ingesters, querier to ingesters) is a span, linked across " +
            "processes, and log lines written during a traced request carry its trace_id. Empty: no tracing, at no cost.",
            (c, v) => c.TracingOtlpEndpoint = v.Length == 0 ? null : v),
        new("log.instance", "", "Name of this process on every log line, after its target (empty: --ingester.name, --compactor.name, or --listen for other targets).",
            (c, v) => c.LogInstance = v.Length == 0 ? null : v),
        new("metrics.per-workspace", "false", "Label /metrics series with the workspace they count (samples, rejections, active series, ...). Off: they add up across workspaces, so the unauthenticated /metrics lists no workspace id; turn on only where /metrics is reachable by operators alone.",
            (c, v) => c.MetricsPerWorkspace = Bool(v), IsSwitch: true),
        new("shutdown-timeout", "30s", "How long SIGTERM waits for in-flight requests before closing the WAL and exiting.",
            (c, v) => c.ShutdownTimeout = Duration(v)),
        new("distributor.max-recv-msg-size", "10MiB", "Largest remote-write request accepted, after snappy decompression (larger: 413).",
            (c, v) => c.MaxRequestBodyBytes = Bytes(v)),
        new("distributor.ingestion-rate-limit-strategy", "global", "How a cluster's distributors apply a workspace's ingestion_rate: global (each admits the rate " +
            "÷ the distributors serving, counted through heartbeats in the bucket every --tenancy.sync-interval, so the cluster admits the rate) " +
            "or local (each admits the whole rate). The burst is each distributor's own.",
            (c, v) => c.IngestionRateStrategy = v),
        new("distributor.max-background-pushes", "1000", "A cluster write is answered once each series reached its write quorum; this many pushes to the " +
            "remaining replicas may still run in the background (each within the ingester call deadline). Beyond, a write waits for all its replicas.",
            (c, v) => c.MaxBackgroundPushes = Int(v)),
        new("distributor.max-series-per-request", "100000", "Most series one remote-write request may hold; counted before it is decoded (more: 400, nothing stored).",
            (c, v) => c.MaxSeriesPerRequest = Int(v)),
        new("distributor.max-samples-per-request", "1000000", "Most samples, histogram samples and exemplars one remote-write request may hold (more: 400, nothing stored).",
            (c, v) => c.MaxSamplesPerRequest = Int(v)),
        new("distributor.max-labels-per-request", "1000000", "Most labels, summed over its series, one remote-write request may hold (more: 400, nothing stored).",
            (c, v) => c.MaxLabelsPerRequest = Int(v)),
        new("otlp.translation-strategy", "UnderscoreEscapingWithSuffixes", "How OTLP metric and attribute names become Prometheus names, as Prometheus 3's otlp.translation_strategy: " +
            "UnderscoreEscapingWithSuffixes (invalid characters become _, unit and type suffixes such as _seconds and _total are added), " +
            "UnderscoreEscapingWithoutSuffixes, NoUTF8EscapingWithSuffixes or NoTranslation (names kept as sent; those that are not valid " +
            "Prometheus names are refused in the partial success, as this storage holds only [a-zA-Z_:][a-zA-Z0-9_:]* names).",
            (c, v) => c.OtlpTranslationStrategy = v),
        new("otlp.promote-resource-attributes", "", "Comma-separated OTLP resource attributes copied as labels onto every series of their resource " +
            "(e.g. deployment.environment,k8s.namespace.name); every non-identifying attribute is in target_info regardless.",
            (c, v) => c.OtlpPromoteResourceAttributes = v),
        new("otlp.keep-identifying-resource-attributes", "false", "Also keep service.name, service.namespace and service.instance.id as labels of " +
            "target_info (they are always in job and instance).",
            (c, v) => c.OtlpKeepIdentifyingResourceAttributes = Bool(v), IsSwitch: true),
        new("validation.max-label-names-per-series", "70", "Most labels a series may have, the metric name included.",
            (c, v) => c.MaxLabelNamesPerSeries = Int(v)),
        new("validation.max-label-name-length", "1024", "Longest label name accepted, in bytes.",
            (c, v) => c.MaxLabelNameLength = Int(v)),
        new("validation.max-label-value-length", "2048", "Longest label value accepted, in bytes.",
            (c, v) => c.MaxLabelValueLength = Int(v)),
        new("validation.create-grace-period", "10m", "How far past the distributor's clock a sample's timestamp may be; later samples are refused (400).",
            (c, v) => c.CreateGracePeriod = Duration(v)),
        new("ingester.out-of-order-window", "60s", "How far behind a series' newest sample an older sample is still accepted (0 disables).",
            (c, v) => c.OutOfOrderWindow = Duration(v)),
        new("tsdb.block-range", "2h", "Time range of the blocks the ingester cuts from its head.",
            (c, v) => c.BlockRange = Duration(v)),
        new("tsdb.cut-interval", "1m", "How often the ingester checks its head for a block to cut and uploads finished blocks.",
            (c, v) => c.BlockCutInterval = Duration(v)),
        new("tsdb.local-retention", "1h", "How long the ingester keeps serving a block from local disk after uploading it.",
            (c, v) => c.BlockLocalRetention = Duration(v)),
        new("blocks.storage", "filesystem", "Where blocks are kept: filesystem (a directory, default under --data-dir) or s3.",
            (c, v) => c.BlocksStorage = v),
        new("blocks.filesystem.dir", "", "Directory of the filesystem bucket (default: <data-dir>/bucket).",
            (c, v) => c.BlocksFilesystemDir = v.Length == 0 ? null : v),
        new("blocks.s3.endpoint", "", "URL of an S3-compatible service (empty: AWS S3 in --blocks.s3.region).",
            (c, v) => c.S3Endpoint = v.Length == 0 ? null : v),
        new("blocks.s3.bucket", "", "S3 bucket holding the blocks; it must exist.", (c, v) => c.S3Bucket = v),
        new("blocks.s3.region", "us-east-1", "S3 region (signing region for other endpoints).", (c, v) => c.S3Region = v),
        new("blocks.s3.path-style", "false", "Address the bucket as endpoint/bucket (most self-hosted S3 services need this).",
            (c, v) => c.S3PathStyle = Bool(v), IsSwitch: true),
        new("blocks.s3.access-key", "", "S3 access key id (empty: AWS_ACCESS_KEY_ID and the rest of the standard AWS credential chain).",
            (c, v) => c.S3AccessKey = v.Length == 0 ? null : v),
        new("blocks.s3.secret-key", "", "S3 secret access key, with --blocks.s3.access-key.",
            (c, v) => c.S3SecretKey = v.Length == 0 ? null : v),
        new("blocks.s3.prefix", "", "Key prefix inside the bucket, to share one bucket between deployments.",
            (c, v) => c.S3Prefix = v.Length == 0 ? null : v),
        new("blocks.sync-interval", "1m", "How often a querier refreshes its list of a workspace's blocks in the bucket.",
            (c, v) => c.BlocksSyncInterval = Duration(v)),
        new("tenancy.sync-interval", "10s", "How often each component reads the shared tenancy state (workspaces, access keys) from the bucket again; " +
            "a workspace or key created, changed, disabled or deleted through another component takes effect here within this interval " +
            "(plus one read of the state). While the bucket is unreachable a component serves the last state it saw (kept in <data-dir>/tenancy-cache.json).",
            (c, v) => c.TenancySyncInterval = Duration(v)),
        new("blocks.bucket-index-max-stale", "1h", "A querier trusts a workspace's bucket index (written by the compactor) this long; older, it lists the bucket.",
            (c, v) => c.BucketIndexMaxStale = Duration(v)),
        new("compactor.interval", "5m", "How often the compactor passes over its workspaces (compaction, retention, deletions, bucket index).",
            (c, v) => c.CompactorInterval = Duration(v)),
        new("compactor.block-ranges", "2h,12h,24h", "Block ranges, smallest first: the ingesters' block range, then the ranges blocks are compacted into.",
            (c, v) => c.CompactorBlockRanges = v),
        new("compactor.deletion-delay", "12h", "How long a replaced or expired block stays, marked, before the compactor deletes it.",
            (c, v) => c.CompactorDeletionDelay = Duration(v)),
        new("compactor.consistency-delay", "30m", "How old a block must be before it is compacted, so every replica of its range has arrived.",
            (c, v) => c.CompactorConsistencyDelay = Duration(v)),
        new("compactor.partial-upload-timeout", "24h", "A block directory without meta.json this old is an abandoned upload and is removed.",
            (c, v) => c.CompactorPartialUploadTimeout = Duration(v)),
        new("compactor.name", "compactor-0", "This compactor's name among --compactor.members.", (c, v) => c.CompactorName = v),
        new("compactor.members", "", "Every compactor replica's name, comma-separated; each workspace is compacted by exactly one (empty: just this one).",
            (c, v) => c.CompactorMembers = v),
        new("wal.fsync", "always", "When the WAL is fsynced: always (before each write is acknowledged), batch (every second) or never.",
            (c, v) => c.WalFsync = v),
        new("wal.repair", "false", "On start, truncate a WAL corrupted in the middle at the corruption instead of refusing to start.",
            (c, v) => c.WalRepair = Bool(v), IsSwitch: true),
        new("wal.segment-size", "128MiB", "Size at which the WAL starts a new segment file.",
            (c, v) => c.WalSegmentSize = Bytes(v)),
        new("grpc.listen", "127.0.0.1:9095", "HOST:PORT of the ingester's gRPC listener (HTTP/2 without TLS), which distributors and queriers call; " +
            "a non-loopback address needs --cluster.secret-file or --grpc.tls-client-ca-file.",
            (c, v) => c.GrpcListen = v),
        new("cluster.secret-file", "", "File with the secret (16+ printable characters) shared by every component of a cluster: ingesters " +
            "refuse gRPC calls without it (UNAUTHENTICATED), distributors and queriers send it.",
            (c, v) => c.ClusterSecretFile = v.Length == 0 ? null : v),
        new("ingester.name", "ingester-0", "This ingester's name in the ring; its tokens derive from it (use the StatefulSet pod name).",
            (c, v) => c.IngesterName = v),
        new("grpc.tls-cert-file", "", "PEM certificate: the ingester serves gRPC over TLS instead of h2c (with --grpc.tls-key-file).",
            (c, v) => c.GrpcTlsCertFile = v.Length == 0 ? null : v),
        new("grpc.tls-key-file", "", "PEM private key of --grpc.tls-cert-file.",
            (c, v) => c.GrpcTlsKeyFile = v.Length == 0 ? null : v),
        new("grpc.tls-client-ca-file", "", "PEM CA: the ingester requires a client certificate issued by it on every gRPC connection (mutual TLS; needs --grpc.tls-cert-file).",
            (c, v) => c.GrpcTlsClientCaFile = v.Length == 0 ? null : v),
        new("ring.tls-cert-file", "", "PEM client certificate distributors and queriers present to ingesters for mutual TLS (with --ring.tls-key-file and --ring.tls-ca-file).",
            (c, v) => c.RingTlsCertFile = v.Length == 0 ? null : v),
        new("ring.tls-key-file", "", "PEM private key of --ring.tls-cert-file.",
            (c, v) => c.RingTlsKeyFile = v.Length == 0 ? null : v),
        new("ring.tls-ca-file", "", "PEM CA (or self-signed certificate) to trust: distributors and queriers then call ingesters over TLS.",
            (c, v) => c.RingTlsCaFile = v.Length == 0 ? null : v),
        new("ring.members", "", "The ingesters, for --target=distributor and querier: name=host:port,... (or host:port,... named ingester-N in order).",
            (c, v) => c.RingMembers = v),
        new("ring.replication-factor", "3", "How many ingesters hold each series; writes need a quorum of RF/2+1.",
            (c, v) => c.RingReplicationFactor = Int(v)),
        new("ring.poll-interval", "5s", "How often distributors and queriers ask each ingester for its state.",
            (c, v) => c.RingPollInterval = Duration(v)),
        new("query.lookback-delta", "5m", "How far back an instant vector selector looks for the latest sample.",
            (c, v) => c.LookbackDelta = Duration(v)),
        new("query.timeout", "2m", "Longest a query may run before it is cancelled (503 timeout).",
            (c, v) => c.QueryTimeout = Duration(v)),
        new("query.max-samples", "50000000", "Most samples one query may hold in memory at once (422 execution error beyond).",
            (c, v) => c.QueryMaxSamples = Long(v)),
        new("query.max-concurrent", "20", "Most queries evaluated at the same time; more wait.",
            (c, v) => c.QueryMaxConcurrent = Int(v)),
        new("query.max-nesting-depth", "256", "Deepest nesting of parentheses, function calls, aggregations, unary operators and ^ a query may have (400 bad_data beyond).",
            (c, v) => c.QueryMaxNestingDepth = Int(v)),
        new("query.experimental-functions", "false", "Enables PromQL's experimental functions and aggregations (sort_by_label, limitk, ...).",
            (c, v) => c.QueryExperimentalFunctions = Bool(v), IsSwitch: true),
        .. RulerFlags.All,
        .. OperatorFlags.All,
    ];

    public static OptionSpec? Find(string flag)
    {
        foreach (var o in All)
            if (o.Flag == flag) return o;
        return null;
    }

    public static OptionSpec? FindByYamlPath(string path)
    {
        foreach (var o in All)
            if (o.YamlPath == path) return o;
        return null;
    }
}
