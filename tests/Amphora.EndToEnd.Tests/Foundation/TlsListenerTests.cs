using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>--tls.cert-file/--tls.key-file: the HTTP listener serves HTTPS only.</summary>
public sealed class TlsListenerTests
{
    [Fact]
    public async Task With_a_certificate_the_listener_serves_https_and_refuses_plain_http()
    {
        string dir = RepoPaths.NewTempDir("https");
        try
        {
            using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            var request = new CertificateRequest("CN=amphora", key, HashAlgorithmName.SHA256);
            var san = new SubjectAlternativeNameBuilder();
            san.AddIpAddress(IPAddress.Loopback);
            request.CertificateExtensions.Add(san.Build());
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
            string certFile = Path.Combine(dir, "cert.pem"), keyFile = Path.Combine(dir, "key.pem");
            File.WriteAllText(certFile, cert.ExportCertificatePem());
            File.WriteAllText(keyFile, key.ExportPkcs8PrivateKeyPem());
            int port = FreePort.Next();
            using var amphora = AmphoraProcess.Start(null, port, $"--tls.cert-file={certFile}", $"--tls.key-file={keyFile}", "--auth=keys");

            var trusted = X509CertificateLoader.LoadCertificate(cert.RawData);
            using var https = new HttpClient(new HttpClientHandler
            {
                ServerCertificateCustomValidationCallback = (_, c, _, _) => c is not null && c.RawData.AsSpan().SequenceEqual(trusted.RawData),
            });
            var deadline = DateTime.UtcNow.AddSeconds(60);
            HttpResponseMessage? ready = null;
            while (DateTime.UtcNow < deadline)
            {
                try { ready = await https.GetAsync($"https://127.0.0.1:{port}/ready"); if (ready.IsSuccessStatusCode) break; }
                catch (HttpRequestException) { }
                await Task.Delay(200);
            }
            Assert.True(ready?.IsSuccessStatusCode == true, amphora.Output);
            Assert.Equal(HttpStatusCode.Unauthorized, (await https.GetAsync($"https://127.0.0.1:{port}/prometheus/api/v1/labels")).StatusCode);
            using var plain = new HttpClient();
            await Assert.ThrowsAnyAsync<HttpRequestException>(() => plain.GetAsync($"http://127.0.0.1:{port}/ready"));
            await amphora.TerminateAsync(TimeSpan.FromSeconds(20));
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
