using System.Text.Json.Serialization;

namespace Amphora.Tenancy.Rules;

/// <summary>AMP's status codes of a rule groups namespace and of an Alertmanager definition (the same set for both).</summary>
public static class RuleStatusCode
{
    public const string Creating = "CREATING";
    public const string Active = "ACTIVE";
    public const string Updating = "UPDATING";
    public const string Deleting = "DELETING";
    public const string CreationFailed = "CREATION_FAILED";
    public const string UpdateFailed = "UPDATE_FAILED";
}

/// <summary>AMP's <c>RuleGroupsNamespaceStatus</c> / <c>AlertManagerDefinitionStatus</c>: a code and, after a failure, why.</summary>
public sealed record RuleStatus(string StatusCode, [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] string? StatusReason = null)
{
    public static readonly RuleStatus Active = new(RuleStatusCode.Active);
    public static readonly RuleStatus Creating = new(RuleStatusCode.Creating);
    public static readonly RuleStatus Updating = new(RuleStatusCode.Updating);
}

/// <summary>
/// One rule groups namespace: a workspace's Prometheus rule file (<see cref="Data"/>, the bytes as given, already validated)
/// under a name unique in the workspace. Stored as <c>tenancy/rulegroupsnamespaces/&lt;workspace&gt;/&lt;name&gt;.json</c>
/// (docs/format/tenancy.md); immutable, replaced whole to change.
/// </summary>
public sealed record RuleGroupsNamespaceRecord
{
    public required string WorkspaceId { get; init; }
    public required string Name { get; init; }
    public string Arn { get; init; } = "";
    public required byte[] Data { get; init; }
    public IReadOnlyDictionary<string, string> Tags { get; init; } = new Dictionary<string, string>();
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ModifiedAt { get; init; }
    public RuleStatus Status { get; init; } = RuleStatus.Active;

    /// <summary>The client token of the create call, for idempotent retries.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientToken { get; init; }
}

/// <summary>
/// A workspace's Alertmanager definition: AMP's YAML with <c>alertmanager_config</c> and optional <c>template_files</c>
/// (<see cref="Data"/>, the bytes as given, already checked by amtool). Stored as <c>tenancy/alertmanager/&lt;workspace&gt;.json</c>.
/// </summary>
public sealed record AlertManagerDefinitionRecord
{
    public required string WorkspaceId { get; init; }
    public required byte[] Data { get; init; }
    public required DateTimeOffset CreatedAt { get; init; }
    public required DateTimeOffset ModifiedAt { get; init; }
    public RuleStatus Status { get; init; } = RuleStatus.Active;

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? ClientToken { get; init; }
}
