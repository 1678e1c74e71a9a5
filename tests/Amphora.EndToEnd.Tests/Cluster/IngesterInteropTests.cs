using System.Diagnostics;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Cluster;

/// <summary>A real gRPC implementation (grpc-js) calls a running amphora ingester that has a cluster secret: unary, streaming,
/// errors and deadlines with the secret as metadata; without it, UNAUTHENTICATED and nothing stored.</summary>
public sealed class IngesterInteropTests
{
    [Fact]
    public async Task A_grpc_js_client_pushes_to_and_streams_from_an_amphora_ingester()
    {
        string repo = Path.GetDirectoryName(RepoPaths.AmphoraDll)!;
        while (!File.Exists(Path.Combine(repo, "Cluster.sln"))) repo = Path.GetDirectoryName(repo)!;
        string nodeModules = Path.Combine(repo, "tests", "Amphora.Ingester.Tests", "interop", "node_modules");
        if (!Directory.Exists(Path.Combine(nodeModules, "@grpc", "grpc-js")))
            throw new InvalidOperationException($"grpc-js is not installed: run npm ci in {Path.GetDirectoryName(nodeModules)} (test.sh does)");
        int grpc = FreePort.Next();
        string secretDir = RepoPaths.NewTempDir("grpc-secret");
        const string secret = "interop-secret-0123456789";
        string secretFile = Path.Combine(secretDir, "cluster-secret");
        await File.WriteAllTextAsync(secretFile, secret + "\n");
        using var ingester = AmphoraProcess.Start(null, null, "--target=ingester", "--ingester.name=ingester-0", $"--grpc.listen=127.0.0.1:{grpc}",
            $"--cluster.secret-file={secretFile}");
        await ingester.WaitReadyAsync();
        Directory.Delete(secretDir, recursive: true); // read at start-up

        var psi = new ProcessStartInfo("node", [Path.Combine(repo, "tests", "Amphora.EndToEnd.Tests", "Cluster", "ingester-client.js"),
            Path.Combine(repo, "lib", "Amphora.Cluster", "Protos", "ingester.proto"), grpc.ToString(), secret])
        {
            RedirectStandardOutput = true, RedirectStandardError = true,
        };
        psi.Environment["NODE_PATH"] = nodeModules;
        using var node = Process.Start(psi)!;
        string stdout = await node.StandardOutput.ReadToEndAsync();
        string stderr = await node.StandardError.ReadToEndAsync();
        await node.WaitForExitAsync();
        Assert.True(node.ExitCode == 0, stderr);
        var r = JsonDocument.Parse(stdout).RootElement;

        Assert.Equal(16, r.GetProperty("anonymousPush").GetProperty("code").GetInt32()); // UNAUTHENTICATED
        Assert.Contains("cluster secret", r.GetProperty("anonymousPush").GetProperty("details").GetString());
        Assert.Equal(16, r.GetProperty("anonymousQuery").GetProperty("code").GetInt32());
        Assert.Equal(0, r.GetProperty("state").GetProperty("code").GetInt32());
        Assert.Equal("ingester-0", r.GetProperty("state").GetProperty("reply").GetProperty("instance").GetString());
        Assert.Equal(2, r.GetProperty("state").GetProperty("reply").GetProperty("state").GetInt32()); // INSTANCE_STATE_ACTIVE
        Assert.Equal(5000, r.GetProperty("push").GetProperty("reply").GetProperty("samplesAccepted").GetInt32());
        Assert.Equal(0, r.GetProperty("query").GetProperty("code").GetInt32());
        Assert.Equal(5000, r.GetProperty("query").GetProperty("count").GetInt32());
        Assert.Equal(3, r.GetProperty("badRegex").GetProperty("code").GetInt32()); // INVALID_ARGUMENT
        Assert.Contains("regexp", r.GetProperty("badRegex").GetProperty("details").GetString());
        Assert.Equal(4, r.GetProperty("deadline").GetProperty("code").GetInt32()); // DEADLINE_EXCEEDED
    }
}
