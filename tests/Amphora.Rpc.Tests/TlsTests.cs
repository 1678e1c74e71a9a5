using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amphora.Rpc.Tests.Echo;
using Xunit;

namespace Amphora.Rpc.Tests;

/// <summary>gRPC over TLS (ALPN h2): a client trusting the server's certificate calls it; one that does not is refused.</summary>
public sealed class TlsTests
{
    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=amphora-test", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        san.AddDnsName("localhost");
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(cert.Export(X509ContentType.Pkcs12), null);
    }

    [Fact]
    public async Task A_client_that_trusts_the_certificate_calls_over_tls_and_one_that_does_not_is_refused()
    {
        using var cert = SelfSigned();
        await using var server = await EchoServer.StartAsync(tls: cert);
        var address = new Uri($"https://127.0.0.1:{server.Port}");
        using (var trusting = new GrpcChannel(address, trustedCertificate: X509CertificateLoader.LoadCertificate(cert.RawData)))
        {
            var reply = await trusting.UnaryAsync("/amphora.test.Echo/Say", new EchoRequest { Text = "secure" }, EchoReply.Parser);
            Assert.Equal("amphora:secure", reply.Text);
        }
        using var untrusting = new GrpcChannel(address);
        var e = await Assert.ThrowsAsync<RpcException>(() =>
            untrusting.UnaryAsync("/amphora.test.Echo/Say", new EchoRequest { Text = "x" }, EchoReply.Parser));
        Assert.Equal(StatusCode.Unavailable, e.Status);
    }
}
