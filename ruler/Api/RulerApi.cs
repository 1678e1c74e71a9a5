using Amphora.Querier.Api;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Amphora.Ruler.Api;

/// <summary>Where the rules API reads group state: this replica's groups, or every replica's in a cluster.</summary>
public interface IRuleGroupsView
{
    Task<IReadOnlyList<RuleGroupState>> GroupsAsync(string workspace, CancellationToken ct);
}

/// <summary>
/// Prometheus's <c>/api/v1/rules</c> (with <c>type=alert|record</c>) and <c>/api/v1/alerts</c> for a workspace, under
/// <c>/workspaces/{workspaceId}/api/v1</c> and <c>/prometheus/api/v1</c> with <c>X-Scope-OrgID</c>, as the query API. The JSON is
/// Prometheus 2.42's field for field; a group's <c>file</c> is its rule groups namespace.
/// </summary>
public static class RulerApi
{
    /// <summary>The header a ruler sends when it asks a peer for that peer's own groups only.</summary>
    public const string LocalOnlyHeader = "X-Amphora-Ruler-Local";

    /// <param name="peers">The other ruler replicas, asked for their groups so every replica answers for all of them; null when
    /// this replica evaluates every group.</param>
    public static void MapRulerApi(this IEndpointRouteBuilder routes, IRuleGroupsView view, RulerPeers? peers = null)
    {
        foreach (var prefix in new[] { "/prometheus/api/v1", "/workspaces/{workspaceId}/api/v1" })
        {
            Map(routes, prefix + "/rules", async r =>
            {
                var include = RuleType(r);
                var local = await view.GroupsAsync(r.Workspace, r.Aborted);
                return RulesJson(local, include, await FromPeersAsync(peers, r, "rules"));
            });
            Map(routes, prefix + "/alerts", async r => AlertsJson(await view.GroupsAsync(r.Workspace, r.Aborted), await FromPeersAsync(peers, r, "alerts")));
        }
    }

    private static async Task<PeerAnswers?> FromPeersAsync(RulerPeers? peers, ApiRequest r, string endpoint) =>
        peers is null || r.Http.Request.Headers.ContainsKey(LocalOnlyHeader)
            ? null
            : await peers.FetchAsync(r.Workspace, endpoint, r.Get("type"), r.Aborted);

    private static void Map(IEndpointRouteBuilder routes, string pattern, Func<ApiRequest, Task<PromJsonWriter>> handler)
    {
        routes.MapMethods(pattern, ["GET", "POST"], async (HttpContext ctx) =>
        {
            PromJsonWriter body;
            int status = 200;
            try
            {
                body = await handler(await ApiRequest.ReadAsync(ctx));
            }
            catch (ApiException e)
            {
                status = ApiException.HttpStatus(e.Type);
                body = PrometheusApi.ErrorBody(e.Type, e.Message);
            }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
            {
                return;
            }
            ctx.Response.StatusCode = status;
            ctx.Response.ContentType = "application/json";
            await ctx.Response.Body.WriteAsync(body.WrittenMemory, ctx.RequestAborted);
        });
    }

    /// <summary>(alerting, recording) to include; anything but <c>alert</c> or <c>record</c> is refused as Prometheus does.</summary>
    private static (bool Alerting, bool Recording) RuleType(ApiRequest r)
    {
        string type = (r.Get("type") ?? "").ToLowerInvariant();
        if (type is not ("" or "alert" or "record")) throw ApiException.InvalidParam("type", $"not supported value \"{type}\"");
        return (type is "" or "alert", type is "" or "record");
    }

    public static PromJsonWriter RulesJson(IReadOnlyList<RuleGroupState> groups, (bool Alerting, bool Recording) include, PeerAnswers? peers = null)
    {
        // This replica's groups and the peers' (as they wrote them), in Prometheus's order: by file, then name.
        var all = groups.Select(g => (g.Key.Namespace, g.Key.Group, Local: (RuleGroupState?)g, Remote: default(System.Text.Json.JsonElement)))
            .Concat((peers?.Groups ?? []).Select(e => (e.GetProperty("file").GetString() ?? "", e.GetProperty("name").GetString() ?? "",
                Local: (RuleGroupState?)null, Remote: e)))
            .OrderBy(x => x.Item1, StringComparer.Ordinal).ThenBy(x => x.Item2, StringComparer.Ordinal);
        var w = new PromJsonWriter().Raw("{\"status\":\"success\",\"data\":{\"groups\":["u8);
        bool firstGroup = true;
        foreach (var (_, _, g, remote) in all)
        {
            if (!firstGroup) w.Raw(',');
            firstGroup = false;
            if (g is null)
            {
                w.Raw(System.Text.Encoding.UTF8.GetBytes(remote.GetRawText()));
                continue;
            }
            var status = g.Status;
            w.Raw("{\"name\":"u8).String(g.Key.Group).Raw(",\"file\":"u8).String(g.Key.Namespace).Raw(",\"rules\":["u8);
            bool firstRule = true;
            foreach (var rule in g.Rules)
            {
                if (rule is AlertingRuleState ? !include.Alerting : !include.Recording) continue;
                if (!firstRule) w.Raw(',');
                firstRule = false;
                WriteRule(w, rule);
            }
            w.Raw("],\"interval\":"u8).Raw(Ascii(RulerJson.Seconds(g.Interval)))
             .Raw(",\"limit\":"u8).Number(g.Limit)
             .Raw(",\"evaluationTime\":"u8).Raw(Ascii(RulerJson.Seconds(status.EvaluationTime)))
             .Raw(",\"lastEvaluation\":"u8).Time(status.LastEvaluation).Raw('}');
        }
        return End(w.Raw("]}"u8), peers);
    }

    /// <summary>Closes the response, with a <c>warnings</c> array naming the peers that did not answer.</summary>
    private static PromJsonWriter End(PromJsonWriter w, PeerAnswers? peers)
    {
        if (peers is { Warnings.Count: > 0 }) w.Raw(",\"warnings\":"u8).StringArray(peers.Warnings);
        return w.Raw('}');
    }

    private static void WriteRule(PromJsonWriter w, RuleState rule)
    {
        var status = rule.Status;
        var r = rule.Rule;
        var labels = Amphora.Model.Labels.FromUnsorted(r.Labels.Select(l => new Amphora.Model.Label(l.Key, l.Value)));
        if (rule is AlertingRuleState a)
        {
            var alerts = a.Snapshot;
            w.Raw("{\"state\":"u8).String(StateText(a.OverallState)).Raw(",\"name\":"u8).String(r.Name)
             .Raw(",\"query\":"u8).String(r.Parsed.ToString())
             .Raw(",\"duration\":"u8).Raw(Ascii(RulerJson.Seconds(TimeSpan.FromMilliseconds(r.ForMs))))
             .Raw(",\"keepFiringFor\":"u8).Raw(Ascii(RulerJson.Seconds(TimeSpan.FromMilliseconds(r.KeepFiringForMs))))
             .Raw(",\"labels\":"u8).LabelsObject(labels)
             .Raw(",\"annotations\":"u8).LabelsObject(Amphora.Model.Labels.FromUnsorted(r.Annotations.Select(l => new Amphora.Model.Label(l.Key, l.Value))))
             .Raw(",\"alerts\":"u8);
            WriteAlerts(w, alerts, []);
        }
        else
        {
            w.Raw("{\"name\":"u8).String(r.Name).Raw(",\"query\":"u8).String(r.Parsed.ToString());
            if (!labels.IsEmpty) w.Raw(",\"labels\":"u8).LabelsObject(labels);
        }
        w.Raw(",\"health\":"u8).String(status.Health switch { RuleHealth.Ok => "ok", RuleHealth.Err => "err", _ => "unknown" });
        if (!string.IsNullOrEmpty(status.LastError)) w.Raw(",\"lastError\":"u8).String(status.LastError);
        w.Raw(",\"evaluationTime\":"u8).Raw(Ascii(RulerJson.Seconds(status.EvaluationTime)))
         .Raw(",\"lastEvaluation\":"u8).Time(status.LastEvaluation)
         .Raw(",\"type\":"u8).String(rule is AlertingRuleState ? "alerting" : "recording").Raw('}');
    }

    public static PromJsonWriter AlertsJson(IReadOnlyList<RuleGroupState> groups, PeerAnswers? peers = null)
    {
        var all = new List<ActiveAlert>();
        foreach (var g in Sorted(groups))
            foreach (var rule in g.Rules)
                if (rule is AlertingRuleState a) all.AddRange(a.Snapshot);
        var w = new PromJsonWriter().Raw("{\"status\":\"success\",\"data\":{\"alerts\":"u8);
        WriteAlerts(w, all, peers?.Alerts ?? []);
        return End(w.Raw('}'), peers);
    }

    private static void WriteAlerts(PromJsonWriter w, IReadOnlyList<ActiveAlert> alerts, IReadOnlyList<System.Text.Json.JsonElement> remote)
    {
        w.Raw('[');
        for (int i = 0; i < remote.Count; i++)
        {
            if (i > 0) w.Raw(',');
            w.Raw(System.Text.Encoding.UTF8.GetBytes(remote[i].GetRawText()));
        }
        for (int i = 0; i < alerts.Count; i++)
        {
            var a = alerts[i];
            if (i > 0 || remote.Count > 0) w.Raw(',');
            w.Raw("{\"labels\":"u8).LabelsObject(a.Labels).Raw(",\"annotations\":"u8).LabelsObject(a.Annotations)
             .Raw(",\"state\":"u8).String(StateText(a.State)).Raw(",\"activeAt\":"u8).Time(a.ActiveAt);
            if (a.KeepFiringSince != default) w.Raw(",\"keepFiringSince\":"u8).Time(a.KeepFiringSince);
            w.Raw(",\"value\":"u8).String(RulerJson.AlertValue(a.Value)).Raw('}');
        }
        w.Raw(']');
    }

    private static IEnumerable<RuleGroupState> Sorted(IReadOnlyList<RuleGroupState> groups) =>
        groups.OrderBy(g => g.Key.Namespace, StringComparer.Ordinal).ThenBy(g => g.Key.Group, StringComparer.Ordinal);

    private static string StateText(AlertState s) => s switch { AlertState.Firing => "firing", AlertState.Pending => "pending", _ => "inactive" };

    private static byte[] Ascii(string s) => System.Text.Encoding.ASCII.GetBytes(s);
}
