using System.Text.Json;
using System.Text.Json.Nodes;
using Amphora.Tenancy.Audit;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Rules;
using Amphora.Tenancy.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Amphora.Tenancy.ControlPlane;

/// <summary>
/// The control-plane HTTP API modelled on AMP's: workspaces, their configuration, tags, access keys, rule groups namespaces
/// and Alertmanager definitions. JSON bodies with AMP's
/// camelCase fields; errors as <c>{"message": "..."}</c> with <c>x-amzn-ErrorType</c>. Every call is audited. Authentication
/// and authorization happen before, in <see cref="AuthMiddleware"/>; the handlers only narrow results for workspace-bound keys
/// and stop a key from granting actions it lacks.
/// </summary>
public static partial class ControlPlaneApi
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static void MapControlPlane(this IEndpointRouteBuilder routes, WorkspaceRegistry registry, KeyStore keys, RulesRegistry rules,
        AuditLog audit, TimeProvider? time = null, IWorkspaceUsageSource? usage = null)
    {
        var api = new Handlers(registry, keys, rules, audit, time ?? TimeProvider.System);
        routes.MapPost("/workspaces", ctx => api.Run(ctx, ApsActions.CreateWorkspace, null, api.CreateWorkspaceAsync));
        routes.MapGet("/workspaces", ctx => api.Run(ctx, ApsActions.ListWorkspaces, null, api.ListWorkspacesAsync));
        routes.MapGet("/workspaces/{workspaceId}", ctx => api.Run(ctx, ApsActions.DescribeWorkspace, Ws(ctx), api.DescribeWorkspaceAsync));
        routes.MapDelete("/workspaces/{workspaceId}", ctx => api.Run(ctx, ApsActions.DeleteWorkspace, Ws(ctx), api.DeleteWorkspaceAsync));
        routes.MapPost("/workspaces/{workspaceId}/alias", ctx => api.Run(ctx, ApsActions.UpdateWorkspaceAlias, Ws(ctx), api.UpdateAliasAsync));
        routes.MapGet("/workspaces/{workspaceId}/configuration", ctx =>
            api.Run(ctx, ApsActions.DescribeWorkspaceConfiguration, Ws(ctx), api.DescribeConfigurationAsync));
        routes.MapMethods("/workspaces/{workspaceId}/configuration", ["PATCH"], ctx =>
            api.Run(ctx, ApsActions.UpdateWorkspaceConfiguration, Ws(ctx), api.UpdateConfigurationAsync));
        routes.MapPost("/tags/{**resourceArn}", ctx => api.Run(ctx, ApsActions.TagResource, null, api.TagResourceAsync));
        routes.MapGet("/tags/{**resourceArn}", ctx => api.Run(ctx, ApsActions.ListTagsForResource, null, api.ListTagsAsync));
        routes.MapDelete("/tags/{**resourceArn}", ctx => api.Run(ctx, ApsActions.UntagResource, null, api.UntagResourceAsync));
        routes.MapPost("/workspaces/{workspaceId}/keys", ctx => api.Run(ctx, ApsActions.CreateAccessKey, Ws(ctx), api.CreateKeyAsync));
        routes.MapGet("/workspaces/{workspaceId}/keys", ctx => api.Run(ctx, ApsActions.ListAccessKeys, Ws(ctx), api.ListKeysAsync));
        routes.MapPost("/workspaces/{workspaceId}/keys/{keyId}/disable", ctx => api.Run(ctx, ApsActions.DisableAccessKey, Ws(ctx), api.DisableKeyAsync));
        routes.MapDelete("/workspaces/{workspaceId}/keys/{keyId}", ctx => api.Run(ctx, ApsActions.DeleteAccessKey, Ws(ctx), api.DeleteKeyAsync));
        const string namespaces = "/workspaces/{workspaceId}/rulegroupsnamespaces";
        routes.MapPost(namespaces, ctx => api.Run(ctx, ApsActions.CreateRuleGroupsNamespace, Ws(ctx), api.CreateNamespaceAsync));
        routes.MapGet(namespaces, ctx => api.Run(ctx, ApsActions.ListRuleGroupsNamespaces, Ws(ctx), api.ListNamespacesAsync));
        routes.MapGet(namespaces + "/{name}", ctx => api.Run(ctx, ApsActions.DescribeRuleGroupsNamespace, Ws(ctx), api.DescribeNamespaceAsync));
        routes.MapPut(namespaces + "/{name}", ctx => api.Run(ctx, ApsActions.PutRuleGroupsNamespace, Ws(ctx), api.PutNamespaceAsync));
        routes.MapDelete(namespaces + "/{name}", ctx => api.Run(ctx, ApsActions.DeleteRuleGroupsNamespace, Ws(ctx), api.DeleteNamespaceAsync));
        const string definition = "/workspaces/{workspaceId}/alertmanager/definition";
        routes.MapPost(definition, ctx => api.Run(ctx, ApsActions.CreateAlertManagerDefinition, Ws(ctx), api.CreateAlertManagerDefinitionAsync));
        routes.MapGet(definition, ctx => api.Run(ctx, ApsActions.DescribeAlertManagerDefinition, Ws(ctx), api.DescribeAlertManagerDefinitionAsync));
        routes.MapPut(definition, ctx => api.Run(ctx, ApsActions.PutAlertManagerDefinition, Ws(ctx), api.PutAlertManagerDefinitionAsync));
        routes.MapDelete(definition, ctx => api.Run(ctx, ApsActions.DeleteAlertManagerDefinition, Ws(ctx), api.DeleteAlertManagerDefinitionAsync));
        if (usage is not null)
        {
            Func<HttpContext, Task<Reply>> describeUsage = c => api.DescribeUsageAsync(c, usage);
            routes.MapGet("/workspaces/{workspaceId}/usage", ctx => api.Run(ctx, ApsActions.DescribeWorkspace, Ws(ctx), describeUsage));
        }
    }

    private static string? Ws(HttpContext ctx) => ctx.Request.RouteValues["workspaceId"] as string;

    /// <summary>A handler's answer: status and an optional JSON body.</summary>
    internal readonly record struct Reply(int Status, JsonNode? Body = null);

    internal sealed partial class Handlers(WorkspaceRegistry registry, KeyStore keys, RulesRegistry rules, AuditLog audit, TimeProvider time)
    {
        public async Task Run(HttpContext ctx, string action, string? workspace, Func<HttpContext, Task<Reply>> handler)
        {
            int status;
            string? reason = null;
            try
            {
                // The id in the route is checked before any handler sees it (400 naming the rule, like every other entry point).
                if (workspace is not null && Amphora.Model.WorkspaceIds.Validate(workspace) is { } invalid)
                    throw TenancyException.Validation(invalid.Message);
                var reply = await handler(ctx);
                status = reply.Status;
                ctx.Response.StatusCode = status;
                if (reply.Body is not null)
                {
                    ctx.Response.ContentType = "application/json";
                    await ctx.Response.WriteAsync(reply.Body.ToJsonString(), ctx.RequestAborted);
                }
            }
            catch (TenancyException e)
            {
                status = e.HttpStatus;
                reason = e.Message;
                await TenancyErrors.WriteAmpAsync(ctx, e.HttpStatus, e.TypeName, e.Message);
            }
            catch (Exception e) when (e is JsonException or BadHttpRequestException or InvalidOperationException { Source: "System.Text.Json" })
            {
                status = 400;
                reason = "the request body is not valid JSON for this operation: " + e.Message;
                await TenancyErrors.WriteAmpAsync(ctx, 400, "ValidationException", reason);
            }
            var key = TenancyHttp.GetKey(ctx);
            audit.Record(new AuditEvent
            {
                Time = time.GetUtcNow(),
                KeyId = key?.AccessKeyId,
                Workspace = workspace ?? ArnWorkspace(ctx),
                Action = action,
                SourceAddress = ctx.Connection.RemoteIpAddress?.ToString(),
                Outcome = status < 400 ? "allowed" : "failed",
                Status = status,
                Reason = reason,
                Method = ctx.Request.Method,
                Path = ctx.Request.Path.Value,
            });
        }

        private static string? ArnWorkspace(HttpContext ctx)
        {
            if (ctx.Request.RouteValues["resourceArn"] is not string arn) return null;
            return ResourceArns.Workspace(Uri.UnescapeDataString(arn));
        }

        private static async Task<T> ReadBodyAsync<T>(HttpContext ctx) where T : class
        {
            if (ctx.Request.ContentLength == 0) throw TenancyException.Validation("a JSON request body is required");
            try
            {
                return await JsonSerializer.DeserializeAsync<T>(ctx.Request.Body, Json, ctx.RequestAborted)
                    ?? throw TenancyException.Validation("a JSON request body is required");
            }
            catch (JsonException e)
            {
                throw TenancyException.Validation("the request body is not valid JSON for this operation: " + e.Message);
            }
        }

        private static string RouteValue(HttpContext ctx, string name) => (string)ctx.Request.RouteValues[name]!;
    }
}
