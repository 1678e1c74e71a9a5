using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Amphora.Querier.Api;

/// <summary>
/// The Prometheus HTTP API (<c>/api/v1/query</c>, <c>query_range</c>, <c>series</c>, <c>labels</c>, <c>label/{name}/values</c>,
/// <c>metadata</c>, <c>status/buildinfo</c>, <c>status/tsdb</c>; Mimir's <c>cardinality/label_names</c> and <c>label_values</c>) under <c>/prometheus/api/v1</c> with <c>X-Scope-OrgID</c> and under
/// <c>/workspaces/{workspaceId}/api/v1</c> as in AMP. GET and form-encoded POST. Responses and errors have Prometheus's exact JSON.
/// </summary>
public static partial class PrometheusApi
{
    /// <param name="frontend">When set, instant and range queries go through the query frontend (split, cached, fairly queued).</param>
    /// <param name="trustsFrontend">Whether a request comes from a <c>--target=query-frontend</c> (an admin key): its
    /// <see cref="Frontend.HttpQueryBackend.SlotHeldHeader"/> is then honoured and it is evaluated directly, the frontend
    /// having queued, split and limited it already.</param>
    public static void MapPrometheusApi(this IEndpointRouteBuilder routes, QuerierService querier, Frontend.QueryFrontend? frontend = null,
        Func<HttpContext, bool>? trustsFrontend = null)
    {
        var handlers = new PrometheusApiHandlers(querier, frontend, trustsFrontend);
        foreach (var prefix in new[] { "/prometheus/api/v1", "/workspaces/{workspaceId}/api/v1" })
        {
            Map(routes, prefix + "/query", handlers.QueryAsync);
            Map(routes, prefix + "/query_range", handlers.QueryRangeAsync);
            Map(routes, prefix + "/query_exemplars", handlers.QueryExemplarsAsync);
            Map(routes, prefix + "/series", handlers.SeriesAsync);
            Map(routes, prefix + "/labels", handlers.LabelsAsync);
            Map(routes, prefix + "/label/{name}/values", handlers.LabelValuesAsync);
            Map(routes, prefix + "/metadata", handlers.MetadataAsync);
            Map(routes, prefix + "/status/buildinfo", handlers.BuildInfoAsync);
            Map(routes, prefix + "/status/tsdb", handlers.TsdbStatusAsync);
            Map(routes, prefix + "/cardinality/label_names", handlers.CardinalityLabelNamesAsync);
            Map(routes, prefix + "/cardinality/label_values", handlers.CardinalityLabelValuesAsync);
        }
    }

    /// <summary>
    /// The API of a <c>--target=query-frontend</c>: <c>query</c> and <c>query_range</c> through the frontend (parameters checked
    /// here as the querier checks them), every other endpoint passed on to the queriers by <paramref name="forward"/>.
    /// </summary>
    public static void MapQueryFrontendApi(this IEndpointRouteBuilder routes, Frontend.QueryFrontend frontend, RequestDelegate forward)
    {
        var handlers = new PrometheusApiHandlers(null, frontend, null);
        foreach (var prefix in new[] { "/prometheus/api/v1", "/workspaces/{workspaceId}/api/v1" })
        {
            Map(routes, prefix + "/query", handlers.QueryAsync);
            Map(routes, prefix + "/query_range", handlers.QueryRangeAsync);
            routes.MapMethods(prefix + "/{**rest}", ["GET", "POST"], forward);
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
            catch (BadHttpRequestException e)
            {
                // Kestrel's own refusal of a malformed or truncated request body.
                status = e.StatusCode;
                body = ErrorBody(ApiErrorType.BadData, e.Message);
            }
            catch (OperationCanceledException) when (ctx.RequestAborted.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // A bug, never the client's fault: answered in Prometheus's shape instead of an empty 500, and logged once here.
                if (ctx.RequestServices.GetService<ILoggerFactory>() is { } logs)
                    LogUnhandled(logs.CreateLogger(typeof(PrometheusApi)), e, ctx.Request.Method, ctx.Request.Path.Value ?? "");
                status = ApiException.HttpStatus(ApiErrorType.Internal);
                body = ErrorBody(ApiErrorType.Internal, $"internal error: {e.Message}");
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Unhandled error answering {Method} {Path} (answered 500 internal)")]
    private static partial void LogUnhandled(ILogger logger, Exception e, string method, string path);
}
