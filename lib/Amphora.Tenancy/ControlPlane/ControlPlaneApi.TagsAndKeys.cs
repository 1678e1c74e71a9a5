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

        public async Task<Reply> TagResourceAsync(HttpContext ctx)
        {
            var body = await ReadBodyAsync<TagResourceBody>(ctx);
            if (body.Tags is null) throw TenancyException.Validation("tags: is required");
            registry.TagResource(Arn(ctx), body.Tags);
            return new Reply(200, new JsonObject());
        }

        public Task<Reply> ListTagsAsync(HttpContext ctx) =>
            Task.FromResult(new Reply(200, new JsonObject { ["tags"] = ControlPlaneJson.Tags(registry.ListTags(Arn(ctx))) }));

        public Task<Reply> UntagResourceAsync(HttpContext ctx)
        {
            var tagKeys = new List<string>();
            foreach (var k in ctx.Request.Query["tagKeys"]) if (k is not null) tagKeys.Add(k);
            registry.UntagResource(Arn(ctx), tagKeys);
            return Task.FromResult(new Reply(200, new JsonObject()));
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
            var created = keys.Create(ws.WorkspaceId, actions, body.Description);
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

        public Task<Reply> DisableKeyAsync(HttpContext ctx)
        {
            var key = keys.SetEnabled(KeyOfWorkspace(ctx).AccessKeyId, enabled: false);
            return Task.FromResult(new Reply(200, ControlPlaneJson.Key(key)));
        }

        public Task<Reply> DeleteKeyAsync(HttpContext ctx)
        {
            keys.Delete(KeyOfWorkspace(ctx).AccessKeyId);
            return Task.FromResult(new Reply(204));
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
