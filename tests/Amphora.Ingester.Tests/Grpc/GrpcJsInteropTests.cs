using System.Diagnostics;
using System.Text.Json;
using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.Cluster.Security;
using Grpc.Core;

namespace Amphora.Ingester.Tests.Grpc;

/// <summary>The cluster's gRPC client against another implementation, a grpc-js server of ingester.proto from npm: unary
/// and streaming calls, the secret as metadata, typed rejections, error statuses with non-ASCII text, deadlines and
/// unimplemented methods. (The other direction, grpc-js calling a running ingester, is an end-to-end test.)</summary>
public sealed class GrpcJsInteropTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private const string SecretText = "interop-secret-0123456789";

    private static string Repo()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cluster.sln not found");
    }

    [Fact]
    public async Task Amphoras_client_calls_a_grpc_js_ingester()
    {
        string repo = Repo();
        string interop = Path.Combine(repo, "tests", "Amphora.Ingester.Tests", "interop");
        if (!Directory.Exists(Path.Combine(interop, "node_modules", "@grpc", "grpc-js")))
            throw new InvalidOperationException($"grpc-js is not installed: run npm ci in {interop} (test.sh does)");
        var psi = new ProcessStartInfo("node", ["ingester-server.js", Path.Combine(repo, "lib", "Amphora.Cluster", "Protos", "ingester.proto"), SecretText])
        {
            WorkingDirectory = interop, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        using var node = Process.Start(psi) ?? throw new InvalidOperationException("cannot start node (install Node.js)");
        try
        {
            var line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            int port = JsonDocument.Parse(line ?? throw new InvalidOperationException(await node.StandardError.ReadToEndAsync()))
                .RootElement.GetProperty("port").GetInt32();
            using var anonymous = ClusterTransport.Plaintext.Client($"127.0.0.1:{port}", IngesterClient.MaxMessageSize);
            Assert.Equal(StatusCode.Unauthenticated,
                (await Assert.ThrowsAsync<RpcException>(() => anonymous.StateAsync(Timeout, default))).StatusCode);

            using var client = new ClusterTransport(Secret: ClusterSecret.Parse(SecretText)).Client($"127.0.0.1:{port}", IngesterClient.MaxMessageSize);
            var state = await client.StateAsync(Timeout, default);
            Assert.Equal(("node-0", InstanceState.Active), (state.Instance, state.State));

            var pushed = await client.PushAsync(IngesterGrpcTests.Push("ws", 3, 1000), Timeout, default);
            Assert.Equal(2, pushed.SamplesAccepted);
            var rejection = Assert.Single(pushed.Rejections);
            Assert.Equal((0, 1000L, AppendStatus.SeriesLimit, "err-amphora-max-series-per-workspace"),
                (rejection.SeriesIndex, rejection.TimestampMs, rejection.Status, rejection.Reason));

            var names = new List<string>();
            await foreach (var batch in client.QueryStreamAsync(new QueryRequest { Workspace = "ws" }, Timeout, default))
                names.AddRange(batch.Series.Select(s => s.Labels.Single().Value));
            Assert.Equal(["n0", "n1", "n2"], names);

            var refused = await Assert.ThrowsAsync<RpcException>(() => client.PushAsync(IngesterGrpcTests.Push("refused", 1, 1), Timeout, default));
            Assert.Equal(StatusCode.FailedPrecondition, refused.StatusCode);
            Assert.Equal("refused: ünïcode % text", refused.Status.Detail);

            var late = await Assert.ThrowsAsync<RpcException>(() =>
                client.LabelNamesAsync(new LabelNamesRequest { Workspace = "ws" }, TimeSpan.FromMilliseconds(200), default));
            Assert.Equal(StatusCode.DeadlineExceeded, late.StatusCode);

            var unknown = await Assert.ThrowsAsync<RpcException>(() =>
                client.MetadataAsync(new MetadataRequest { Workspace = "ws" }, Timeout, default));
            Assert.Equal(StatusCode.Unimplemented, unknown.StatusCode);
        }
        finally
        {
            node.StandardInput.Close();
            if (!node.WaitForExit(5000)) node.Kill(true);
        }
    }
}
