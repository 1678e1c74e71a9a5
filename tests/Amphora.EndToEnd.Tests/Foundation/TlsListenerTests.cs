using System.Net;
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
            using var trusted = TestCertificates.WriteSelfSigned(dir, "amphora", out string certFile, out string keyFile);
            int port = FreePort.Next();
            using var amphora = AmphoraProcess.Start(null, port, $"--tls.cert-file={certFile}", $"--tls.key-file={keyFile}", "--auth=keys");

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
