using Amphora.Model;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Amphora.Distributor;

/// <summary>
/// The remote write 1.0 and 2.0 HTTP endpoints (the message chosen by the Content-Type's <c>proto</c> parameter): <c>POST /api/v1/push</c> (workspace in <c>X-Scope-OrgID</c>, as Cortex and Mimir) and
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
        var (result, v2) = await DecodeAndPushAsync(ctx, distributor, workspace);
        ctx.Response.StatusCode = result.StatusCode;
        if (v2 is { } counts)
        {
            // Remote write 2.0: what was stored (exemplars: those handed to the storage). Refused whole: nothing.
            bool stored = result.StatusCode == 204 || result.Rejected > 0;
            long histograms = stored ? Math.Max(0, counts.Histograms - result.RejectedHistograms) : 0;
            long samples = stored ? Math.Max(0, counts.Samples - (result.Rejected - result.RejectedHistograms)) : 0;
            ctx.Response.Headers[SamplesWrittenHeader] = samples.ToString(System.Globalization.CultureInfo.InvariantCulture);
            ctx.Response.Headers[HistogramsWrittenHeader] = histograms.ToString(System.Globalization.CultureInfo.InvariantCulture);
            ctx.Response.Headers[ExemplarsWrittenHeader] = (stored ? result.Exemplars : 0).ToString(System.Globalization.CultureInfo.InvariantCulture);
        }
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

    private static async Task<(PushResult, RemoteWriteV2Counts?)> DecodeAndPushAsync(HttpContext ctx, DistributorService distributor, string workspace)
    {
        if (workspace.Length == 0)
            return (new PushResult(401, $"no org id: the {OrgIdHeader} header must name the workspace (or use /workspaces/{{workspaceId}}/api/v1/remote_write)"), null);
        if (WorkspaceIds.Validate(workspace) is { } invalid)
            return (new PushResult(400, invalid.Message), null);

        var request = ctx.Request;
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType) ||
            !contentType.MediaType.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase))
            return (new PushResult(415, $"unsupported Content-Type \"{request.ContentType}\": remote write requires application/x-protobuf"), null);
        string proto = ProtoOf(contentType);
        bool v2 = proto == V2Message;
        if (!v2 && proto != V1Message)
            return (new PushResult(415, $"unsupported remote write message \"proto={proto}\": this receiver speaks {V1Message} (remote write " +
                $"1.0) and {V2Message} (remote write 2.0)"), null);
        string encoding = request.Headers.ContentEncoding.ToString();
        if (!encoding.Equals("snappy", StringComparison.OrdinalIgnoreCase))
            return (new PushResult(415, $"unsupported Content-Encoding \"{encoding}\": remote write requires snappy"), null);

        var options = distributor.OptionsFor(workspace);
        long limit = options.MaxRecvMsgSize;
        long compressedLimit = RemoteWriteDecoder.MaxCompressedSize(limit);
        if (request.ContentLength > compressedLimit)
            return (TooLarge($"compressed size {request.ContentLength} bytes", limit, options.MaxRecvMsgSizeSetting), null);

        using var body = await RequestBody.ReadAsync(request, compressedLimit, ctx.RequestAborted);
        if (body.TooLarge) return (TooLarge($"compressed size over {compressedLimit} bytes", limit, options.MaxRecvMsgSizeSetting), null);
        if (!v2) return (await distributor.PushBodyAsync(workspace, body.Memory, ctx.RequestAborted), null);
        var (result, counts) = await distributor.PushV2BodyAsync(workspace, body.Memory, ctx.RequestAborted);
        return (result, counts);
    }

    public const string V1Message = "prometheus.WriteRequest", V2Message = "io.prometheus.write.v2.Request";
    public const string SamplesWrittenHeader = "X-Prometheus-Remote-Write-Samples-Written";
    public const string HistogramsWrittenHeader = "X-Prometheus-Remote-Write-Histograms-Written";
    public const string ExemplarsWrittenHeader = "X-Prometheus-Remote-Write-Exemplars-Written";

    /// <summary>
    /// The message the <c>proto</c> parameter of the Content-Type names; absent means 1.0 (the 2.0 specification: a receiver
    /// answers 415 to a message it does not support, and the sender falls back).
    /// </summary>
    private static string ProtoOf(MediaTypeHeaderValue contentType)
    {
        foreach (var p in contentType.Parameters)
            if (p.Name.Equals("proto", StringComparison.OrdinalIgnoreCase)) return HeaderUtilities.RemoveQuotes(p.Value).ToString();
        return V1Message;
    }

    private static PushResult TooLarge(string what, long limit, string setting) => RemoteWriteDecoder.TooLarge(what, limit, setting);
}
