using System.Diagnostics;
using System.Text.Json;
using Amphora.Rpc.Tests.Echo;
using Xunit;

namespace Amphora.Rpc.Tests;

/// <summary>Interoperability with a real gRPC implementation, grpc-js from npm, in both directions.</summary>
public sealed class InteropTests
{
    private static string InteropDir()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) dir = dir.Parent;
        string interop = Path.Combine(dir?.FullName ?? throw new InvalidOperationException("Cluster.sln not found"), "tests", "Amphora.Rpc.Tests", "interop");
        if (!Directory.Exists(Path.Combine(interop, "node_modules", "@grpc", "grpc-js")))
            Run("npm", ["ci", "--silent", "--no-audit", "--no-fund"], interop, TimeSpan.FromMinutes(3));
        return interop;
    }

    private static string Proto => Path.Combine(AppContext.BaseDirectory, "Protos", "echo.proto");

    private static string Run(string file, string[] args, string dir, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file, args) { WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file} (install Node.js and npm)");
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout)) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(' ', args)} took too long"); }
        if (p.ExitCode != 0) throw new InvalidOperationException($"{file} {string.Join(' ', args)} failed: {stderr.Result}");
        return stdout.Result;
    }

    [Fact]
    public async Task A_grpc_js_client_calls_amphoras_server()
    {
        string dir = InteropDir();
        await using var server = await EchoServer.StartAsync();
        string output = await Task.Run(() => Run("node", ["client.js", Proto, server.Port.ToString()], dir, TimeSpan.FromMinutes(1)));
        var json = JsonDocument.Parse(output).RootElement;
        Assert.Equal(0, json.GetProperty("say").GetProperty("code").GetInt32());
        Assert.Equal("amphora:hello", json.GetProperty("say").GetProperty("reply").GetProperty("text").GetString());
        Assert.Equal(["n0", "n1", "n2"], json.GetProperty("count").GetProperty("items").EnumerateArray().Select(i => i.GetProperty("text").GetString()));
        Assert.Equal(9, json.GetProperty("fail").GetProperty("code").GetInt32()); // FAILED_PRECONDITION
        Assert.Equal("refused: ünïcode % text", json.GetProperty("fail").GetProperty("details").GetString());
        Assert.Equal(4, json.GetProperty("sleep").GetProperty("code").GetInt32()); // DEADLINE_EXCEEDED
    }

    [Fact]
    public async Task Amphoras_client_calls_a_grpc_js_server()
    {
        string dir = InteropDir();
        var psi = new ProcessStartInfo("node", ["server.js", Proto])
        {
            WorkingDirectory = dir, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true,
        };
        using var node = Process.Start(psi)!;
        try
        {
            var line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
            int port = JsonDocument.Parse(line!).RootElement.GetProperty("port").GetInt32();
            using var channel = new GrpcChannel(new Uri($"http://127.0.0.1:{port}"));

            var reply = await channel.UnaryAsync("/amphora.test.Echo/Say", new EchoRequest { Text = "hello" }, EchoReply.Parser);
            Assert.Equal("node:hello", reply.Text);

            var items = new List<string>();
            await foreach (var r in channel.ServerStreamingAsync("/amphora.test.Echo/Count", new CountRequest { N = 3, DelayMs = 10 }, EchoReply.Parser))
                items.Add(r.Text);
            Assert.Equal(["n0", "n1", "n2"], items);

            var fail = await Assert.ThrowsAsync<RpcException>(() =>
                channel.UnaryAsync("/amphora.test.Echo/Fail", new EchoRequest { Text = "ünïcode % text" }, EchoReply.Parser));
            Assert.Equal(StatusCode.FailedPrecondition, fail.Status);
            Assert.Equal("refused: ünïcode % text", fail.Detail);

            var late = await Assert.ThrowsAsync<RpcException>(() => channel.UnaryAsync("/amphora.test.Echo/Sleep",
                new SleepRequest { Ms = 2000 }, EchoReply.Parser, new CallOptions { Timeout = TimeSpan.FromMilliseconds(200) }));
            Assert.Equal(StatusCode.DeadlineExceeded, late.Status);

            var unknown = await Assert.ThrowsAsync<RpcException>(() =>
                channel.UnaryAsync("/amphora.test.Echo/Nope", new EchoRequest(), EchoReply.Parser));
            Assert.Equal(StatusCode.Unimplemented, unknown.Status);
        }
        finally
        {
            node.StandardInput.Close();
            if (!node.WaitForExit(5000)) node.Kill(true);
        }
    }
}
