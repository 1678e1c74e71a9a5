using System.Net;
using System.Net.Sockets;
using Amphora.Rpc.Security;
using Amphora.Rpc.Tests.Echo;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Xunit;

namespace Amphora.Rpc.Tests;

/// <summary>The server's call guard: the cluster secret as metadata, mutual TLS, and the listener a call may arrive on.</summary>
public sealed class CallGuardTests
{
    private static readonly ClusterSecret Secret = ClusterSecret.Parse("s3cret-shared-by-the-cluster");

    private static int FreePort()
    {
        using var l = new TcpListener(IPAddress.Loopback, 0);
        l.Start();
        return ((IPEndPoint)l.LocalEndpoint).Port;
    }

    private static Task<EchoReply> SayAsync(GrpcChannel channel, CallOptions? options = null) =>
        channel.UnaryAsync("/amphora.test.Echo/Say", new EchoRequest { Text = "hi" }, EchoReply.Parser, options);

    [Fact]
    public async Task A_call_without_the_secret_or_with_a_wrong_one_is_unauthenticated_and_one_with_it_runs()
    {
        int port = FreePort();
        await using var server = await EchoServer.StartAsync(guard: new ClusterCallGuard(port, Secret, false), port: port);
        var address = new Uri($"http://127.0.0.1:{server.Port}");

        using (var anonymous = new GrpcChannel(address))
        {
            var e = await Assert.ThrowsAsync<RpcException>(() => SayAsync(anonymous));
            Assert.Equal(StatusCode.Unauthenticated, e.Status);
            Assert.Contains("--cluster.secret-file", e.Detail);
            var wrong = await Assert.ThrowsAsync<RpcException>(() => SayAsync(anonymous, new CallOptions
            {
                Headers = new Dictionary<string, string> { ["authorization"] = "Bearer s3cret-shared-by-the-clusteR" },
            }));
            Assert.Equal(StatusCode.Unauthenticated, wrong.Status);
            Assert.Contains("wrong", wrong.Detail);
            // A large request is refused before its message is read: the answer comes without reading its 3 MiB.
            var big = await Assert.ThrowsAsync<RpcException>(() => anonymous.UnaryAsync("/amphora.test.Echo/Say",
                new EchoRequest { Text = new string('x', 3 << 20) }, EchoReply.Parser));
            Assert.Equal(StatusCode.Unauthenticated, big.Status);
        }
        using var member = new GrpcChannel(address, callMetadata: [Secret.Metadata]);
        Assert.Equal("amphora:hi", (await SayAsync(member)).Text);
        var count = new List<string>();
        await foreach (var r in member.ServerStreamingAsync("/amphora.test.Echo/Count", new CountRequest { N = 3 }, EchoReply.Parser))
            count.Add(r.Text);
        Assert.Equal(["n0", "n1", "n2"], count);
    }

    [Fact]
    public async Task A_call_arriving_on_another_port_than_the_grpc_listener_is_refused_even_with_the_secret()
    {
        await using var server = await EchoServer.StartAsync(guard: new ClusterCallGuard(FreePort(), Secret, false));
        using var member = new GrpcChannel(new Uri($"http://127.0.0.1:{server.Port}"), callMetadata: [Secret.Metadata]);
        var e = await Assert.ThrowsAsync<RpcException>(() => SayAsync(member));
        Assert.Equal(StatusCode.PermissionDenied, e.Status);
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
        int port = FreePort();
        await using var server = await EchoServer.StartAsync(guard: new ClusterCallGuard(port, null, true), tlsOptions: tls, port: port);
        var address = new Uri($"https://127.0.0.1:{server.Port}");

        using (var member = new GrpcChannel(address, trustedCertificate: ca, clientCertificate: pki.Issue("distributor", client: true)))
            Assert.Equal("amphora:hi", (await SayAsync(member)).Text);
        using (var stranger = new GrpcChannel(address, trustedCertificate: ca, clientCertificate: other.Issue("distributor", client: true)))
            Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => SayAsync(stranger))).Status);
        using var anonymous = new GrpcChannel(address, trustedCertificate: ca);
        Assert.Equal(StatusCode.Unavailable, (await Assert.ThrowsAsync<RpcException>(() => SayAsync(anonymous))).Status);
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
