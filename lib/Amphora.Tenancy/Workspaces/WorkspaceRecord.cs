using System.Text.Json.Serialization;

namespace Amphora.Tenancy.Workspaces;

/// <summary>AMP's workspace status codes.</summary>
public static class WorkspaceStatusCode
{
    public const string Creating = "CREATING";
    public const string Active = "ACTIVE";
    public const string Updating = "UPDATING";
    public const string Deleting = "DELETING";
    public const string CreationFailed = "CREATION_FAILED";
}

/// <summary>
/// One workspace as persisted in <c>workspaces.json</c> (camelCase, AMP's field names). Immutable: the registry replaces a
/// record to change it, so a reader may keep a reference without locking.
/// </summary>
public sealed record WorkspaceRecord
{
    public required string WorkspaceId { get; init; }
    public string Arn { get; init; } = "";
    public string? Alias { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public required DateTimeOffset CreatedAt { get; init; }
    public string Status { get; init; } = WorkspaceStatusCode.Creating;
    public WorkspaceConfiguration Configuration { get; init; } = new();

    /// <summary>The client token of the create call, for idempotent retries.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientToken { get; init; }

    public bool IsActive => Status == WorkspaceStatusCode.Active;
}

/// <summary>A workspace's configuration (AMP's <c>WorkspaceConfigurationDescription</c> without the status).</summary>
public sealed record WorkspaceConfiguration
{
    public const int DefaultRetentionPeriodInDays = 150;
    public const int MinRetentionPeriodInDays = 1;
    public const int MaxRetentionPeriodInDays = 1095;

    public int RetentionPeriodInDays { get; init; } = DefaultRetentionPeriodInDays;
    public IReadOnlyList<LimitsPerLabelSet> LimitsPerLabelSet { get; init; } = [];

    /// <summary>How far behind the newest sample of a series a sample may be and still be accepted; 0 = in order only.</summary>
    public long OutOfOrderTimeWindowInSeconds { get; init; }

    /// <summary>The workspace's own ingestion and series limits (an Amphora extension of AMP's configuration); null or a null
    /// field keeps the service's default. The limits overrides file, set by whoever runs the service, still wins.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public WorkspaceLimitSettings? Limits { get; init; }
}

/// <summary>A workspace's own limits, set through the control plane: samples per second and burst, active series in all and
/// per metric name.</summary>
public sealed record WorkspaceLimitSettings
{
    public double? IngestionRate { get; init; }
    public long? IngestionBurstSize { get; init; }
    public long? MaxSeries { get; init; }
    public long? MaxSeriesPerMetric { get; init; }
}

/// <summary>An active-series limit for the series whose labels include every pair of <see cref="LabelSet"/> (AMP's shape).
/// An empty label set is the default bucket: series that match no other label set.</summary>
public sealed record LimitsPerLabelSet
{
    public IReadOnlyDictionary<string, string> LabelSet { get; init; } = new Dictionary<string, string>();
    public LabelSetLimits Limits { get; init; } = new();
}

public sealed record LabelSetLimits
{
    public long MaxSeries { get; init; }
}
