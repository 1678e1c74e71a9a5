using System.Text.Json.Serialization;

namespace Amphora.Operator.ControlPlane;

/// <summary>Bodies of Amphora's AMP-style control plane (camelCase, AMP's field names).</summary>
public sealed record WorkspaceDescription
{
    [JsonPropertyName("workspaceId")] public string WorkspaceId { get; init; } = "";
    [JsonPropertyName("arn")] public string Arn { get; init; } = "";
    [JsonPropertyName("alias")] public string? Alias { get; init; }
    [JsonPropertyName("status")] public StatusBody Status { get; init; } = new();
    [JsonPropertyName("tags")] public Dictionary<string, string> Tags { get; init; } = [];
    [JsonPropertyName("prometheusEndpoint")] public string? PrometheusEndpoint { get; init; }
}

public sealed record StatusBody
{
    [JsonPropertyName("statusCode")] public string StatusCode { get; init; } = "";
}

public sealed record WorkspaceConfigurationBody
{
    [JsonPropertyName("retentionPeriodInDays")] public int RetentionPeriodInDays { get; init; }
    [JsonPropertyName("outOfOrderTimeWindowInSeconds")] public long OutOfOrderTimeWindowInSeconds { get; init; }
    [JsonPropertyName("limitsPerLabelSet")] public List<LimitsPerLabelSetBody> LimitsPerLabelSet { get; init; } = [];
    /// <summary>The workspace's own ingestion and series limits (Amphora's extension of AMP's configuration).</summary>
    [JsonPropertyName("limits")] public WorkspaceLimitsBody? Limits { get; init; }
}

public sealed record WorkspaceLimitsBody
{
    [JsonPropertyName("ingestionRate")] public double? IngestionRate { get; init; }
    [JsonPropertyName("ingestionBurstSize")] public long? IngestionBurstSize { get; init; }
    [JsonPropertyName("maxSeries")] public long? MaxSeries { get; init; }
    [JsonPropertyName("maxSeriesPerMetric")] public long? MaxSeriesPerMetric { get; init; }
}

public sealed record LimitsPerLabelSetBody
{
    [JsonPropertyName("labelSet")] public Dictionary<string, string> LabelSet { get; init; } = [];
    [JsonPropertyName("limits")] public LabelSetLimitsBody Limits { get; init; } = new();
}

public sealed record LabelSetLimitsBody
{
    [JsonPropertyName("maxSeries")] public long MaxSeries { get; init; }
}

public sealed record AccessKeyBody
{
    [JsonPropertyName("accessKeyId")] public string AccessKeyId { get; init; } = "";
    [JsonPropertyName("workspaceId")] public string? WorkspaceId { get; init; }
    [JsonPropertyName("actions")] public List<string> Actions { get; init; } = [];
    [JsonPropertyName("enabled")] public bool Enabled { get; init; }
    [JsonPropertyName("description")] public string? Description { get; init; }
    [JsonPropertyName("secretAccessKey")] public string? SecretAccessKey { get; init; }
}

/// <summary>The admin credential the operator calls the control plane with: <c>{"accessKeyId", "secretAccessKey"}</c>.</summary>
public sealed record AdminCredentials
{
    [JsonPropertyName("accessKeyId")] public string AccessKeyId { get; init; } = "";
    [JsonPropertyName("secretAccessKey")] public string SecretAccessKey { get; init; } = "";
}

/// <summary>A failed control-plane call: the HTTP status, AMP's error type (<c>x-amzn-ErrorType</c>) and its message.</summary>
public sealed class ControlPlaneException(int status, string? errorType, string message)
    : Exception($"Amphora's control plane answered {status} {errorType}: {message}")
{
    public int Status { get; } = status;
    public string? ErrorType { get; } = errorType;
    public string Detail { get; } = message;
    public bool IsNotFound => Status == 404 && ErrorType is not null and not "UnknownOperationException";
    /// <summary>A route this control plane does not serve: 404/405 with no AMP error type, or AWS's UnknownOperationException.</summary>
    public bool IsUnsupported => Status is 404 or 405 && ErrorType is null or "UnknownOperationException";
    public bool IsValidation => Status == 400;
}
