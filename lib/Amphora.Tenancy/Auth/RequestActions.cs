using Amphora.Tenancy.Keys;

namespace Amphora.Tenancy.Auth;

/// <summary>Which API a request belongs to; it decides the shape of error bodies.</summary>
public enum ApiPlane { Public, RemoteWrite, Query, ControlPlane, Other }

/// <summary>
/// The action and workspace a request needs, as AMP maps them. <see cref="Workspace"/> null with <see cref="NeedsAllWorkspaces"/>
/// means the operation is not about one workspace (create, list); <see cref="Action"/> null on a non-public route means only a
/// key holding <c>aps:*</c> may call it.
/// </summary>
public sealed record RequiredAccess(ApiPlane Plane, string? Action, string? Workspace, bool NeedsAllWorkspaces = false)
{
    public static readonly RequiredAccess Public = new(ApiPlane.Public, null, null);
}

public static class RequestActions
{
    public const string OrgIdHeader = "X-Scope-OrgID";

    /// <summary>Maps method and decoded path (plus the X-Scope-OrgID value) to the access it requires.</summary>
    public static RequiredAccess Resolve(string method, string path, string? orgId)
    {
        var s = path.Trim('/').Split('/');
        if (s.Length == 1 && s[0] is "ready" or "metrics" or "" or "favicon.ico") return RequiredAccess.Public;
        if (s.Length == 3 && s[0] == "api" && s[1] == "v1" && s[2] == "push")
            return new RequiredAccess(ApiPlane.RemoteWrite, method == "POST" ? ApsActions.RemoteWrite : null, Empty(orgId));
        if (s.Length == 3 && s[0] == "otlp" && s[1] == "v1" && s[2] == "metrics")
            return new RequiredAccess(ApiPlane.RemoteWrite, method == "POST" ? ApsActions.RemoteWrite : null, Empty(orgId));
        if (s.Length >= 3 && s[0] == "prometheus" && s[1] == "api" && s[2] == "v1")
            return new RequiredAccess(ApiPlane.Query, QueryAction(s.AsSpan(3)), Empty(orgId));
        if (s[0] == "workspaces")
        {
            if (s.Length == 1)
                return new RequiredAccess(ApiPlane.ControlPlane, method switch
                {
                    "POST" => ApsActions.CreateWorkspace,
                    "GET" => ApsActions.ListWorkspaces,
                    _ => null,
                }, null, NeedsAllWorkspaces: method == "POST");
            string ws = s[1];
            if (s.Length >= 4 && s[2] == "api" && s[3] == "v1")
            {
                if ((s.Length == 5 && s[4] == "remote_write") || (s.Length == 7 && s[4] == "otlp" && s[5] == "v1" && s[6] == "metrics"))
                    return new RequiredAccess(ApiPlane.RemoteWrite, method == "POST" ? ApsActions.RemoteWrite : null, ws);
                return new RequiredAccess(ApiPlane.Query, QueryAction(s.AsSpan(4)), ws);
            }
            string? action = (s.Length, method) switch
            {
                (2, "GET") => ApsActions.DescribeWorkspace,
                (2, "DELETE") => ApsActions.DeleteWorkspace,
                (3, "POST") when s[2] == "alias" => ApsActions.UpdateWorkspaceAlias,
                (3, "GET") when s[2] == "configuration" => ApsActions.DescribeWorkspaceConfiguration,
                (3, "GET") when s[2] == "usage" => ApsActions.DescribeWorkspace,
                (3, "PATCH") when s[2] == "configuration" => ApsActions.UpdateWorkspaceConfiguration,
                (3, "POST") when s[2] == "keys" => ApsActions.CreateAccessKey,
                (3, "GET") when s[2] == "keys" => ApsActions.ListAccessKeys,
                (5, "POST") when s[2] == "keys" && s[4] == "disable" => ApsActions.DisableAccessKey,
                (4, "DELETE") when s[2] == "keys" => ApsActions.DeleteAccessKey,
                (3 or 4, _) when s[2] == "rulegroupsnamespaces" => RuleGroupsNamespaceAction(method, one: s.Length == 4),
                (4, _) when s[2] == "alertmanager" && s[3] == "definition" => AlertManagerDefinitionAction(method),
                (>= 6, _) when s[2] == "alertmanager" && s[3] == "api" && s[4] == "v2" => AlertManagerApiAction(method, s.AsSpan(5)),
                _ => null,
            };
            return new RequiredAccess(ApiPlane.ControlPlane, action, ws);
        }
        if (s[0] == "tags" && s.Length >= 2)
        {
            string arn = Uri.UnescapeDataString(string.Join('/', s[1..]));
            string? ws = ResourceArns.Workspace(arn);
            string? action = method switch
            {
                "POST" => ApsActions.TagResource,
                "GET" => ApsActions.ListTagsForResource,
                "DELETE" => ApsActions.UntagResource,
                _ => null,
            };
            return new RequiredAccess(ApiPlane.ControlPlane, action, ws, NeedsAllWorkspaces: ws is null);
        }
        return new RequiredAccess(ApiPlane.Other, null, null, NeedsAllWorkspaces: true);
    }

    /// <summary><c>/workspaces/{id}/rulegroupsnamespaces</c> (create, list) and <c>.../{name}</c> (describe, put, delete).</summary>
    private static string? RuleGroupsNamespaceAction(string method, bool one) => (method, one) switch
    {
        ("POST", false) => ApsActions.CreateRuleGroupsNamespace,
        ("GET", false) => ApsActions.ListRuleGroupsNamespaces,
        ("GET", true) => ApsActions.DescribeRuleGroupsNamespace,
        ("PUT", true) => ApsActions.PutRuleGroupsNamespace,
        ("DELETE", true) => ApsActions.DeleteRuleGroupsNamespace,
        _ => null,
    };

    private static string? AlertManagerDefinitionAction(string method) => method switch
    {
        "POST" => ApsActions.CreateAlertManagerDefinition,
        "GET" => ApsActions.DescribeAlertManagerDefinition,
        "PUT" => ApsActions.PutAlertManagerDefinition,
        "DELETE" => ApsActions.DeleteAlertManagerDefinition,
        _ => null,
    };

    /// <summary>A workspace's Alertmanager API v2, <c>/workspaces/{id}/alertmanager/api/v2/...</c>, as AMP maps it; any other
    /// path or method there needs <c>aps:*</c> (and is not served).</summary>
    private static string? AlertManagerApiAction(string method, ReadOnlySpan<string> rest) => (method, rest.Length, rest[0]) switch
    {
        ("GET", 1, "alerts") => ApsActions.ListAlertManagerAlerts,
        ("POST", 1, "alerts") => ApsActions.CreateAlertManagerAlerts,
        ("GET", 2, "alerts") when rest[1] == "groups" => ApsActions.ListAlertManagerAlertGroups,
        ("GET", 1, "silences") => ApsActions.ListAlertManagerSilences,
        ("POST", 1, "silences") => ApsActions.PutAlertManagerSilences,
        ("GET", 2, "silence") => ApsActions.GetAlertManagerSilence,
        ("DELETE", 2, "silence") => ApsActions.DeleteAlertManagerSilence,
        ("GET", 1, "status") => ApsActions.GetAlertManagerStatus,
        ("GET", 1, "receivers") => ApsActions.ListAlertManagerReceivers,
        _ => null,
    };

    private static string? QueryAction(ReadOnlySpan<string> rest)
    {
        if (rest.Length == 0) return null;
        return rest[0] switch
        {
            "query" or "query_range" or "query_exemplars" or "format_query" or "parse_query" => ApsActions.QueryMetrics,
            // Cardinality reveals series, as the series API does.
            "status" when rest.Length == 2 && rest[1] == "tsdb" => ApsActions.GetSeries,
            "cardinality" when rest.Length == 2 && rest[1] is "label_names" or "label_values" => ApsActions.GetSeries,
            "status" => ApsActions.QueryMetrics,
            "series" => ApsActions.GetSeries,
            "labels" => ApsActions.GetLabels,
            "label" when rest.Length == 3 && rest[2] == "values" => ApsActions.GetLabels,
            "metadata" => ApsActions.GetMetricMetadata,
            "rules" when rest.Length == 1 => ApsActions.ListRules,
            "alerts" when rest.Length == 1 => ApsActions.ListAlerts,
            _ => null,
        };
    }

    private static string? Empty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
