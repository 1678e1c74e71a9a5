using System.Security.Cryptography.X509Certificates;
using Amphora.Cluster.Security;
using Grpc.Core;
using Grpc.Net.Client;

namespace Amphora.Cluster;

/// <summary>
/// How distributors and queriers reach ingesters: h2c, or TLS trusting <see cref="TrustedCa"/>; with
/// <see cref="ClientCertificate"/> for mutual TLS; with <see cref="Secret"/> sent as metadata on every call.
/// </summary>
public sealed record ClusterTransport(X509Certificate2? TrustedCa = null, X509Certificate2? ClientCertificate = null, ClusterSecret? Secret = null)
{
    public static readonly ClusterTransport Plaintext = new();

    /// <summary>A client of the ingester at <paramref name="hostPort"/>; messages up to <paramref name="maxMessageSize"/> bytes
    /// either way (a larger one fails the call with RESOURCE_EXHAUSTED).</summary>
    public IngesterClient Client(string hostPort, int maxMessageSize) =>
        new(Channel(new Uri((TrustedCa is null ? "http://" : "https://") + hostPort), maxMessageSize),
            Secret is null ? null : new Metadata { { Secret.Metadata.Key, Secret.Metadata.Value } });

    /// <summary>A channel over one <see cref="SocketsHttpHandler"/>: HTTP/2 with prior knowledge for <c>http://</c> (h2c) and
    /// ALPN for <c>https://</c>, more connections when one runs out of streams, and keepalive pings that find a dead
    /// connection within 40 s.</summary>
    public GrpcChannel Channel(Uri address, int maxMessageSize)
    {
        var handler = new SocketsHttpHandler
        {
            EnableMultipleHttp2Connections = true,
            PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
            KeepAlivePingDelay = TimeSpan.FromSeconds(30),
            KeepAlivePingTimeout = TimeSpan.FromSeconds(10),
            ConnectTimeout = TimeSpan.FromSeconds(5),
        };
        if (TrustedCa is { } ca)
        {
            // The cluster's CA instead of the system's roots; the name must still match the address.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                certificate is not null && (errors == System.Net.Security.SslPolicyErrors.None ||
                    ((errors & System.Net.Security.SslPolicyErrors.RemoteCertificateNameMismatch) == 0 && CertificateTrust.ChainsTo(certificate, ca)));
        }
        if (ClientCertificate is not null) handler.SslOptions.ClientCertificates = new X509CertificateCollection { ClientCertificate };
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = handler,
            DisposeHttpClient = true,
            MaxReceiveMessageSize = maxMessageSize,
            MaxSendMessageSize = maxMessageSize,
            // A ring member that restarts is reconnected within seconds: the default backoff doubles up to 120 s, so a member
            // down for a few seconds could stay unused (and reads short of replicas) for minutes after it came back.
            InitialReconnectBackoff = TimeSpan.FromMilliseconds(250),
            MaxReconnectBackoff = TimeSpan.FromSeconds(5),
        });
    }
}
