namespace Amphora.Tenancy;

/// <summary>
/// Options of the tenancy layer (workspaces, access keys, authentication, limits, audit). Every option has a stable YAML/flag
/// name chosen by the executable; <see cref="Validate"/> reports the first problem as a sentence naming the option.
/// </summary>
public sealed class TenancyOptions
{
    /// <summary>Directory holding the tenancy cache (<c>tenancy-cache.json</c>), the master key and the bootstrap credentials
    /// file (and, from earlier versions, <c>workspaces.json</c> and <c>access-keys.json</c>, migrated on start).</summary>
    public string DataDir { get; set; } = "./data";

    /// <summary>The bucket every component shares, which holds the tenancy state under <c>tenancy/</c>; null uses a
    /// filesystem bucket at <c>&lt;data-dir&gt;/bucket</c>, as <c>--target=all</c> does by default.</summary>
    public Amphora.Bucket.IConditionalBucket? Bucket { get; set; }

    /// <summary>How logs and errors name <see cref="Bucket"/> (an <c>s3://</c> URL or a directory).</summary>
    public string? BucketName { get; set; }

    /// <summary>How often each component reads the whole tenancy state again (<c>--tenancy.sync-interval</c>): a change
    /// made through another component is seen here at most this long (plus one read of the state) after it was made.</summary>
    public TimeSpan SyncInterval { get; set; } = State.TenancyStore.DefaultSyncInterval;

    /// <summary>Whether this component removes deleted workspaces' data and then their records (see
    /// <see cref="Workspaces.WorkspaceRegistry.CompletesDeletion"/>).</summary>
    public bool CompletesDeletion { get; set; } = true;

    /// <summary>Region used in workspace ARNs (<c>arn:aws:aps:&lt;region&gt;:&lt;account&gt;:workspace/&lt;id&gt;</c>).</summary>
    public string Region { get; set; } = "local";

    /// <summary>Account id used in workspace ARNs.</summary>
    public string Account { get; set; } = "000000000000";

    /// <summary>Base URL advertised as a workspace's <c>prometheusEndpoint</c> (<c>{base}/workspaces/{id}/</c>).</summary>
    public string EndpointBaseUrl { get; set; } = "http://127.0.0.1:9009";

    /// <summary>File with the 32-byte master key that encrypts access-key secrets at rest (<c>--auth.master-key-file</c>).</summary>
    public string? MasterKeyFile { get; set; }

    /// <summary>
    /// JSON file <c>{"accessKeyId": ..., "secretAccessKey": ...}</c> with an admin key (<c>aps:*</c>, every workspace) accepted
    /// besides the stored keys (<c>--auth.admin-key-file</c>); see <see cref="Keys.AdminKeyFile"/>.
    /// </summary>
    public string? AdminKeyFile { get; set; }

    /// <summary>Create the master key file (mode 0600) with a random key when it does not exist.</summary>
    public bool CreateMasterKeyIfMissing { get; set; } = true;

    /// <summary>SigV4 regions accepted in a credential scope; empty accepts any region.</summary>
    public List<string> SigV4Regions { get; set; } = [];

    /// <summary>How far <c>x-amz-date</c> may differ from the server clock (AWS uses 5 minutes). Within it a signature may be
    /// used again, as with AWS: there is no replay cache (see docs/security.md).</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Largest remote-write body read to check a SigV4 payload hash: snappy's worst case for a body that decompresses
    /// to distributor.max-recv-msg-size (the executable sets it from that setting; the default is for 10 MiB).</summary>
    public long MaxSignedRemoteWriteBodyBytes { get; set; } = 32 + (10L << 20) + (10L << 20) / 6;

    /// <summary>Largest query body (a form) read to check a SigV4 payload hash (auth.sigv4-max-query-body-size).</summary>
    public long MaxSignedQueryBodyBytes { get; set; } = 5L << 20;

    /// <summary>Largest control-plane body read to check a SigV4 payload hash (auth.sigv4-max-body-size).</summary>
    public long MaxSignedBodyBytes { get; set; } = 4L << 20;

    /// <summary>Bytes held at once, over all requests, by SigV4 bodies whose signature is not checked yet
    /// (auth.sigv4-max-unverified-bytes); beyond it a request gets 503 with Retry-After.</summary>
    public Auth.UnverifiedBodyBudget UnverifiedBodies { get; set; } = new(32L << 20);

    /// <summary>The largest SigV4-signed body the endpoints of <paramref name="plane"/> take, and the setting that sets it.</summary>
    public (long Limit, string Setting) SignedBodyLimit(Auth.ApiPlane plane) => plane switch
    {
        Auth.ApiPlane.RemoteWrite => (MaxSignedRemoteWriteBodyBytes, "distributor.max-recv-msg-size"),
        Auth.ApiPlane.Query => (MaxSignedQueryBodyBytes, "auth.sigv4-max-query-body-size"),
        _ => (MaxSignedBodyBytes, "auth.sigv4-max-body-size"),
    };

    /// <summary>Audit log file (JSON lines, appended); null writes no file.</summary>
    public string? AuditLogFile { get; set; }

    /// <summary>Also write audit lines to standard output.</summary>
    public bool AuditLogToStdout { get; set; }

    /// <summary>Audit denial rate, file rotation and queue length.</summary>
    public Audit.AuditLogOptions Audit { get; set; } = new();

    /// <summary>YAML file with per-workspace limit overrides, reloaded when it changes; null uses the defaults only.</summary>
    public string? OverridesFile { get; set; }

    /// <summary>How often the overrides file and the admin key file are checked for changes made by another writer.</summary>
    public TimeSpan ReloadInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The part of each series limit this component enforces: 1 where one process holds all of a workspace's series
    /// (--target=all), an ingester's share of them in a cluster (replication factor ÷ ingesters).</summary>
    public double SeriesLimitShare { get; set; } = 1;

    /// <summary>Whether this component authenticates requests with access keys and serves the control plane. An ingester does
    /// neither: it reads the shared state only for the workspaces' series limits, so its key store is not started.</summary>
    public bool ServesRequests { get; set; } = true;

    public string ResolvedMasterKeyFile => MasterKeyFile ?? Path.Combine(DataDir, "master.key");

    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDir)) throw new ArgumentException("auth: the data directory must be set");
        if (string.IsNullOrWhiteSpace(Region)) throw new ArgumentException("auth: the workspace ARN region must not be empty");
        if (Account.Length == 0 || !Account.All(char.IsAsciiDigit)) throw new ArgumentException($"auth: the account id \"{Account}\" must be digits");
        if (MaxClockSkew <= TimeSpan.Zero) throw new ArgumentException("auth: the SigV4 clock skew must be positive");
        if (ReloadInterval <= TimeSpan.Zero) throw new ArgumentException("auth: the reload interval must be positive");
        if (SyncInterval <= TimeSpan.Zero) throw new ArgumentException("tenancy.sync-interval: must be positive");
        if (SeriesLimitShare is not (> 0 and <= 1)) throw new ArgumentException($"the series limit share {SeriesLimitShare} must be above 0 and at most 1");
    }

    public string WorkspaceArn(string workspaceId) => $"arn:aws:aps:{Region}:{Account}:workspace/{workspaceId}";

    /// <summary>AMP's ARN of a rule groups namespace.</summary>
    public string RuleGroupsNamespaceArn(string workspaceId, string name) => $"arn:aws:aps:{Region}:{Account}:rulegroupsnamespace/{workspaceId}/{name}";

    /// <summary>Alertmanager's <c>amtool</c>, which checks Alertmanager definitions; null looks it up on the PATH at each check
    /// (Debian's prometheus-alertmanager package installs it).</summary>
    public string? AmtoolPath { get; set; }

    /// <summary>The Alertmanager executable this deployment runs the workspaces' Alertmanagers with
    /// (<c>--alertmanager.binary</c>, else <c>alertmanager</c> or <c>prometheus-alertmanager</c> on the PATH); null when
    /// there is none, and then creating or changing an Alertmanager definition is refused with 503 naming the option.</summary>
    public string? AlertmanagerBinary { get; set; } = Rules.AlertmanagerBinary.OnPath();
}
