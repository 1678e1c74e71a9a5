namespace Amphora.Tenancy.Keys;

/// <summary>
/// AMP's IAM action names. A key grants a list of actions; <c>aps:*</c> grants every action and a trailing <c>*</c> grants
/// the actions with that prefix (<c>aps:Get*</c>), as IAM does. Names compare case-insensitively, as in IAM.
/// </summary>
public static class ApsActions
{
    public const string All = "aps:*";

    public const string RemoteWrite = "aps:RemoteWrite";
    public const string QueryMetrics = "aps:QueryMetrics";
    public const string GetSeries = "aps:GetSeries";
    public const string GetLabels = "aps:GetLabels";
    public const string GetMetricMetadata = "aps:GetMetricMetadata";
    public const string ListRules = "aps:ListRules";
    public const string ListAlerts = "aps:ListAlerts";

    public const string CreateWorkspace = "aps:CreateWorkspace";
    public const string DescribeWorkspace = "aps:DescribeWorkspace";
    public const string ListWorkspaces = "aps:ListWorkspaces";
    public const string UpdateWorkspaceAlias = "aps:UpdateWorkspaceAlias";
    public const string DeleteWorkspace = "aps:DeleteWorkspace";
    public const string DescribeWorkspaceConfiguration = "aps:DescribeWorkspaceConfiguration";
    public const string UpdateWorkspaceConfiguration = "aps:UpdateWorkspaceConfiguration";
    public const string TagResource = "aps:TagResource";
    public const string UntagResource = "aps:UntagResource";
    public const string ListTagsForResource = "aps:ListTagsForResource";

    public const string CreateAccessKey = "aps:CreateAccessKey";
    public const string ListAccessKeys = "aps:ListAccessKeys";
    public const string DisableAccessKey = "aps:DisableAccessKey";
    public const string DeleteAccessKey = "aps:DeleteAccessKey";

    public const string CreateRuleGroupsNamespace = "aps:CreateRuleGroupsNamespace";
    public const string DescribeRuleGroupsNamespace = "aps:DescribeRuleGroupsNamespace";
    public const string ListRuleGroupsNamespaces = "aps:ListRuleGroupsNamespaces";
    public const string PutRuleGroupsNamespace = "aps:PutRuleGroupsNamespace";
    public const string DeleteRuleGroupsNamespace = "aps:DeleteRuleGroupsNamespace";
    public const string CreateAlertManagerDefinition = "aps:CreateAlertManagerDefinition";
    public const string DescribeAlertManagerDefinition = "aps:DescribeAlertManagerDefinition";
    public const string PutAlertManagerDefinition = "aps:PutAlertManagerDefinition";
    public const string DeleteAlertManagerDefinition = "aps:DeleteAlertManagerDefinition";

    // A workspace's Alertmanager API v2 (/workspaces/{id}/alertmanager/api/v2/...).
    public const string CreateAlertManagerAlerts = "aps:CreateAlertManagerAlerts";
    public const string ListAlertManagerAlerts = "aps:ListAlertManagerAlerts";
    public const string ListAlertManagerAlertGroups = "aps:ListAlertManagerAlertGroups";
    public const string ListAlertManagerSilences = "aps:ListAlertManagerSilences";
    public const string GetAlertManagerSilence = "aps:GetAlertManagerSilence";
    public const string PutAlertManagerSilences = "aps:PutAlertManagerSilences";
    public const string DeleteAlertManagerSilence = "aps:DeleteAlertManagerSilence";
    public const string GetAlertManagerStatus = "aps:GetAlertManagerStatus";
    public const string ListAlertManagerReceivers = "aps:ListAlertManagerReceivers";

    /// <summary>Every action a key can be checked for.</summary>
    public static readonly IReadOnlyList<string> Known =
    [
        RemoteWrite, QueryMetrics, GetSeries, GetLabels, GetMetricMetadata, ListRules, ListAlerts,
        CreateWorkspace, DescribeWorkspace, ListWorkspaces, UpdateWorkspaceAlias, DeleteWorkspace,
        DescribeWorkspaceConfiguration, UpdateWorkspaceConfiguration, TagResource, UntagResource, ListTagsForResource,
        CreateAccessKey, ListAccessKeys, DisableAccessKey, DeleteAccessKey,
        CreateRuleGroupsNamespace, DescribeRuleGroupsNamespace, ListRuleGroupsNamespaces, PutRuleGroupsNamespace, DeleteRuleGroupsNamespace,
        CreateAlertManagerDefinition, DescribeAlertManagerDefinition, PutAlertManagerDefinition, DeleteAlertManagerDefinition,
        CreateAlertManagerAlerts, ListAlertManagerAlerts, ListAlertManagerAlertGroups, ListAlertManagerSilences, GetAlertManagerSilence,
        PutAlertManagerSilences, DeleteAlertManagerSilence, GetAlertManagerStatus, ListAlertManagerReceivers,
    ];

    /// <summary>The data-plane actions (what a collector or a dashboard needs).</summary>
    public static readonly IReadOnlyList<string> DataPlane = [RemoteWrite, QueryMetrics, GetSeries, GetLabels, GetMetricMetadata];

    /// <summary>True when the granted pattern covers <paramref name="action"/>.</summary>
    public static bool Covers(string granted, string action)
    {
        if (granted.EndsWith('*'))
            return action.StartsWith(granted.AsSpan(0, granted.Length - 1), StringComparison.OrdinalIgnoreCase);
        return string.Equals(granted, action, StringComparison.OrdinalIgnoreCase);
    }

    public static bool AnyCovers(IReadOnlyList<string> granted, string action)
    {
        for (int i = 0; i < granted.Count; i++)
            if (Covers(granted[i], action)) return true;
        return false;
    }

    /// <summary>Checks that each requested action is known or a pattern covering a known action; returns them normalised.</summary>
    public static List<string> Validate(IReadOnlyList<string>? actions)
    {
        if (actions is null || actions.Count == 0) throw TenancyException.Validation("actions: at least one action is required");
        var result = new List<string>(actions.Count);
        foreach (var a in actions)
        {
            string? normalized = a == All ? All : null;
            foreach (var known in Known)
            {
                if (normalized is not null) break;
                if (string.Equals(known, a, StringComparison.OrdinalIgnoreCase)) normalized = known;
                else if (a.EndsWith('*') && a.StartsWith("aps:", StringComparison.OrdinalIgnoreCase) && Covers(a, known)) normalized = a;
            }
            if (normalized is null)
                throw TenancyException.Validation($"actions: unknown action \"{a}\" (known: aps:*, {string.Join(", ", Known)})");
            if (!result.Contains(normalized)) result.Add(normalized);
        }
        return result;
    }
}
