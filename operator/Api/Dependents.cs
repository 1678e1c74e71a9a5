using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace Amphora.Operator.Api;

/// <summary>A resource that belongs to a Workspace in its namespace.</summary>
public interface IWorkspaceDependent : IAmphoraResource
{
    string WorkspaceName { get; }
}

/// <summary>A Prometheus rule file stored in a workspace (crds/rulegroupsnamespaces.amphora.dev.yaml).</summary>
public sealed class V1Alpha1RuleGroupsNamespace : AmphoraResource<RuleGroupsNamespaceSpec, ResourceStatus>, IWorkspaceDependent
{
    public const string KindName = "RuleGroupsNamespace";
    public const string Plural = "rulegroupsnamespaces";
    public V1Alpha1RuleGroupsNamespace() => Kind = KindName;
    [JsonIgnore] public string WorkspaceName => Spec.WorkspaceRef.Name;
}

public sealed class RuleGroupsNamespaceSpec
{
    [JsonPropertyName("workspaceRef")] public WorkspaceRef WorkspaceRef { get; set; } = new();
    [JsonPropertyName("data")] public string Data { get; set; } = "";
}

/// <summary>A workspace's Alertmanager configuration (crds/alertmanagerdefinitions.amphora.dev.yaml).</summary>
public sealed class V1Alpha1AlertManagerDefinition : AmphoraResource<AlertManagerDefinitionSpec, ResourceStatus>, IWorkspaceDependent
{
    public const string KindName = "AlertManagerDefinition";
    public const string Plural = "alertmanagerdefinitions";
    public V1Alpha1AlertManagerDefinition() => Kind = KindName;
    [JsonIgnore] public string WorkspaceName => Spec.WorkspaceRef.Name;
}

public sealed class AlertManagerDefinitionSpec
{
    [JsonPropertyName("workspaceRef")] public WorkspaceRef WorkspaceRef { get; set; } = new();
    [JsonPropertyName("data")] public string Data { get; set; } = "";
}

/// <summary>A scrape collector: Prometheus in agent mode writing into a workspace (crds/scrapers.amphora.dev.yaml).</summary>
public sealed class V1Alpha1Scraper : AmphoraResource<ScraperSpec, ScraperStatus>, IWorkspaceDependent
{
    public const string KindName = "Scraper";
    public const string Plural = "scrapers";
    public V1Alpha1Scraper() => Kind = KindName;
    [JsonIgnore] public string WorkspaceName => Spec.WorkspaceRef.Name;
}

public sealed class ScraperSpec
{
    [JsonPropertyName("workspaceRef")] public WorkspaceRef WorkspaceRef { get; set; } = new();
    [JsonPropertyName("scrapeConfig")] public string ScrapeConfig { get; set; } = "";
    [JsonPropertyName("image")] public string? Image { get; set; }
    [JsonPropertyName("replicas")] public int? Replicas { get; set; }
    [JsonPropertyName("scrapeInterval")] public string? ScrapeInterval { get; set; }
    [JsonPropertyName("resources")] public JsonObject? Resources { get; set; }
}

public sealed class ScraperStatus : ResourceStatus
{
    [JsonPropertyName("configMapName")] public string? ConfigMapName { get; set; }
    [JsonPropertyName("deploymentName")] public string? DeploymentName { get; set; }
    [JsonPropertyName("serviceAccountName")] public string? ServiceAccountName { get; set; }
    [JsonPropertyName("secretName")] public string? SecretName { get; set; }
    [JsonPropertyName("accessKeyId")] public string? AccessKeyId { get; set; }
}
