using System.Text.Json.Nodes;
using Amphora.Tenancy.Auth;
using Amphora.Tenancy.Keys;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.ControlPlane;

// TagResource, ListTagsForResource, UntagResource, and the access-key API.
public static partial class ControlPlaneApi
{
    internal sealed partial class Handlers
    {
        private static string Arn(HttpContext ctx) => Uri.UnescapeDataString(RouteValue(ctx, "resourceArn"));

        // A workspace's ARN or a rule groups namespace's, as AMP tags both.
        public async Task<Reply> TagResourceAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<TagResourceBody>(ctx);
            if (body.Tags is null) throw TenancyException.Validation("tags: is required");
            string arn = Arn(ctx);
            if (ResourceArns.TryNamespace(arn, out string ws, out string name)) await rules.TagNamespaceAsync(arn, ws, name, body.Tags, null, ctx.RequestAborted);
            else await registry.TagResourceAsync(arn, body.Tags, ctx.RequestAborted);
            return new Reply(200, new JsonObject());
        }

        public Task<Reply> ListTagsAsync(HttpContext ctx)
        {
            string arn = Arn(ctx);
            var tags = ResourceArns.TryNamespace(arn, out string ws, out string name) ? rules.NamespaceByArn(arn, ws, name).Tags : registry.ListTags(arn);
            return Task.FromResult(new Reply(200, new JsonObject { ["tags"] = ControlPlaneJson.Tags(tags) }));
        }

        public async Task<Reply> UntagResourceAsync(HttpContext ctx)
        {
            var tagKeys = new List<string>();
            foreach (var k in ctx.Request.Query["tagKeys"]) if (k is not null) tagKeys.Add(k);
            string arn = Arn(ctx);
            if (ResourceArns.TryNamespace(arn, out string ws, out string name)) await rules.TagNamespaceAsync(arn, ws, name, null, tagKeys, ctx.RequestAborted);
            else await registry.UntagResourceAsync(arn, tagKeys, ctx.RequestAborted);
            return new Reply(200, new JsonObject());
        }

        public async Task<Reply> CreateKeyAsync(HttpContext ctx)
        {
            var ws = registry.Describe(RouteValue(ctx, "workspaceId"));
            if (!ws.IsActive) throw TenancyException.Conflict($"workspace {ws.WorkspaceId} is {ws.Status}; keys can be created only when ACTIVE");
            var body = await ReadBodyAsync<CreateKeyBody>(ctx);
            var actions = ApsActions.Validate(body.Actions);
            var caller = TenancyHttp.GetKey(ctx);
            if (caller is not null)
            {
                foreach (var a in actions)
                {
                    bool covered = a.EndsWith('*') ? caller.Actions.Contains(ApsActions.All) || caller.Actions.Contains(a) : caller.Allows(a);
                    if (!covered)
                        throw new TenancyException(TenancyErrorKind.AccessDenied, $"access key {caller.AccessKeyId} cannot grant {a}, which it does not hold");
                }
            }
            var created = await keys.CreateAsync(ws.WorkspaceId, actions, body.Description, ctx.RequestAborted);
            var reply = ControlPlaneJson.Key(created.Key);
            reply["secretAccessKey"] = created.SecretAccessKey;
            return new Reply(201, reply);
        }

        public Task<Reply> ListKeysAsync(HttpContext ctx)
        {
            var ws = registry.Describe(RouteValue(ctx, "workspaceId"));
            var array = new JsonArray();
            foreach (var k in keys.List(ws.WorkspaceId)) array.Add(ControlPlaneJson.Key(k));
            return Task.FromResult(new Reply(200, new JsonObject { ["accessKeys"] = array }));
        }

        public async Task<Reply> DisableKeyAsync(HttpContext ctx)
        {
            var key = await keys.SetEnabledAsync(KeyOfWorkspace(ctx).AccessKeyId, enabled: false, ctx.RequestAborted);
            return new Reply(200, ControlPlaneJson.Key(key));
        }

        public async Task<Reply> DeleteKeyAsync(HttpContext ctx)
        {
            await keys.DeleteAsync(KeyOfWorkspace(ctx).AccessKeyId, ctx.RequestAborted);
            return new Reply(204);
        }

        private AccessKeyInfo KeyOfWorkspace(HttpContext ctx)
        {
            string ws = RouteValue(ctx, "workspaceId"), id = RouteValue(ctx, "keyId");
            var key = keys.Find(id);
            if (key is null || key.WorkspaceId != ws) throw TenancyException.NotFound($"access key {id} not found in workspace {ws}");
            return key;
        }
    }
}
