using System.Security.Cryptography.X509Certificates;
using Amphora.Rpc;
using Amphora.Rpc.Security;

namespace Amphora.Cluster;

/// <summary>
/// How distributors and queriers reach ingesters: h2c, or TLS trusting <see cref="TrustedCa"/>; with
/// <see cref="ClientCertificate"/> for mutual TLS; with <see cref="Secret"/> sent as metadata on every call.
/// </summary>
public sealed record ClusterTransport(X509Certificate2? TrustedCa = null, X509Certificate2? ClientCertificate = null, ClusterSecret? Secret = null)
{
    public static readonly ClusterTransport Plaintext = new();

    public GrpcChannel Channel(string hostPort, int maxReceiveMessageSize) =>
        new(new Uri((TrustedCa is null ? "http://" : "https://") + hostPort), maxReceiveMessageSize, TrustedCa, ClientCertificate,
            Secret is null ? null : [Secret.Metadata]);
}
