using System.Text.Json;
using Amphora.Model;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Rules;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.State;

/// <summary>
/// Names and contents of the tenancy objects under <see cref="TenancyStore.Prefix"/> (docs/format/tenancy.md): one JSON
/// object per workspace, per access key, per rule groups namespace and per Alertmanager definition, named by its id. Other
/// names under the prefix are kept as they are (room for limits overrides) and not interpreted.
/// </summary>
public static class TenancyLayout
{
    public const string WorkspacesDir = "workspaces/";
    public const string AccessKeysDir = "access-keys/";
    public const string RuleGroupsNamespacesDir = "rulegroupsnamespaces/";
    public const string AlertManagerDir = "alertmanager/";
    public const string ProbesDir = "probes/";
    /// <summary>The distributors' heartbeats (<see cref="Limits.DistributorCount"/>); never part of the state.</summary>
    public const string DistributorsDir = "distributors/";
    private const string Extension = ".json";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    /// <summary>The object of workspace <paramref name="workspaceId"/>, relative to the prefix.</summary>
    public static string Workspace(string workspaceId) => WorkspacesDir + WorkspaceIds.Require(workspaceId) + Extension;

    /// <summary>The object of access key <paramref name="accessKeyId"/>, relative to the prefix.</summary>
    public static string AccessKey(string accessKeyId)
    {
        if (accessKeyId.Length is 0 or > 128 || !accessKeyId.All(char.IsAsciiLetterOrDigit))
            throw new ArgumentException($"invalid access key id \"{accessKeyId}\": 1 to 128 ASCII letters or digits", nameof(accessKeyId));
        return AccessKeysDir + accessKeyId + Extension;
    }

    /// <summary>The object of rule groups namespace <paramref name="name"/> of workspace <paramref name="workspaceId"/>
    /// (the name must satisfy <see cref="RuleValidation.NamespaceName"/>).</summary>
    public static string RuleGroupsNamespace(string workspaceId, string name) =>
        RuleGroupsNamespacesDir + WorkspaceIds.Require(workspaceId) + "/" + RuleValidation.RequireNamespaceName(name) + Extension;

    /// <summary>The prefix (relative to the tenancy prefix) of every rule groups namespace of a workspace.</summary>
    public static string RuleGroupsNamespacesOf(string workspaceId) => RuleGroupsNamespacesDir + WorkspaceIds.Require(workspaceId) + "/";

    /// <summary>The object of the Alertmanager definition of workspace <paramref name="workspaceId"/>.</summary>
    public static string AlertManagerDefinition(string workspaceId) => AlertManagerDir + WorkspaceIds.Require(workspaceId) + Extension;

    /// <summary>What an object is: a workspace, an access key, a rule groups namespace (id <c>workspace/name</c>), an
    /// Alertmanager definition (id: the workspace), or something this version does not interpret.</summary>
    internal static (TenancyObjectKind Kind, string Id) Classify(string name)
    {
        if (TryIdUnder(name, WorkspacesDir, out string id)) return (TenancyObjectKind.Workspace, id);
        if (TryIdUnder(name, AccessKeysDir, out id)) return (TenancyObjectKind.AccessKey, id);
        if (TryIdUnder(name, AlertManagerDir, out id)) return (TenancyObjectKind.AlertManagerDefinition, id);
        if (name.StartsWith(RuleGroupsNamespacesDir, StringComparison.Ordinal) && name.EndsWith(Extension, StringComparison.Ordinal))
        {
            id = name[RuleGroupsNamespacesDir.Length..^Extension.Length];
            int slash = id.IndexOf('/');
            if (slash > 0 && slash < id.Length - 1 && id.IndexOf('/', slash + 1) < 0) return (TenancyObjectKind.RuleGroupsNamespace, id);
        }
        return (TenancyObjectKind.Other, name);
    }

    private static bool TryIdUnder(string name, string dir, out string id)
    {
        id = "";
        if (!name.StartsWith(dir, StringComparison.Ordinal) || !name.EndsWith(Extension, StringComparison.Ordinal)) return false;
        id = name[dir.Length..^Extension.Length];
        return id.Length > 0 && !id.Contains('/');
    }

    /// <summary>The typed content of an object; <see cref="InvalidDataException"/> naming the object when it is not one.</summary>
    internal static object Parse(string name, TenancyObjectKind kind, string id, byte[] content)
    {
        try
        {
            switch (kind)
            {
                case TenancyObjectKind.Workspace:
                    var ws = JsonSerializer.Deserialize<WorkspaceRecord>(content, Json) ?? throw new JsonException("null");
                    if (ws.WorkspaceId != id) throw new JsonException($"its workspaceId is \"{ws.WorkspaceId}\"");
                    if (WorkspaceIds.Validate(id) is { } invalid) throw new JsonException(invalid.Message);
                    return ws with { Tags = ws.Tags ?? new Dictionary<string, string>(), Configuration = ws.Configuration ?? new() };
                case TenancyObjectKind.AccessKey:
                    var key = JsonSerializer.Deserialize<StoredAccessKey>(content, Json) ?? throw new JsonException("null");
                    if (key.Key?.AccessKeyId != id) throw new JsonException($"its accessKeyId is \"{key.Key?.AccessKeyId}\"");
                    if (string.IsNullOrEmpty(key.SealedSecret)) throw new JsonException("it has no sealedSecret");
                    return key;
                case TenancyObjectKind.RuleGroupsNamespace:
                    var ns = JsonSerializer.Deserialize<RuleGroupsNamespaceRecord>(content, Json) ?? throw new JsonException("null");
                    if ($"{ns.WorkspaceId}/{ns.Name}" != id) throw new JsonException($"it is namespace \"{ns.Name}\" of workspace \"{ns.WorkspaceId}\"");
                    if (RuleValidation.NamespaceName(ns.Name) is { } badName) throw new JsonException(badName);
                    return ns with { Tags = ns.Tags ?? new Dictionary<string, string>(), Status = ns.Status ?? RuleStatus.Active };
                case TenancyObjectKind.AlertManagerDefinition:
                    var am = JsonSerializer.Deserialize<AlertManagerDefinitionRecord>(content, Json) ?? throw new JsonException("null");
                    if (am.WorkspaceId != id) throw new JsonException($"its workspaceId is \"{am.WorkspaceId}\"");
                    return am with { Status = am.Status ?? RuleStatus.Active };
                default:
                    throw new ArgumentOutOfRangeException(nameof(kind), kind, "not a typed tenancy object");
            }
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"tenancy object {name} is not a valid {kind}: {e.Message}", e);
        }
    }

    internal static byte[] Serialize(object value) => JsonSerializer.SerializeToUtf8Bytes(value, value.GetType(), Json);
}

/// <summary>The kinds of tenancy object this version interprets.</summary>
public enum TenancyObjectKind { Workspace, AccessKey, RuleGroupsNamespace, AlertManagerDefinition, Other }
