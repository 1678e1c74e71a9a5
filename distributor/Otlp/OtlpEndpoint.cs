using Amphora.Distributor.Otlp.Proto;
using Amphora.Model;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Net.Http.Headers;

namespace Amphora.Distributor.Otlp;

/// <summary>
/// The OTLP/HTTP metrics endpoints: <c>POST /otlp/v1/metrics</c> (workspace from the access key or <c>X-Scope-OrgID</c>, as
/// <c>/api/v1/push</c>) and <c>POST /workspaces/{workspaceId}/api/v1/otlp/v1/metrics</c> (as AMP). Checks, in order:
/// workspace, content type (protobuf or JSON), encoding (gzip or none), size, decoding; then the translation and the
/// remote-write path (<see cref="DistributorService.PushOtlpAsync"/>). Answers as OTLP/HTTP specifies: 200 with an
/// <c>ExportMetricsServiceResponse</c> in the request's encoding, whose <c>partial_success</c> counts and names what was refused
/// when the rest was kept; otherwise the remote-write status (400, 401, 413, 415, 429, 503) with a <c>google.rpc.Status</c>.
/// </summary>
public static class OtlpEndpoint
{
    public static void MapOtlp(this IEndpointRouteBuilder app, DistributorService distributor)
    {
        app.MapPost("/otlp/v1/metrics", (HttpContext ctx) =>
            HandleAsync(ctx, distributor, ctx.Request.Headers[RemoteWriteEndpoint.OrgIdHeader].ToString()));
        app.MapPost("/workspaces/{workspaceId}/api/v1/otlp/v1/metrics", (HttpContext ctx, string workspaceId) =>
            HandleAsync(ctx, distributor, workspaceId));
    }

    private static async Task HandleAsync(HttpContext ctx, DistributorService distributor, string workspace)
    {
        var format = MediaTypeHeaderValue.TryParse(ctx.Request.ContentType, out var contentType)
            ? OtlpDecoder.FormatOf(contentType.MediaType.ToString())
            : null;
        var (status, response) = await DecodeAndPushAsync(ctx, distributor, workspace, format);
        var answerFormat = format ?? OtlpFormat.Json;
        ctx.Response.StatusCode = status.StatusCode;
        if (status.RetryAfter is { } wait) ctx.Response.Headers.RetryAfter = RemoteWriteEndpoint.RetryAfterSeconds(wait);
        IMessage body = response is not null ? response : new Status { Code = RpcCode(status.StatusCode), Message = status.Message ?? "" };
        ctx.Response.ContentType = answerFormat == OtlpFormat.Json ? "application/json" : "application/x-protobuf";
        if (answerFormat == OtlpFormat.Json) await ctx.Response.WriteAsync(JsonFormatter.Default.Format(body), ctx.RequestAborted);
        else await ctx.Response.Body.WriteAsync(body.ToByteArray(), ctx.RequestAborted);
    }

    /// <summary>The answer: a status and, for 200, the export response; otherwise the status's message goes in a Status body.</summary>
    private static async Task<(PushResult Status, ExportMetricsServiceResponse? Response)> DecodeAndPushAsync(HttpContext ctx,
        DistributorService distributor, string workspace, OtlpFormat? format)
    {
        if (workspace.Length == 0)
            return (new PushResult(401, $"no org id: the {RemoteWriteEndpoint.OrgIdHeader} header must name the workspace (or use " +
                "/workspaces/{workspaceId}/api/v1/otlp/v1/metrics)"), null);
        if (WorkspaceIds.Validate(workspace) is { } invalid) return (new PushResult(400, invalid.Message), null);

        var request = ctx.Request;
        if (format is not { } f)
            return (new PushResult(415, $"unsupported Content-Type \"{request.ContentType}\": OTLP/HTTP metrics take " +
                "application/x-protobuf or application/json"), null);
        string encoding = request.Headers.ContentEncoding.ToString();
        bool gzip = encoding.Equals("gzip", StringComparison.OrdinalIgnoreCase);
        if (!gzip && encoding.Length > 0 && !encoding.Equals("identity", StringComparison.OrdinalIgnoreCase))
            return (new PushResult(415, $"unsupported Content-Encoding \"{encoding}\": OTLP/HTTP takes gzip or no encoding"), null);

        var options = distributor.OptionsFor(workspace);
        long limit = options.MaxRecvMsgSize;
        // Deflate's worst case adds 5 bytes per 16 KiB block to incompressible data, plus the gzip header and trailer.
        long bodyLimit = gzip ? limit + limit / 3000 + 64 : limit;
        if (request.ContentLength > bodyLimit)
            return (RemoteWriteDecoder.TooLarge($"body of {request.ContentLength} bytes", limit, options.MaxRecvMsgSizeSetting), null);
        ExportMetricsServiceRequest? export;
        using (var body = await RequestBody.ReadAsync(request, bodyLimit, ctx.RequestAborted))
        {
            if (body.TooLarge) return (RemoteWriteDecoder.TooLarge($"body over {bodyLimit} bytes", limit, options.MaxRecvMsgSizeSetting), null);
            (export, var refusal) = await OtlpDecoder.DecodeAsync(body.Memory, gzip, f, options, ctx.RequestAborted);
            if (refusal is not null) return (refusal, null);
        }

        var translation = OtlpTranslator.Translate(export!, distributor.Options.Otlp, options.RequestShape, options.MaxRecvMsgSize);
        var result = await distributor.PushOtlpAsync(workspace, translation, ctx.RequestAborted);
        return Answer(translation, result);
    }

    /// <summary>
    /// A push that kept some points is a success with a partial success naming the refused ones (counted as OTLP points for
    /// what the translation refused, as samples for what validation or the ingesters refused); one that kept none is a 400.
    /// </summary>
    public static (PushResult Status, ExportMetricsServiceResponse? Response) Answer(OtlpTranslation translation, PushResult result)
    {
        bool pointRefusals = result.StatusCode == 204 || (result.StatusCode == 400 && result.Rejected > 0);
        if (!pointRefusals) return (result, null);
        long rejected = translation.RejectedPoints + result.Rejected;
        var response = new ExportMetricsServiceResponse();
        if (rejected == 0) return (new PushResult(200, null), response);
        string message = translation.FirstRejection ?? result.Message ?? "";
        long kept = translation.Samples - result.Rejected;
        if (kept <= 0) return (new PushResult(400, message), null);
        response.PartialSuccess = new ExportMetricsPartialSuccess { RejectedDataPoints = rejected, ErrorMessage = message };
        return (new PushResult(200, null), response);
    }

    /// <summary>The google.rpc code of an HTTP status, for the Status body.</summary>
    private static int RpcCode(int status) => status switch
    {
        400 or 413 or 415 => 3, // INVALID_ARGUMENT
        401 => 16,              // UNAUTHENTICATED
        403 => 7,               // PERMISSION_DENIED
        429 => 8,               // RESOURCE_EXHAUSTED
        503 => 14,              // UNAVAILABLE
        _ => 13,                // INTERNAL
    };
}
