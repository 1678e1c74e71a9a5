using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>With --grpc.tls-* on the ingester and --ring.tls-ca-file on the distributor, gRPC between them runs over TLS.</summary>
public sealed class ClusterTlsTests
{
    [Fact]
    public async Task A_distributor_trusting_the_ingesters_certificate_writes_over_tls_and_a_plaintext_one_cannot()
    {
        string dir = RepoPaths.NewTempDir("grpc-tls");
        try
        {
            using var _ = TestCertificates.WriteSelfSigned(dir, "ingester-0", out string certFile, out string keyFile);

            int grpc = FreePort.Next();
            using var ingester = AmphoraProcess.Start(null, null, "--target=ingester", $"--grpc.listen=127.0.0.1:{grpc}",
                $"--grpc.tls-cert-file={certFile}", $"--grpc.tls-key-file={keyFile}");
            await ingester.WaitReadyAsync();
            string members = $"--ring.members=ingester-0=127.0.0.1:{grpc}";
            using var secure = AmphoraProcess.Start(null, null, "--target=distributor", members, "--ring.replication-factor=1", $"--ring.tls-ca-file={certFile}");
            using var plain = AmphoraProcess.Start(null, null, "--target=distributor", members, "--ring.replication-factor=1");
            await Task.WhenAll(secure.WaitReadyAsync(), plain.WaitReadyAsync());

            long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
            using var secureWriter = new RemoteWriteClient(secure.BaseAddress);
            using var plainWriter = new RemoteWriteClient(plain.BaseAddress);
            var ok = await secureWriter.PushAsync("tls", new WriteRequestBuilder().Series("__name__=\"over_tls\"", (now, 1)));
            Assert.True(ok.Status == HttpStatusCode.NoContent, ok.Body);
            var refused = await plainWriter.PushAsync("tls", new WriteRequestBuilder().Series("__name__=\"over_tls\"", (now + 1, 2)));
            Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.Status);
            await Task.WhenAll(secure.TerminateAsync(TimeSpan.FromSeconds(20)), plain.TerminateAsync(TimeSpan.FromSeconds(20)),
                ingester.TerminateAsync(TimeSpan.FromSeconds(20)));
        }
        finally
        {
            try { Directory.Delete(dir, true); } catch (IOException) { }
        }
    }
}
