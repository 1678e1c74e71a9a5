using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amphora.Cluster;
using Amphora.Cluster.Security;
using Grpc.Core;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using static Amphora.Ingester.Tests.Grpc.IngesterGrpcTests;

namespace Amphora.Ingester.Tests.Grpc;

/// <summary>Who may call an ingester: the cluster secret as metadata, mutual TLS, TLS trust, and the listener a call may
/// arrive on; each checked before the request message is read.</summary>
public sealed class ClusterCallGuardTests
{
    private static readonly ClusterSecret Secret = ClusterSecret.Parse("s3cret-shared-by-the-cluster");
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task A_call_without_the_secret_or_with_a_wrong_one_is_unauthenticated_before_its_message_is_read_and_one_with_it_runs()
    {
        await using var server = await IngesterGrpcServer.StartAsync(secret: Secret);
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using (var anonymous = Client(server))
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => anonymous.PushAsync(Push("ws", 1, now, "intruder"), Timeout, default));
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
            Assert.Contains("--cluster.secret-file", e.Status.Detail);
            var stream = await Assert.ThrowsAsync<RpcException>(async () =>
            {
                await foreach (var _ in anonymous.QueryStreamAsync(Query("ws", "intruder"), Timeout, default)) { }
            });
            Assert.Equal(StatusCode.Unauthenticated, stream.StatusCode);
        }
        using (var wrong = Client(server, new ClusterTransport(Secret: ClusterSecret.Parse("s3cret-shared-by-the-clusteR"))))
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => wrong.StateAsync(Timeout, default));
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
            Assert.Contains("wrong", e.Status.Detail);
        }
        // A message over the server's limit is refused as unauthenticated, not as too large: the guard answered before
        // anything read it.
        using (var big = new IngesterClient(ClusterTransport.Plaintext.Channel(server.Address, 2 * IngesterClient.MaxMessageSize)))
        {
            var e = await Assert.ThrowsAsync<RpcException>(() =>
                big.PushAsync(Push("ws", 1, now, "huge", new string('x', IngesterClient.MaxMessageSize + 1)), Timeout, default));
            Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        }
        using var member = Client(server, new ClusterTransport(Secret: Secret));
        int stored = 0;
        await foreach (var batch in member.QueryStreamAsync(Query("ws", "intruder"), Timeout, default)) stored += batch.Series.Count;
        Assert.Equal(0, stored); // the refused push stored nothing
        Assert.Equal(1, (await member.PushAsync(Push("ws", 1, now, "member"), Timeout, default)).SamplesAccepted);
        Assert.Equal("ingester-0", (await member.StateAsync(Timeout, default)).Instance);
    }

    [Fact]
    public async Task A_call_arriving_on_another_port_than_the_grpc_listener_is_refused_even_with_the_secret()
    {
        await using var server = await IngesterGrpcServer.StartAsync(secret: Secret, guardPort: IngesterGrpcServer.FreePort());
        using var member = Client(server, new ClusterTransport(Secret: Secret));
        var e = await Assert.ThrowsAsync<RpcException>(() => member.StateAsync(Timeout, default));
        Assert.Equal(StatusCode.PermissionDenied, e.StatusCode);
    }

    [Fact]
    public async Task With_mutual_tls_only_a_client_certificate_from_the_cluster_ca_gets_through()
    {
        using var pki = new TestPki();
        using var other = new TestPki("another-ca");
        using var serverCert = pki.Issue("ingester-0", client: false);
        var ca = pki.AuthorityPublic;
        var tls = new HttpsConnectionAdapterOptions
        {
            ServerCertificate = serverCert,
            ClientCertificateMode = ClientCertificateMode.RequireCertificate,
            ClientCertificateValidation = (certificate, _, _) => CertificateTrust.ChainsTo(certificate, ca),
        };
        await using var server = await IngesterGrpcServer.StartAsync(tls: tls, requireClientCertificate: true);

        using (var member = Client(server, new ClusterTransport(ca, pki.Issue("distributor", client: true))))
            Assert.Equal("ingester-0", (await member.StateAsync(Timeout, default)).Instance);
        using (var stranger = Client(server, new ClusterTransport(ca, other.Issue("distributor", client: true))))
            AssertHandshakeRefused(await Assert.ThrowsAsync<RpcException>(() => stranger.StateAsync(Timeout, default)));
        using var anonymous = Client(server, new ClusterTransport(ca));
        AssertHandshakeRefused(await Assert.ThrowsAsync<RpcException>(() => anonymous.StateAsync(Timeout, default)));
    }

    /// <summary>The server ended the TLS handshake: seen by Grpc.Net.Client as a failed handshake (INTERNAL) or, with TLS 1.3
    /// where the client finishes first, as a connection closed under the call (UNAVAILABLE); never a method's answer.</summary>
    private static void AssertHandshakeRefused(RpcException e) =>
        Assert.True(e.StatusCode is StatusCode.Unavailable or StatusCode.Internal, e.ToString());

    [Fact]
    public async Task A_client_that_trusts_the_cluster_ca_calls_over_tls_and_one_that_trusts_only_the_system_roots_is_refused()
    {
        using var pki = new TestPki();
        using var serverCert = pki.Issue("ingester-0", client: false);
        await using var server = await IngesterGrpcServer.StartAsync(tls: new HttpsConnectionAdapterOptions { ServerCertificate = serverCert });
        using (var trusting = Client(server, new ClusterTransport(pki.AuthorityPublic)))
            Assert.Equal("ingester-0", (await trusting.StateAsync(Timeout, default)).Instance);
        // The same address over https without the CA: the system's roots do not know it, and the call fails naming the
        // certificate (Grpc.Net.Client reports a failed handshake as INTERNAL, with the TLS error in the detail).
        using var untrusting = new IngesterClient(ClusterTransport.Plaintext.Channel(server.Address, 1 << 20));
        var refused = await Assert.ThrowsAsync<RpcException>(() => untrusting.StateAsync(Timeout, default));
        Assert.Contains("remote certificate is invalid", refused.Status.Detail);
    }

    [Theory]
    [InlineData("short")]
    [InlineData("has a space in it!!")]
    [InlineData("ünïcode-ünïcode-ünïcode")]
    public void A_secret_that_is_short_or_not_a_header_value_is_refused_naming_the_rule(string value) =>
        Assert.Throws<FormatException>(() => ClusterSecret.Parse(value));

    [Fact]
    public void The_secret_matches_only_itself_after_the_bearer_scheme()
    {
        Assert.True(Secret.Matches("Bearer s3cret-shared-by-the-cluster"));
        Assert.False(Secret.Matches("s3cret-shared-by-the-cluster"));
        Assert.False(Secret.Matches("Bearer s3cret-shared-by-the-cluster "));
        Assert.False(Secret.Matches("Bearer s3cret"));
        Assert.False(Secret.Matches(null));
        Assert.False(Secret.Matches(""));
    }
}
