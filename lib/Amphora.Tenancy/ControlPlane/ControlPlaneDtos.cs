using System.Text.Json.Nodes;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Rules;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.ControlPlane;

// Request bodies (AMP's field names; unknown fields are ignored as AWS does).
internal sealed record CreateWorkspaceBody(string? Alias, Dictionary<string, string>? Tags, string? ClientToken, string? KmsKeyArn);
internal sealed record UpdateAliasBody(string? Alias, string? ClientToken);
internal sealed record UpdateConfigurationBody(string? ClientToken, List<LimitsPerLabelSet>? LimitsPerLabelSet, int? RetentionPeriodInDays,
    long? OutOfOrderTimeWindowInSeconds, WorkspaceLimitSettings? Limits);
internal sealed record TagResourceBody(Dictionary<string, string>? Tags);
internal sealed record CreateKeyBody(List<string>? Actions, string? Description);
internal sealed record CreateRuleGroupsNamespaceBody(string? Name, byte[]? Data, Dictionary<string, string>? Tags, string? ClientToken);
internal sealed record PutDataBody(byte[]? Data, string? ClientToken);

/// <summary>Response shapes of AMP's control plane (restJson1: timestamps as epoch seconds).</summary>
internal static class ControlPlaneJson
{
    public static JsonObject Status(string code) => new() { ["statusCode"] = code };

    public static JsonObject Status(RuleStatus status)
    {
        var o = Status(status.StatusCode);
        if (status.StatusReason is not null) o["statusReason"] = status.StatusReason;
        return o;
    }

    /// <summary>AMP's <c>RuleGroupsNamespaceSummary</c> (the description without <c>data</c>).</summary>
    public static JsonObject NamespaceSummary(RuleGroupsNamespaceRecord ns) => new()
    {
        ["arn"] = ns.Arn,
        ["createdAt"] = Epoch(ns.CreatedAt),
        ["modifiedAt"] = Epoch(ns.ModifiedAt),
        ["name"] = ns.Name,
        ["status"] = Status(ns.Status),
        ["tags"] = Tags(ns.Tags),
    };

    /// <summary>The answer of CreateRuleGroupsNamespace and PutRuleGroupsNamespace.</summary>
    public static JsonObject NamespaceChange(RuleGroupsNamespaceRecord ns) => new()
    {
        ["arn"] = ns.Arn,
        ["name"] = ns.Name,
        ["status"] = Status(ns.Status),
        ["tags"] = Tags(ns.Tags),
    };

    public static JsonObject Tags(IReadOnlyDictionary<string, string> tags)
    {
        var o = new JsonObject();
        foreach (var (k, v) in tags) o[k] = v;
        return o;
    }

    public static double Epoch(DateTimeOffset t) => t.ToUnixTimeMilliseconds() / 1000.0;

    public static JsonObject Summary(WorkspaceRecord ws)
    {
        var o = new JsonObject();
        if (ws.Alias is not null) o["alias"] = ws.Alias;
        o["arn"] = ws.Arn;
        o["createdAt"] = Epoch(ws.CreatedAt);
        o["status"] = Status(ws.Status);
        o["tags"] = Tags(ws.Tags);
        o["workspaceId"] = ws.WorkspaceId;
        return o;
    }

    public static JsonObject Description(WorkspaceRecord ws, string prometheusEndpoint)
    {
        var o = Summary(ws);
        o["prometheusEndpoint"] = prometheusEndpoint;
        return o;
    }

    public static JsonObject Configuration(WorkspaceConfiguration c)
    {
        var limits = new JsonArray();
        foreach (var l in c.LimitsPerLabelSet)
            limits.Add(new JsonObject { ["labelSet"] = Tags(l.LabelSet), ["limits"] = new JsonObject { ["maxSeries"] = l.Limits.MaxSeries } });
        var o = new JsonObject
        {
            ["limitsPerLabelSet"] = limits,
            ["outOfOrderTimeWindowInSeconds"] = c.OutOfOrderTimeWindowInSeconds,
            ["retentionPeriodInDays"] = c.RetentionPeriodInDays,
            ["status"] = Status(WorkspaceStatusCode.Active),
        };
        if (c.Limits is { } own)
        {
            var l = new JsonObject();
            if (own.IngestionRate is { } rate) l["ingestionRate"] = rate;
            if (own.IngestionBurstSize is { } burst) l["ingestionBurstSize"] = burst;
            if (own.MaxSeries is { } series) l["maxSeries"] = series;
            if (own.MaxSeriesPerMetric is { } perMetric) l["maxSeriesPerMetric"] = perMetric;
            o["limits"] = l;
        }
        return o;
    }

    public static JsonObject Key(AccessKeyInfo k)
    {
        var actions = new JsonArray();
        foreach (var a in k.Actions) actions.Add(a);
        var o = new JsonObject
        {
            ["accessKeyId"] = k.AccessKeyId,
            ["workspaceId"] = k.WorkspaceId,
            ["actions"] = actions,
            ["enabled"] = k.Enabled,
            ["createdAt"] = Epoch(k.CreatedAt),
        };
        if (k.Description is not null) o["description"] = k.Description;
        return o;
    }
}
