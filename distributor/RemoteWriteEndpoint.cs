using System.Buffers;
using Amphora.Distributor.Prompb;
using Amphora.Model;
using Google.Protobuf;
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
        if (result.RetryAfter is { } wait)
            ctx.Response.Headers.RetryAfter = ((long)Math.Ceiling(Math.Max(1, wait.TotalSeconds))).ToString(System.Globalization.CultureInfo.InvariantCulture);
        if (result.Message is not null)
        {
            ctx.Response.ContentType = "text/plain; charset=utf-8";
            await ctx.Response.WriteAsync(result.Message + "\n", ctx.RequestAborted);
        }
    }

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
        string encoding = request.Headers.ContentEncoding.ToString();
        if (!encoding.Equals("snappy", StringComparison.OrdinalIgnoreCase))
            return new PushResult(415, $"unsupported Content-Encoding \"{encoding}\": remote write requires snappy");

        long limit = distributor.Options.MaxRecvMsgSize;
        long compressedLimit = 32 + limit + limit / 6; // snappy's worst-case expansion of `limit` bytes
        if (request.ContentLength > compressedLimit)
            return TooLarge($"compressed size {request.ContentLength} bytes", limit);

        byte[] body = ArrayPool<byte>.Shared.Rent((int)Math.Min(compressedLimit, request.ContentLength ?? 64 * 1024) + 1);
        try
        {
            int length = 0;
            while (true)
            {
                if (length == body.Length)
                {
                    if (body.Length > compressedLimit) return TooLarge($"compressed size over {compressedLimit} bytes", limit);
                    var bigger = ArrayPool<byte>.Shared.Rent((int)Math.Min(compressedLimit + 1, body.Length * 2L));
                    body.AsSpan(0, length).CopyTo(bigger);
                    ArrayPool<byte>.Shared.Return(body);
                    body = bigger;
                }
                int n = await request.Body.ReadAsync(body.AsMemory(length), ctx.RequestAborted);
                if (n == 0) break;
                length += n;
            }
            var compressed = body.AsSpan(0, length);
            if (!TryReadDecodedLength(compressed, out ulong decodedLength))
                return new PushResult(400, "snappy: corrupt input: the block does not start with a valid length");
            if (decodedLength > (ulong)limit)
                return TooLarge($"decompressed size {decodedLength} bytes", limit);

            byte[] decoded;
            try
            {
                decoded = IronSnappy.Snappy.Decode(compressed);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                return new PushResult(400, $"snappy: corrupt input: {e.Message}");
            }
            WriteRequest writeRequest;
            try
            {
                writeRequest = WriteRequest.Parser.ParseFrom(decoded);
            }
            catch (InvalidProtocolBufferException e)
            {
                return new PushResult(400, $"protobuf: cannot decode the WriteRequest: {e.Message}");
            }
            try
            {
                return await distributor.PushAsync(workspace, writeRequest, ctx.RequestAborted);
            }
            catch (QuorumNotReachedException e)
            {
                // Not acknowledged: the sender retries, and replicas that did store the samples accept the duplicates.
                return new PushResult(503, "ingesters unavailable: " + e.Message);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(body);
        }
    }

    private static PushResult TooLarge(string what, long limit) =>
        new(413, $"request body too large: {what} exceeds the limit of {limit} bytes (set by distributor.max-recv-msg-size)");

    /// <summary>A snappy block starts with the decompressed length as a little-endian base-128 varint.</summary>
    private static bool TryReadDecodedLength(ReadOnlySpan<byte> block, out ulong length)
    {
        length = 0;
        for (int i = 0, shift = 0; i < block.Length && i < 10; i++, shift += 7)
        {
            length |= (ulong)(block[i] & 0x7f) << shift;
            if (block[i] < 0x80) return true;
        }
        return false;
    }
}
