using Amphora.Cluster.Security;
using Amphora.Server.Config;
using Microsoft.AspNetCore.Server.Kestrel.Https;

namespace Amphora.Server;

public static partial class AmphoraHost
{
    /// <summary>
    /// TLS of the ingester's gRPC listener; with --grpc.tls-client-ca-file the handshake also requires a client certificate
    /// that chains to that CA (mutual TLS), so a caller without one never reaches a method.
    /// </summary>
    private static HttpsConnectionAdapterOptions GrpcTls(AmphoraConfig config)
    {
        var options = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = CertificateTrust.LoadWithKey(config.GrpcTlsCertFile!, config.GrpcTlsKeyFile!),
        };
        if (config.GrpcTlsClientCaFile is { } caFile)
        {
            var ca = CertificateTrust.LoadAuthority(caFile);
            options.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
            options.ClientCertificateValidation = (certificate, _, _) => CertificateTrust.ChainsTo(certificate, ca);
        }
        return options;
    }
}
