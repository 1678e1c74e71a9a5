using Amphora.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Amphora.Distributor;

/// <summary>
/// The remote write 1.0 HTTP endpoints: <c>POST /api/v1/push</c> (workspace in <c>X-Scope-OrgID</c>, as Cortex and Mimir) and
/// <c>POST /workspaces/{workspaceId}/api/v1/remote_write</c> (as AMP). Checks, in order: workspace, content type, encoding,
/// compressed and decompressed size (the snappy header declares the decompressed length, checked before decompressing),
/// snappy, protobuf; nothing is stored unless the body decodes.
/// </summary>
public static class RemoteWriteEndpoint
{
    public const string OrgIdHeader = "X-Scope-OrgID";

    public static void MapRemoteWrite(this IEndpointRouteBuilder app, DistributorService distributor)
    {
        app.MapPost("/api/v1/push", (HttpContext ctx) =>
            HandleAsync(ctx, distributor, ctx.Request.Headers[OrgIdHeader].ToString()));
        app.MapPost("/workspaces/{workspaceId}/api/v1/remote_write", (HttpContext ctx, string workspaceId) =>
            HandleAsync(ctx, distributor, workspaceId));
    }

    private static async Task HandleAsync(HttpContext ctx, DistributorService distributor, string workspace)
    {
        var result = await DecodeAndPushAsync(ctx, distributor, workspace);
        ctx.Response.StatusCode = result.StatusCode;
        if (result.RetryAfter is { } wait) ctx.Response.Headers.RetryAfter = RetryAfterSeconds(wait);
        if (result.Message is not null)
        {
            // Prometheus's error shape, as everywhere under /api/v1/; a sender logs the body as it is.
            ctx.Response.ContentType = PrometheusErrorBody.ContentType;
            await ctx.Response.WriteAsync(PrometheusErrorBody.Json(result.StatusCode, result.Message), ctx.RequestAborted);
        }
    }

    /// <summary>A Retry-After value: whole seconds, at least 1.</summary>
    internal static string RetryAfterSeconds(TimeSpan wait) =>
        ((long)Math.Ceiling(Math.Max(1, wait.TotalSeconds))).ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static async Task<PushResult> DecodeAndPushAsync(HttpContext ctx, DistributorService distributor, string workspace)
    {
        if (workspace.Length == 0)
            return new PushResult(401, $"no org id: the {OrgIdHeader} header must name the workspace (or use /workspaces/{{workspaceId}}/api/v1/remote_write)");
        if (WorkspaceIds.Validate(workspace) is { } invalid)
            return new PushResult(400, invalid.Message);

        var request = ctx.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) ||
            !contentType.MediaType.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase))
            return new PushResult(415, $"unsupported Content-Type \"{request.ContentType}\": remote write requires application/x-protobuf");
        if (UnsupportedProto(contentType) is { } proto)
            return new PushResult(415, $"unsupported remote write message \"proto={proto}\": this receiver speaks remote write 1.0 only " +
                "(proto=prometheus.WriteRequest); remote write 2.0 (io.prometheus.write.v2.Request) is not supported yet, send 1.0 " +
                "(Prometheus: remote_write protobuf_message: prometheus.WriteRequest)");
        string encoding = request.Headers.ContentEncoding.ToString();
        if (!encoding.Equals("snappy", StringComparison.OrdinalIgnoreCase))
            return new PushResult(415, $"unsupported Content-Encoding \"{encoding}\": remote write requires snappy");

        var options = distributor.OptionsFor(workspace);
        long limit = options.MaxRecvMsgSize;
        long compressedLimit = RemoteWriteDecoder.MaxCompressedSize(limit);
        if (request.ContentLength > compressedLimit)
            return TooLarge($"compressed size {request.ContentLength} bytes", limit, options.MaxRecvMsgSizeSetting);

        using var body = await RequestBody.ReadAsync(request, compressedLimit, ctx.RequestAborted);
        if (body.TooLarge) return TooLarge($"compressed size over {compressedLimit} bytes", limit, options.MaxRecvMsgSizeSetting);
        return await distributor.PushBodyAsync(workspace, body.Memory, ctx.RequestAborted);
    }

    /// <summary>
    /// The <c>proto</c> parameter of the Content-Type when it names a message other than remote write 1.0's; absent means 1.0
    /// (the 2.0 specification: a receiver answers 415 to a message it does not support, and the sender falls back).
    /// </summary>
    private static string? UnsupportedProto(MediaTypeHeaderValue contentType)
    {
        foreach (var p in contentType.Parameters)
        {
            if (!p.Name.Equals("proto", StringComparison.OrdinalIgnoreCase)) continue;
            string value = HeaderUtilities.RemoveQuotes(p.Value).ToString();
            return value == "prometheus.WriteRequest" ? null : value;
        }
        return null;
    }

    private static PushResult TooLarge(string what, long limit, string setting) => RemoteWriteDecoder.TooLarge(what, limit, setting);
}
