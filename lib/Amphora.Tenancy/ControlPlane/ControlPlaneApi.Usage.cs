using System.Text.Json.Nodes;
using Amphora.Tenancy.Auth;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.ControlPlane;

public static partial class ControlPlaneApi
{
    internal sealed partial class Handlers
    {
        /// <summary>
        /// <c>GET /workspaces/{id}/usage</c>: the workspace's usage figures (see <see cref="WorkspaceUsage"/>), 404 for a
        /// workspace that does not exist (with access keys). Counters count from the answering process's start.
        /// </summary>
        public async Task<Reply> DescribeUsageAsync(HttpContext ctx, IWorkspaceUsageSource source)
        {
            // With --auth=none every valid id is a workspace that takes data (as on the data plane); with keys it must exist.
            string id = RouteValue(ctx, "workspaceId");
            if (TenancyHttp.GetKey(ctx) is not null) id = registry.Describe(id).WorkspaceId;
            var u = await source.UsageAsync(id, ctx.RequestAborted);
            long discarded = u.SamplesDiscarded.Values.Sum();
            var byReason = new JsonObject();
            foreach (var (reason, count) in u.SamplesDiscarded.OrderBy(p => p.Key, StringComparer.Ordinal)) byReason[reason] = count;
            return new Reply(200, new JsonObject
            {
                ["workspaceId"] = id,
                ["scope"] = u.Scope,
                ["samplesReceived"] = u.SamplesReceived,
                ["samplesIngested"] = Math.Max(0, u.SamplesReceived - discarded),
                ["samplesDiscarded"] = discarded,
                ["samplesDiscardedByReason"] = byReason,
                ["activeSeries"] = u.ActiveSeries,
                ["seriesLimit"] = new JsonObject
                {
                    ["maxSeriesPerWorkspace"] = u.MaxSeries,
                    ["use"] = u.MaxSeries > 0 ? Math.Round((double)u.ActiveSeries / u.MaxSeries, 6) : 0,
                },
                ["querySamplesProcessed"] = u.QuerySamplesProcessed,
                ["storedBytes"] = u.StoredBytes,
            });
        }
    }
}
