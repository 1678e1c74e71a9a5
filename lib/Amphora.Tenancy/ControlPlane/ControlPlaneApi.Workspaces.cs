using System.Globalization;
using System.Text.Json.Nodes;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Workspaces;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.ControlPlane;

// CreateWorkspace, DescribeWorkspace, ListWorkspaces, UpdateWorkspaceAlias, DeleteWorkspace and the configuration.
public static partial class ControlPlaneApi
{
    internal sealed partial class Handlers
    {
        public async Task<Reply> CreateWorkspaceAsync(HttpContext ctx)
        {
            var body = ctx.Request.ContentLength is null or > 0 ? await ReadBodyAsync<CreateWorkspaceBody>(ctx) : new CreateWorkspaceBody(null, null, null, null);
            if (body.KmsKeyArn is not null) throw TenancyException.Validation("kmsKeyArn: customer managed keys are not supported");
            var ws = await registry.CreateAsync(body.Alias, body.Tags, body.ClientToken, ct: ctx.RequestAborted);
            return new Reply(202, new JsonObject
            {
                ["arn"] = ws.Arn,
                ["status"] = ControlPlaneJson.Status(ws.Status),
                ["tags"] = ControlPlaneJson.Tags(ws.Tags),
                ["workspaceId"] = ws.WorkspaceId,
            });
        }

        public Task<Reply> DescribeWorkspaceAsync(HttpContext ctx)
        {
            var ws = registry.Describe(RouteValue(ctx, "workspaceId"));
            return Task.FromResult(new Reply(200, new JsonObject
            {
                ["workspace"] = ControlPlaneJson.Description(ws, registry.PrometheusEndpoint(ws.WorkspaceId)),
            }));
        }

        public Task<Reply> ListWorkspacesAsync(HttpContext ctx)
        {
            var query = ctx.Request.Query;
            int? maxResults = MaxResults(ctx);
            string? alias = query.TryGetValue("alias", out var a) ? a.ToString() : null;
            string? token = query.TryGetValue("nextToken", out var t) ? t.ToString() : null;
            var array = new JsonArray();
            string? next;
            var key = TenancyHttp.GetKey(ctx);
            if (key?.WorkspaceId is { } own)
            {
                // A workspace-bound key sees only its own workspace.
                var ws = registry.Find(own);
                if (token is null && ws is not null && (alias is null || ws.Alias?.StartsWith(alias, StringComparison.Ordinal) == true))
                    array.Add(ControlPlaneJson.Summary(ws));
                next = null;
            }
            else
            {
                var (page, nextToken) = registry.List(alias, maxResults, token);
                foreach (var ws in page) array.Add(ControlPlaneJson.Summary(ws));
                next = nextToken;
            }
            var body = new JsonObject { ["workspaces"] = array };
            if (next is not null) body["nextToken"] = next;
            return Task.FromResult(new Reply(200, body));
        }

        /// <summary>The <c>maxResults</c> query parameter of a list call, or null; 400 when it is not a number.</summary>
        private static int? MaxResults(HttpContext ctx)
        {
            if (!ctx.Request.Query.TryGetValue("maxResults", out var mr)) return null;
            return int.TryParse(mr.ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out int m)
                ? m
                : throw TenancyException.Validation($"maxResults: \"{mr}\" is not a number");
        }

        public async Task<Reply> UpdateAliasAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<UpdateAliasBody>(ctx);
            WorkspaceValidation.ClientToken(body.ClientToken);
            await registry.UpdateAliasAsync(RouteValue(ctx, "workspaceId"), body.Alias, ctx.RequestAborted);
            return new Reply(204);
        }

        public async Task<Reply> DeleteWorkspaceAsync(HttpContext ctx)
        {
            string id = RouteValue(ctx, "workspaceId");
            await registry.BeginDeleteAsync(id, ctx.RequestAborted);
            await keys.DeleteForWorkspaceAsync(id, ctx.RequestAborted);
            return new Reply(202);
        }

        public Task<Reply> DescribeConfigurationAsync(HttpContext ctx)
        {
            var config = registry.DescribeConfiguration(RouteValue(ctx, "workspaceId"));
            return Task.FromResult(new Reply(200, new JsonObject { ["workspaceConfiguration"] = ControlPlaneJson.Configuration(config) }));
        }

        public async Task<Reply> UpdateConfigurationAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<UpdateConfigurationBody>(ctx);
            WorkspaceValidation.ClientToken(body.ClientToken);
            // A workspace's own limits are the service's to set, as AMP's quotas are: a key bound to the workspace (its tenant)
            // may change its retention and label-set limits, not raise its ingestion rate or series limits.
            if (body.Limits is not null && TenancyHttp.GetKey(ctx) is { WorkspaceId: not null } key)
                throw TenancyException.AccessDenied(
                    $"access key {key.AccessKeyId} is bound to workspace {key.WorkspaceId}: only a key of every workspace (an admin key) may set a workspace's limits");
            await registry.UpdateConfigurationAsync(RouteValue(ctx, "workspaceId"), body.RetentionPeriodInDays, body.LimitsPerLabelSet,
                body.OutOfOrderTimeWindowInSeconds, ctx.RequestAborted, body.Limits);
            return new Reply(202, new JsonObject { ["status"] = ControlPlaneJson.Status(WorkspaceStatusCode.Updating) });
        }
    }
}
