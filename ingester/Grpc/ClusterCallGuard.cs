using System.Globalization;
using System.Text;
using Amphora.Cluster.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Http;

namespace Amphora.Ingester.Grpc;

/// <summary>
/// The ingester's check of every gRPC call, made from its connection and metadata before the request message is read (so
/// a refused caller costs no decoding): calls must arrive on the gRPC listener (not on the HTTP port that serves
/// <c>/metrics</c>), carry the cluster secret when one is configured (UNAUTHENTICATED otherwise), and come with a client
/// certificate when mutual TLS is required (Kestrel has already checked it chains to the cluster CA during the handshake).
/// It runs as middleware in front of Grpc.AspNetCore's endpoints; a refusal is a trailers-only gRPC response. The health
/// service is exempt, as a Kubernetes gRPC probe sends no metadata, and says only whether the ingester serves.
/// </summary>
public sealed class ClusterCallGuard(int grpcPort, ClusterSecret? secret, bool requireClientCertificate)
{
    private const string HealthService = "/grpc.health.v1.Health/";

    /// <summary>Null to admit the call; otherwise the status it is refused with.</summary>
    public Status? Admit(HttpContext call)
    {
        if (call.Connection.LocalPort != grpcPort)
            return new Status(StatusCode.PermissionDenied, $"the ingester's gRPC API is served on port {grpcPort} only");
        if (requireClientCertificate && call.Connection.ClientCertificate is null)
            return new Status(StatusCode.Unauthenticated, "a client certificate from the cluster's CA is required");
        if (secret is not null && !secret.Matches(call.Request.Headers[ClusterSecret.MetadataKey].FirstOrDefault()))
            return new Status(StatusCode.Unauthenticated,
                call.Request.Headers.ContainsKey(ClusterSecret.MetadataKey)
                    ? "the cluster secret in the authorization metadata is wrong"
                    : "missing cluster secret: send the authorization metadata \"Bearer <secret>\" (the content of --cluster.secret-file)");
        return null;
    }

    /// <summary>The middleware: refuses a gRPC call <see cref="Admit"/> does not admit, passes everything else on.</summary>
    public Task InvokeAsync(HttpContext ctx, RequestDelegate next)
    {
        if (!IsGrpc(ctx.Request) || ctx.Request.Path.StartsWithSegments(HealthService.TrimEnd('/'), StringComparison.Ordinal)
            || Admit(ctx) is not { } refused)
            return next(ctx);
        ctx.Response.StatusCode = StatusCodes.Status200OK;
        ctx.Response.ContentType = "application/grpc";
        ctx.Response.Headers["grpc-status"] = ((int)refused.StatusCode).ToString(CultureInfo.InvariantCulture);
        ctx.Response.Headers["grpc-message"] = PercentEncode(refused.Detail);
        return Task.CompletedTask;
    }

    private static bool IsGrpc(HttpRequest request) =>
        request.ContentType is { } ct && ct.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase);

    /// <summary>grpc-message's encoding: bytes outside printable ASCII, and '%', as %XX of their UTF-8.</summary>
    private static string PercentEncode(string message)
    {
        var sb = new StringBuilder(message.Length);
        foreach (byte b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7e && b != (byte)'%') sb.Append((char)b);
            else sb.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }
}
