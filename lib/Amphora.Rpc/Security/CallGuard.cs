using Microsoft.AspNetCore.Http;

namespace Amphora.Rpc.Security;

/// <summary>
/// Decides whether a call may run, from its connection and metadata only, before the request message is read. The server
/// dispatch layer calls it for every method it serves (with Grpc.AspNetCore the same check is a server interceptor).
/// </summary>
public interface IGrpcCallGuard
{
    /// <summary>Null to admit the call; otherwise the status it is refused with.</summary>
    RpcException? Admit(HttpContext call);
}

/// <summary>
/// The ingester's guard: calls must arrive on the gRPC listener (not on the HTTP port that serves <c>/metrics</c>), carry the
/// cluster secret when one is configured (UNAUTHENTICATED otherwise), and come with a client certificate when mutual TLS is
/// required (Kestrel has already checked it chains to the cluster CA during the handshake).
/// </summary>
public sealed class ClusterCallGuard(int grpcPort, ClusterSecret? secret, bool requireClientCertificate) : IGrpcCallGuard
{
    public RpcException? Admit(HttpContext call)
    {
        if (call.Connection.LocalPort != grpcPort)
            return new RpcException(StatusCode.PermissionDenied, $"the ingester's gRPC API is served on port {grpcPort} only");
        if (requireClientCertificate && call.Connection.ClientCertificate is null)
            return new RpcException(StatusCode.Unauthenticated, "a client certificate from the cluster's CA is required");
        if (secret is not null && !secret.Matches(call.Request.Headers[ClusterSecret.MetadataKey].FirstOrDefault()))
            return new RpcException(StatusCode.Unauthenticated,
                call.Request.Headers.ContainsKey(ClusterSecret.MetadataKey)
                    ? "the cluster secret in the authorization metadata is wrong"
                    : "missing cluster secret: send the authorization metadata \"Bearer <secret>\" (the content of --cluster.secret-file)");
        return null;
    }
}
