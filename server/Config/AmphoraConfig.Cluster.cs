using Amphora.Cluster.Security;

namespace Amphora.Server.Config;

/// <summary>The rules for gRPC between components: who may call an ingester, and how clients prove it.</summary>
public sealed partial class AmphoraConfig
{
    /// <summary>Whether ingesters check callers: a cluster secret, or client certificates from the cluster's CA.</summary>
    public bool GrpcAuthenticated => ClusterSecretFile is not null || GrpcTlsClientCaFile is not null;

    private void ValidateClusterSecurity(List<string> errors)
    {
        if (Target == "ingester")
        {
            if (!ListenAddress.TryParse(GrpcListen, out var grpc, out var grpcError))
                errors.Add($"invalid --grpc.listen \"{GrpcListen}\": {grpcError}");
            else if (!ListenAddress.IsLoopback(grpc) && !GrpcAuthenticated)
                errors.Add($"--grpc.listen={GrpcListen} is not a loopback address, and the ingester's gRPC API (push, query) would then " +
                           "serve anyone who reaches it: give every component --cluster.secret-file=FILE (a shared secret), and/or the ingester " +
                           "--grpc.tls-client-ca-file=CA.pem with --grpc.tls-cert-file/--grpc.tls-key-file (mutual TLS), or listen on 127.0.0.1.");
        }
        if ((GrpcTlsCertFile is null) != (GrpcTlsKeyFile is null))
            errors.Add("--grpc.tls-cert-file and --grpc.tls-key-file go together");
        if (GrpcTlsClientCaFile is not null && GrpcTlsCertFile is null)
            errors.Add("--grpc.tls-client-ca-file (mutual TLS) needs the ingester to serve TLS: add --grpc.tls-cert-file and --grpc.tls-key-file");
        if ((RingTlsCertFile is null) != (RingTlsKeyFile is null))
            errors.Add("--ring.tls-cert-file and --ring.tls-key-file go together");
        if (RingTlsCertFile is not null && RingTlsCaFile is null)
            errors.Add("--ring.tls-cert-file (a client certificate for mutual TLS) needs --ring.tls-ca-file: the ingesters' TLS is checked against it");
        foreach (var (flag, file) in new[]
                 {
                     ("--ring.tls-ca-file", RingTlsCaFile), ("--grpc.tls-client-ca-file", GrpcTlsClientCaFile),
                     ("--ring.tls-cert-file", RingTlsCertFile), ("--ring.tls-key-file", RingTlsKeyFile),
                     ("--cluster.secret-file", ClusterSecretFile),
                 })
        {
            if (file is not null && !File.Exists(file)) errors.Add($"{flag} \"{file}\" does not exist");
        }
        if (ClusterSecretFile is not null && File.Exists(ClusterSecretFile))
        {
            try
            {
                ClusterSecret.FromFile(ClusterSecretFile);
            }
            catch (Exception e) when (e is FormatException or IOException or UnauthorizedAccessException)
            {
                errors.Add($"--cluster.secret-file \"{ClusterSecretFile}\": {e.Message}");
            }
        }
    }

    /// <summary>The cluster secret, read from its file (checked by <see cref="Validate"/>), or null.</summary>
    public ClusterSecret? LoadClusterSecret() => ClusterSecretFile is null ? null : ClusterSecret.FromFile(ClusterSecretFile);
}
