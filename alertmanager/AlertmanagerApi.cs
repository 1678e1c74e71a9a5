using Amphora.Tenancy.Auth;
using Amphora.Tenancy.State;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Amphora.Alertmanager;

/// <summary>
/// Serves each workspace's Alertmanager API v2 at <c>/workspaces/{id}/alertmanager/api/v2/...</c> by passing the request to
/// that workspace's process. Authentication and AMP's actions are checked before (<see cref="AuthMiddleware"/>), so a key
/// reaches only its workspace's Alertmanager. Only AMP's operations are passed on: <c>alerts</c> (GET, POST),
/// <c>alerts/groups</c>, <c>silences</c> (GET, POST), <c>silence/{id}</c> (GET, DELETE), <c>status</c> and
/// <c>receivers</c>. A workspace without a definition is a 404, one whose process is not running a 503, in AMP's error shape.
/// </summary>
public static class AlertmanagerApi
{
    public const string Route = "/workspaces/{workspaceId}/alertmanager/api/v2/{**rest}";

    private static readonly string[] RequestHeaders = ["Accept", "Content-Type"];

    /// <param name="audit">Where changes of silences (POST <c>silences</c>, DELETE <c>silence/{id}</c>) are recorded, as
    /// control-plane calls are; alerts are not, as the ruler posts them at every evaluation.</param>
    public static void MapAlertmanagerApi(this IEndpointRouteBuilder app, AlertmanagerSupervisor supervisor, TenancyStore store,
        Amphora.Tenancy.Audit.AuditLog? audit = null) =>
        app.Map(Route, async ctx =>
        {
            await ProxyAsync(ctx, supervisor, store).ConfigureAwait(false);
            if (audit is not null && SilenceChange(ctx.Request.Method, (string?)ctx.Request.RouteValues["rest"] ?? "") is { } action)
                Audit(ctx, audit, action);
        });

    private static string? SilenceChange(string method, string rest) => (method, rest.Trim('/').Split('/')[0]) switch
    {
        ("POST", "silences") => Amphora.Tenancy.Keys.ApsActions.PutAlertManagerSilences,
        ("DELETE", "silence") => Amphora.Tenancy.Keys.ApsActions.DeleteAlertManagerSilence,
        _ => null,
    };

    private static void Audit(HttpContext ctx, Amphora.Tenancy.Audit.AuditLog audit, string action)
    {
        int status = ctx.Response.StatusCode;
        audit.Record(new Amphora.Tenancy.Audit.AuditEvent
        {
            Time = DateTimeOffset.UtcNow,
            KeyId = TenancyHttp.GetKey(ctx)?.AccessKeyId,
            Workspace = (string?)ctx.Request.RouteValues["workspaceId"],
            Action = action,
            SourceAddress = ctx.Connection.RemoteIpAddress?.ToString(),
            Outcome = status < 400 ? "allowed" : "failed",
            Status = status,
            Method = ctx.Request.Method,
            Path = ctx.Request.Path.Value,
        });
    }

    /// <summary>Whether AMP serves <paramref name="method"/> on <c>api/v2/</c><paramref name="rest"/>.</summary>
    internal static bool IsServed(string method, string rest)
    {
        var s = rest.Trim('/').Split('/');
        return (method, s.Length, s[0]) switch
        {
            ("GET" or "POST", 1, "alerts" or "silences") => true,
            ("GET", 2, "alerts") => s[1] == "groups",
            ("GET" or "DELETE", 2, "silence") => s[1].Length > 0,
            ("GET", 1, "status" or "receivers") => true,
            _ => false,
        };
    }

    private static async Task ProxyAsync(HttpContext ctx, AlertmanagerSupervisor supervisor, TenancyStore store)
    {
        string ws = (string)ctx.Request.RouteValues["workspaceId"]!;
        string rest = (string?)ctx.Request.RouteValues["rest"] ?? "";
        if (Amphora.Model.WorkspaceIds.Validate(ws) is { } invalid)
        {
            await TenancyErrors.WriteAmpAsync(ctx, 400, "ValidationException", invalid.Message);
            return;
        }
        if (!IsServed(ctx.Request.Method, rest))
        {
            await TenancyErrors.WriteAmpAsync(ctx, 404, "ResourceNotFoundException",
                $"{ctx.Request.Method} /workspaces/{ws}/alertmanager/api/v2/{rest} is not an operation of the Alertmanager API");
            return;
        }
        if (store.FindWorkspace(ws) is null || store.FindAlertManagerDefinition(ws) is not { } definition)
        {
            await TenancyErrors.WriteAmpAsync(ctx, 404, "ResourceNotFoundException", $"workspace {ws} has no Alertmanager definition");
            return;
        }
        if (supervisor.EndpointFor(ws) is not { } endpoint)
        {
            string why = definition.Status.StatusReason is { } reason ? $" (definition {definition.Status.StatusCode}: {reason})" : "";
            ctx.Response.Headers.RetryAfter = "5";
            await TenancyErrors.WriteAmpAsync(ctx, 503, "ServiceUnavailableException", $"the Alertmanager of workspace {ws} is not running{why}");
            return;
        }
        await ForwardAsync(ctx, supervisor, new Uri(endpoint, $"workspaces/{ws}/alertmanager/api/v2/{rest.TrimStart('/')}{ctx.Request.QueryString}"));
    }

    private static async Task ForwardAsync(HttpContext ctx, AlertmanagerSupervisor supervisor, Uri target)
    {
        using var request = new HttpRequestMessage(new HttpMethod(ctx.Request.Method), target);
        if (ctx.Request.Method is "POST" or "PUT")
        {
            long limit = supervisor.Options.MaxRequestBodyBytes;
            if (await ReadBodyAsync(ctx.Request, limit, ctx.RequestAborted).ConfigureAwait(false) is not { } body)
            {
                await TenancyErrors.WriteAmpAsync(ctx, 413, "ValidationException", $"request body larger than {limit} bytes, the limit of the Alertmanager API");
                return;
            }
            request.Content = new StreamContent(body);
        }
        foreach (string name in RequestHeaders)
        {
            string value = ctx.Request.Headers[name].ToString();
            if (value.Length == 0) continue;
            if (name == "Content-Type") request.Content?.Headers.TryAddWithoutValidation(name, value);
            else request.Headers.TryAddWithoutValidation(name, value);
        }
        HttpResponseMessage response;
        try
        {
            response = await supervisor.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ctx.RequestAborted).ConfigureAwait(false);
        }
        catch (Exception e) when (e is HttpRequestException || (e is TaskCanceledException && !ctx.RequestAborted.IsCancellationRequested))
        {
            await TenancyErrors.WriteAmpAsync(ctx, 503, "ServiceUnavailableException", $"the workspace's Alertmanager did not answer: {e.Message}");
            return;
        }
        using (response)
        {
            ctx.Response.StatusCode = (int)response.StatusCode;
            if (response.Content.Headers.ContentType is { } type) ctx.Response.ContentType = type.ToString();
            await response.Content.CopyToAsync(ctx.Response.Body, ctx.RequestAborted).ConfigureAwait(false);
        }
    }

    /// <summary>The request body, or null as soon as it is longer than <paramref name="limit"/>.</summary>
    private static async Task<MemoryStream?> ReadBodyAsync(HttpRequest request, long limit, CancellationToken ct)
    {
        if (request.ContentLength > limit) return null;
        var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int n;
        while ((n = await request.Body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            if (body.Length + n > limit) return null;
            body.Write(buffer, 0, n);
        }
        body.Position = 0;
        return body;
    }
}
