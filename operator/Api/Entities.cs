using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Amphora.Operator.Api;

/// <summary>The API group and version of Amphora's custom resources (crds/ holds their schemas).</summary>
public static class AmphoraApi
{
    public const string Group = "amphora.dev";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;

    /// <summary>The finalizer every resource the operator provisions for carries until its cleanup ran.</summary>
    public const string Finalizer = "amphora.dev/cleanup";

    /// <summary>Annotation recording the Amphora workspace id on a Workspace (besides its status).</summary>
    public const string WorkspaceIdAnnotation = "amphora.dev/workspace-id";

    /// <summary>Labels on every object the operator owns, so cleanup finds them without garbage collection.</summary>
    public const string ManagedByLabel = "app.kubernetes.io/managed-by";
    public const string ManagedBy = "amphora-operator";
    public const string WorkspaceLabel = "amphora.dev/workspace";
    public const string OwnerKindLabel = "amphora.dev/owner-kind";
    public const string OwnerNameLabel = "amphora.dev/owner-name";
    public const string AccessKeyIdAnnotation = "amphora.dev/access-key-id";

    public static string? Annotation(V1ObjectMeta? metadata, string name) =>
        metadata?.Annotations is { } a && a.TryGetValue(name, out var v) ? v : null;
}

/// <summary>What every Amphora custom resource has: metadata, a status with conditions, and its kind's plural.</summary>
public interface IAmphoraResource : IKubernetesObject<V1ObjectMeta>
{
    ResourceStatus? BaseStatus { get; }
}

/// <summary>Status fields every kind shares.</summary>
public class ResourceStatus
{
    [JsonPropertyName("workspaceId")] public string? WorkspaceId { get; set; }
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }
    [JsonPropertyName("conditions")] public List<Condition> Conditions { get; set; } = [];
}

/// <summary>A condition as the Kubernetes API conventions define it (metav1.Condition).</summary>
public sealed class Condition
{
    [JsonPropertyName("type")] public string Type { get; set; } = "";
    [JsonPropertyName("status")] public string Status { get; set; } = "Unknown";
    [JsonPropertyName("observedGeneration")] public long? ObservedGeneration { get; set; }
    [JsonPropertyName("lastTransitionTime")] public DateTime LastTransitionTime { get; set; }
    [JsonPropertyName("reason")] public string Reason { get; set; } = "";
    [JsonPropertyName("message")] public string Message { get; set; } = "";
}

/// <summary>A reference to a Workspace in the same namespace.</summary>
public sealed class WorkspaceRef
{
    [JsonPropertyName("name")] public string Name { get; set; } = "";
}

/// <summary>A list as the API server returns it; <see cref="ListMeta"/> carries the resourceVersion a watch starts from.</summary>
public sealed class ResourceList<T>
{
    [JsonPropertyName("metadata")] public V1ListMeta ListMeta { get; set; } = new();
    [JsonPropertyName("items")] public List<T> Items { get; set; } = [];
}

/// <summary>Base of the typed entities: apiVersion, kind, metadata.</summary>
public abstract class AmphoraResource<TSpec, TStatus> : IAmphoraResource
    where TSpec : new() where TStatus : ResourceStatus, new()
{
    [JsonPropertyName("apiVersion")] public string ApiVersion { get; set; } = AmphoraApi.ApiVersion;
    [JsonPropertyName("kind")] public string Kind { get; set; } = "";
    [JsonPropertyName("metadata")] public V1ObjectMeta Metadata { get; set; } = new();
    [JsonPropertyName("spec")] public TSpec Spec { get; set; } = new();
    [JsonPropertyName("status")] public TStatus? Status { get; set; }

    [JsonIgnore] public ResourceStatus? BaseStatus => Status;
}
