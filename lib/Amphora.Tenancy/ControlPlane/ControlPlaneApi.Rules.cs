using System.Text.Json.Nodes;
using Amphora.Tenancy.Rules;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.ControlPlane;

// CreateRuleGroupsNamespace, DescribeRuleGroupsNamespace, ListRuleGroupsNamespaces, PutRuleGroupsNamespace,
// DeleteRuleGroupsNamespace and the Alertmanager definition's create, describe, put and delete.
public static partial class ControlPlaneApi
{
    internal sealed partial class Handlers
    {
        private static string Name(HttpContext ctx) => RouteValue(ctx, "name");
        private static string? QueryValue(HttpContext ctx, string name) => ctx.Request.Query.TryGetValue(name, out var v) ? v.ToString() : null;

        public async Task<Reply> CreateNamespaceAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<CreateRuleGroupsNamespaceBody>(ctx);
            var ns = await rules.CreateNamespaceAsync(RouteValue(ctx, "workspaceId"), body.Name, body.Data, body.Tags, body.ClientToken, ctx.RequestAborted);
            return new Reply(202, ControlPlaneJson.NamespaceChange(ns));
        }

        public Task<Reply> DescribeNamespaceAsync(HttpContext ctx)
        {
            var ns = rules.DescribeNamespace(RouteValue(ctx, "workspaceId"), Name(ctx));
            var description = ControlPlaneJson.NamespaceSummary(ns);
            description["data"] = Convert.ToBase64String(ns.Data);
            return Task.FromResult(new Reply(200, new JsonObject { ["ruleGroupsNamespace"] = description }));
        }

        public Task<Reply> ListNamespacesAsync(HttpContext ctx)
        {
            var (page, next) = rules.ListNamespaces(RouteValue(ctx, "workspaceId"), QueryValue(ctx, "name"), MaxResults(ctx), QueryValue(ctx, "nextToken"));
            var array = new JsonArray();
            foreach (var ns in page) array.Add(ControlPlaneJson.NamespaceSummary(ns));
            var body = new JsonObject { ["ruleGroupsNamespaces"] = array };
            if (next is not null) body["nextToken"] = next;
            return Task.FromResult(new Reply(200, body));
        }

        public async Task<Reply> PutNamespaceAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<PutDataBody>(ctx);
            var ns = await rules.PutNamespaceAsync(RouteValue(ctx, "workspaceId"), Name(ctx), body.Data, body.ClientToken, ctx.RequestAborted);
            return new Reply(202, ControlPlaneJson.NamespaceChange(ns));
        }

        public async Task<Reply> DeleteNamespaceAsync(HttpContext ctx)
        {
            await rules.DeleteNamespaceAsync(RouteValue(ctx, "workspaceId"), Name(ctx), QueryValue(ctx, "clientToken"), ctx.RequestAborted);
            return new Reply(202);
        }

        public async Task<Reply> CreateAlertManagerDefinitionAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<PutDataBody>(ctx);
            var am = await rules.CreateAlertManagerDefinitionAsync(RouteValue(ctx, "workspaceId"), body.Data, body.ClientToken, ctx.RequestAborted);
            return new Reply(202, new JsonObject { ["status"] = ControlPlaneJson.Status(am.Status) });
        }

        public Task<Reply> DescribeAlertManagerDefinitionAsync(HttpContext ctx)
        {
            var am = rules.DescribeAlertManagerDefinition(RouteValue(ctx, "workspaceId"));
            return Task.FromResult(new Reply(200, new JsonObject
            {
                ["alertManagerDefinition"] = new JsonObject
                {
                    ["createdAt"] = ControlPlaneJson.Epoch(am.CreatedAt),
                    ["data"] = Convert.ToBase64String(am.Data),
                    ["modifiedAt"] = ControlPlaneJson.Epoch(am.ModifiedAt),
                    ["status"] = ControlPlaneJson.Status(am.Status),
                },
            }));
        }

        public async Task<Reply> PutAlertManagerDefinitionAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<PutDataBody>(ctx);
            var am = await rules.PutAlertManagerDefinitionAsync(RouteValue(ctx, "workspaceId"), body.Data, body.ClientToken, ctx.RequestAborted);
            return new Reply(202, new JsonObject { ["status"] = ControlPlaneJson.Status(am.Status) });
        }

        public async Task<Reply> DeleteAlertManagerDefinitionAsync(HttpContext ctx)
        {
            await rules.DeleteAlertManagerDefinitionAsync(RouteValue(ctx, "workspaceId"), QueryValue(ctx, "clientToken"), ctx.RequestAborted);
            return new Reply(202);
        }
    }
}
