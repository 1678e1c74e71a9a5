using Amphora.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace Amphora.Querier.Api;

/// <summary>
/// The Prometheus HTTP API (<c>/api/v1/query</c>, <c>query_range</c>, <c>series</c>, <c>labels</c>, <c>label/{name}/values</c>,
/// <c>metadata</c>, <c>status/buildinfo</c>) under <c>/prometheus/api/v1</c> with <c>X-Scope-OrgID</c> and under
/// <c>/workspaces/{workspaceId}/api/v1</c> as in AMP. GET and form-encoded POST. Responses and errors have Prometheus's exact JSON.
/// </summary>
public static class PrometheusApi
{
    public static void MapPrometheusApi(this IEndpointRouteBuilder routes, QuerierService querier)
    {
        var handlers = new PrometheusApiHandlers(querier);
        foreach (var prefix in new[] { "/prometheus/api/v1", "/workspaces/{workspaceId}/api/v1" })
        {
            Map(routes, prefix + "/query", handlers.QueryAsync);
            Map(routes, prefix + "/query_range", handlers.QueryRangeAsync);
            Map(routes, prefix + "/series", handlers.SeriesAsync);
            Map(routes, prefix + "/labels", handlers.LabelsAsync);
            Map(routes, prefix + "/label/{name}/values", handlers.LabelValuesAsync);
            Map(routes, prefix + "/metadata", handlers.MetadataAsync);
            Map(routes, prefix + "/status/buildinfo", handlers.BuildInfoAsync);
        }
    }

    private static void Map(IEndpointRouteBuilder routes, string pattern, Func<ApiRequest, Task<PromJsonWriter>> handler)
    {
        routes.MapMethods(pattern, ["GET", "POST"], async (HttpContext ctx) =>
        {
            PromJsonWriter body;
            int status = 200;
            try
            {
                var request = await ApiRequest.ReadAsync(ctx);
                body = await handler(request);
            }
            catch (ApiException e)
            {
                status = ApiException.HttpStatus(e.Type);
                body = ErrorBody(e.Type, e.Message);
            }
            catch (Amphora.Storage.StorageUnavailableException e)
            {
                status = ApiException.HttpStatus(ApiErrorType.Unavailable);
                body = ErrorBody(ApiErrorType.Unavailable, e.Message);
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

    public static PromJsonWriter ErrorBody(ApiErrorType type, string message) =>
        new PromJsonWriter()
            .Raw("{\"status\":\"error\",\"errorType\":"u8).String(ApiException.TypeText(type))
            .Raw(",\"error\":"u8).String(message).Raw('}');
}

/// <summary>One API request: its workspace and parameters from the query string and a form-encoded body.</summary>
public sealed class ApiRequest
{
    private readonly Dictionary<string, List<string>> _params = new(StringComparer.Ordinal);

    public required string Workspace { get; init; }
    public required HttpContext Http { get; init; }
    public CancellationToken Aborted => Http.RequestAborted;

    public static async Task<ApiRequest> ReadAsync(HttpContext ctx)
    {
        string? workspace = ctx.Request.RouteValues.TryGetValue("workspaceId", out var w) ? w as string : ctx.Request.Headers["X-Scope-OrgID"].ToString();
        if (string.IsNullOrEmpty(workspace))
            throw new ApiException(ApiErrorType.BadData, "no workspace: send the X-Scope-OrgID header, or use /workspaces/{workspaceId}/api/v1/...");
        if (WorkspaceIds.Validate(workspace) is { } invalid)
            throw new ApiException(ApiErrorType.BadData, invalid.Message);
        var request = new ApiRequest { Workspace = workspace, Http = ctx };
        foreach (var (k, v) in ctx.Request.Query)
            request.Add(k, v);
        if (HttpMethods.IsPost(ctx.Request.Method) && ctx.Request.HasFormContentType)
        {
            var form = await ctx.Request.ReadFormAsync(ctx.RequestAborted);
            foreach (var (k, v) in form)
                request.Add(k, v);
        }
        if (ctx.Request.RouteValues.TryGetValue("name", out var name) && name is string n)
            request._params["__route_name"] = [n];
        return request;
    }

    private void Add(string key, Microsoft.Extensions.Primitives.StringValues values)
    {
        if (!_params.TryGetValue(key, out var list)) _params[key] = list = new List<string>();
        foreach (var v in values)
            if (v is not null) list.Add(v);
    }

    /// <summary>The first value of a parameter, or null when absent (Go's FormValue gives "" for absent).</summary>
    public string? Get(string name) => _params.TryGetValue(name, out var l) && l.Count > 0 ? l[0] : null;

    public IReadOnlyList<string> GetAll(string name) => _params.TryGetValue(name, out var l) ? l : [];

    public string RouteName => Get("__route_name") ?? "";
}
