using Amphora.Tenancy.Audit;
using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Workspaces;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// Authenticates and authorizes every request before routing: public routes (<c>/ready</c>, <c>/metrics</c>) pass; others need
/// a key holding the action of the route (<see cref="RequestActions"/>) and reaching its workspace. 401 for missing or invalid
/// credentials, 403 for a key without the action or for another workspace, 404 for data sent to a workspace that does not
/// exist; each denial is audited. A workspace-bound key may omit <c>X-Scope-OrgID</c>: its workspace is filled in.
/// </summary>
public sealed class AuthMiddleware(RequestDelegate next, Authenticator authenticator, AuditLog audit, TenancyOptions options,
    WorkspaceRegistry? registry = null, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;

    public async Task InvokeAsync(HttpContext ctx)
    {
        var request = ctx.Request;
        string orgId = request.Headers[RequestActions.OrgIdHeader].ToString();
        var access = RequestActions.Resolve(request.Method, request.Path.Value ?? "/", orgId);
        if (access.Plane == ApiPlane.Public) { await next(ctx); return; }
        if (access.Workspace is not null && Amphora.Model.WorkspaceIds.Validate(access.Workspace) is { } invalid)
        {
            // Refused before credentials are even read: such an id never reaches a lookup, a path or the audit log's workspace field.
            await DenyAsync(ctx, access with { Workspace = null }, null, 400, invalid.Message);
            return;
        }

        string rawTarget = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
        int q = rawTarget.IndexOf('?');
        ReadOnlyMemory<byte> body = default;
        if (request.Headers.Authorization.ToString().StartsWith(SigV4.Algorithm, StringComparison.Ordinal))
        {
            var buffered = await BufferBodyAsync(ctx);
            if (buffered is null)
            {
                await DenyAsync(ctx, access, null, 413, $"request body larger than {options.MaxSignedBodyBytes} bytes");
                return;
            }
            body = buffered.Value;
        }
        var result = authenticator.Authenticate(new AuthRequest
        {
            Method = request.Method,
            RawPath = q < 0 ? rawTarget : rawTarget[..q],
            RawQuery = q < 0 ? "" : rawTarget[(q + 1)..],
            Headers = request.Headers,
            Body = body,
        });
        if (!result.Succeeded)
        {
            await DenyAsync(ctx, access, result.ClaimedKeyId, 401, result.Reason);
            return;
        }
        var key = result.Key!;
        if (access.Workspace is null && access.Plane is ApiPlane.RemoteWrite or ApiPlane.Query && key.WorkspaceId is not null)
        {
            request.Headers[RequestActions.OrgIdHeader] = key.WorkspaceId;
            access = access with { Workspace = key.WorkspaceId };
        }
        if (!Authorizer.IsAllowed(key, access, out string reason))
        {
            await DenyAsync(ctx, access, key.AccessKeyId, 403, reason);
            return;
        }
        if (registry is not null && access.Plane is ApiPlane.RemoteWrite or ApiPlane.Query && access.Workspace is not null
            && !registry.AcceptsData(access.Workspace))
        {
            await DenyAsync(ctx, access, key.AccessKeyId, 404, $"workspace {access.Workspace} not found or not active");
            return;
        }
        TenancyHttp.SetKey(ctx, key);
        await next(ctx);
        if (result.Signature is not null && ctx.Response.StatusCode is 429 or >= 500)
            authenticator.Replay.Release(result.Signature);
    }

    private async Task<ReadOnlyMemory<byte>?> BufferBodyAsync(HttpContext ctx)
    {
        var request = ctx.Request;
        if (request.ContentLength > options.MaxSignedBodyBytes) return null;
        request.EnableBuffering();
        using var ms = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ctx.RequestAborted)) > 0)
        {
            ms.Write(buffer, 0, n);
            if (ms.Length > options.MaxSignedBodyBytes) return null;
        }
        request.Body.Position = 0;
        return ms.ToArray();
    }

    private Task DenyAsync(HttpContext ctx, RequiredAccess access, string? keyId, int status, string reason)
    {
        audit.Record(new AuditEvent
        {
            Time = _time.GetUtcNow(),
            KeyId = keyId,
            Workspace = access.Workspace,
            Action = access.Action ?? "unknown",
            SourceAddress = ctx.Connection.RemoteIpAddress?.ToString(),
            Outcome = "denied",
            Status = status,
            Reason = reason,
            Method = ctx.Request.Method,
            Path = ctx.Request.Path.Value,
        });
        return TenancyErrors.WriteAsync(ctx, access.Plane, status, reason);
    }
}

/// <summary>Access to the authenticated key of a request, and the middleware registration.</summary>
public static class TenancyHttp
{
    private static readonly object KeyItem = new();

    public static void SetKey(HttpContext ctx, AccessKeyInfo key) => ctx.Items[KeyItem] = key;

    /// <summary>The key that authenticated the request, or null when authentication is off (<c>--auth=none</c>).</summary>
    public static AccessKeyInfo? GetKey(HttpContext ctx) => ctx.Items.TryGetValue(KeyItem, out var k) ? k as AccessKeyInfo : null;

    /// <summary>Adds <see cref="AuthMiddleware"/>; call it before routing endpoints run (after <c>UseRouting</c> is fine).</summary>
    public static IApplicationBuilder UseAmphoraAuth(this IApplicationBuilder app, Authenticator authenticator, AuditLog audit,
        TenancyOptions options, WorkspaceRegistry? registry = null, TimeProvider? time = null) =>
        app.Use(next => new AuthMiddleware(next, authenticator, audit, options, registry, time).InvokeAsync);
}
