using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>An ingester whose gRPC port other hosts can reach does not start without a way to tell callers apart.</summary>
public sealed class IngesterStartupTests
{
    [Fact]
    public async Task An_ingester_on_a_non_loopback_grpc_address_without_secret_or_mutual_tls_exits_naming_the_flags()
    {
        using var ingester = AmphoraProcess.Start(null, null, "--target=ingester", $"--grpc.listen=0.0.0.0:{FreePort.Next()}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await ingester.WaitForExitAsync(timeout.Token);
        Assert.Equal(2, ingester.ExitCode);
        Assert.Contains("is not a loopback address", ingester.Output);
        Assert.Contains("--cluster.secret-file", ingester.Output);
        Assert.Contains("--grpc.tls-client-ca-file", ingester.Output);
    }
}
