using System.Text.Json.Serialization;

namespace Amphora.Operator.Api;

/// <summary>A Workspace: one Amphora tenant with its configuration and access keys (crds/workspaces.amphora.dev.yaml).</summary>
public sealed class V1Alpha1Workspace : AmphoraResource<WorkspaceSpec, WorkspaceStatus>
{
    public const string KindName = "Workspace";
    public const string Plural = "workspaces";
    public V1Alpha1Workspace() => Kind = KindName;
}

public sealed class WorkspaceSpec
{
    [JsonPropertyName("alias")] public string? Alias { get; set; }
    [JsonPropertyName("tags")] public Dictionary<string, string>? Tags { get; set; }
    [JsonPropertyName("retentionPeriodInDays")] public int? RetentionPeriodInDays { get; set; }
    [JsonPropertyName("outOfOrderTimeWindowInSeconds")] public long? OutOfOrderTimeWindowInSeconds { get; set; }
    [JsonPropertyName("limits")] public WorkspaceLimits? Limits { get; set; }
    [JsonPropertyName("accessKeys")] public List<AccessKeySpec>? AccessKeys { get; set; }
}

public sealed class WorkspaceLimits
{
    [JsonPropertyName("limitsPerLabelSet")] public List<LabelSetLimit>? LimitsPerLabelSet { get; set; }
    [JsonPropertyName("ingestionRate")] public double? IngestionRate { get; set; }
    [JsonPropertyName("ingestionBurstSize")] public long? IngestionBurstSize { get; set; }
    [JsonPropertyName("maxSeries")] public long? MaxSeries { get; set; }
    [JsonPropertyName("maxSeriesPerMetric")] public long? MaxSeriesPerMetric { get; set; }
}

public sealed class LabelSetLimit
{
    [JsonPropertyName("labelSet")] public Dictionary<string, string>? LabelSet { get; set; }
    [JsonPropertyName("maxSeries")] public long MaxSeries { get; set; }
}

public sealed class AccessKeySpec
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("secretName")] public string? SecretName { get; set; }
    [JsonPropertyName("description")] public string? Description { get; set; }
    [JsonPropertyName("actions")] public List<string> Actions { get; set; } = [];
}

public sealed class WorkspaceStatus : ResourceStatus
{
    [JsonPropertyName("arn")] public string? Arn { get; set; }
    [JsonPropertyName("statusCode")] public string? StatusCode { get; set; }
    [JsonPropertyName("prometheusEndpoint")] public string? PrometheusEndpoint { get; set; }
    [JsonPropertyName("remoteWriteURL")] public string? RemoteWriteUrl { get; set; }
    [JsonPropertyName("queryURL")] public string? QueryUrl { get; set; }
    [JsonPropertyName("accessKeys")] public List<AccessKeyStatus>? AccessKeys { get; set; }
}

public sealed class AccessKeyStatus
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
    [JsonPropertyName("accessKeyId")] public string AccessKeyId { get; set; } = "";
    [JsonPropertyName("secretName")] public string SecretName { get; set; } = "";
    [JsonPropertyName("actions")] public List<string> Actions { get; set; } = [];
}
