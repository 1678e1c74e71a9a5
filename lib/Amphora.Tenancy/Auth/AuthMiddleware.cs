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
/// credentials (with <c>WWW-Authenticate</c>; an unknown key, a disabled key and a wrong secret or signature get the same
/// answer), 403 for a key without the action or for another workspace, 404 for data sent to a workspace that does not exist;
/// each denial is audited. A SigV4 body is read only once the header, date and key have passed, and only up to the limit of
/// the endpoint it is sent to (413 beyond). A workspace-bound key may omit <c>X-Scope-OrgID</c>: its workspace is filled in.
/// </summary>
public sealed class AuthMiddleware(RequestDelegate next, Authenticator authenticator, AuditLog audit, TenancyOptions options,
    WorkspaceRegistry? registry = null, TimeProvider? time = null)
{
    public const string Challenge = "Basic realm=\"amphora\", charset=\"UTF-8\"";

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
            await DenyAsync(ctx, access with { Workspace = null }, null, 400, invalid.Message, invalid.Message);
            return;
        }

        string rawTarget = ctx.Features.Get<IHttpRequestFeature>()?.RawTarget ?? request.Path.Value ?? "/";
        int q = rawTarget.IndexOf('?');
        var authRequest = new AuthRequest
        {
            Method = request.Method,
            RawPath = q < 0 ? rawTarget : rawTarget[..q],
            RawQuery = q < 0 ? "" : rawTarget[(q + 1)..],
            Headers = request.Headers,
        };
        SignedBody? body = null;
        var originalBody = request.Body;
        try
        {
            AuthResult result;
            if (Authenticator.IsSigV4(request.Headers.Authorization.ToString()))
            {
                var begun = authenticator.BeginSigV4(authRequest);
                if (begun.Failed is { } failed)
                {
                    await DenyAsync(ctx, access, failed.ClaimedKeyId, 401, failed.Reason, failed.PublicReason);
                    return;
                }
                var (limit, setting) = options.SignedBodyLimit(access.Plane);
                (body, var outcome) = await SignedBody.ReadAsync(request, limit, options.UnverifiedBodies, ctx.RequestAborted);
                if (outcome == SignedBodyRead.TooLarge)
                {
                    string tooLarge = $"request body larger than {limit} bytes, the limit of this endpoint (set by {setting})";
                    await DenyAsync(ctx, access, begun.Pending!.KeyId, 413, tooLarge, tooLarge);
                    return;
                }
                if (outcome == SignedBodyRead.Busy)
                {
                    string busy = $"too many SigV4-signed bodies being read at once: {options.UnverifiedBodies.MaxBytes} bytes are held " +
                                  "for signatures not yet checked (auth.sigv4-max-unverified-bytes); retry later";
                    ctx.Response.Headers.RetryAfter = "1";
                    await DenyAsync(ctx, access, begun.Pending!.KeyId, 503, busy, busy);
                    return;
                }
                result = authenticator.CompleteSigV4(begun.Pending!, body!.Sha256Hex());
                if (result.Succeeded) body.Verified();
                request.Body = body.AsStream();
            }
            else result = authenticator.Authenticate(authRequest);

            if (!result.Succeeded)
            {
                await DenyAsync(ctx, access, result.ClaimedKeyId, 401, result.Reason, result.PublicReason);
                return;
            }
            await AuthorizeAndRunAsync(ctx, access, result.Key!);
        }
        finally
        {
            request.Body = originalBody;
            body?.Dispose();
        }
    }

    private async Task AuthorizeAndRunAsync(HttpContext ctx, RequiredAccess access, AccessKeyInfo key)
    {
        if (access.Workspace is null && access.Plane is ApiPlane.RemoteWrite or ApiPlane.Query && key.WorkspaceId is not null)
        {
            ctx.Request.Headers[RequestActions.OrgIdHeader] = key.WorkspaceId;
            access = access with { Workspace = key.WorkspaceId };
        }
        if (!Authorizer.IsAllowed(key, access, out string reason))
        {
            await DenyAsync(ctx, access, key.AccessKeyId, 403, reason, reason);
            return;
        }
        if (registry is not null && access.Plane is ApiPlane.RemoteWrite or ApiPlane.Query && access.Workspace is not null
            && !registry.AcceptsData(access.Workspace))
        {
            string missing = $"workspace {access.Workspace} not found or not active";
            await DenyAsync(ctx, access, key.AccessKeyId, 404, missing, missing);
            return;
        }
        TenancyHttp.SetKey(ctx, key);
        await next(ctx);
    }

    /// <summary>Audits the denial with its full reason and answers with <paramref name="publicReason"/>.</summary>
    private Task DenyAsync(HttpContext ctx, RequiredAccess access, string? keyId, int status, string reason, string publicReason)
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
        if (status == 401) ctx.Response.Headers.WWWAuthenticate = Challenge;
        return TenancyErrors.WriteAsync(ctx, access.Plane, status, publicReason);
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
