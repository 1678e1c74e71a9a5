using System.ComponentModel;
using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Amphora.Bucket;
using Xunit;

namespace Amphora.Bucket.Tests;

/// <summary>
/// A real S3-compatible server for the tests: s3rver from npm, run by s3server/server.js as a child process on 127.0.0.1
/// and a free port. Tests share one server; each keeps its objects apart with its own key prefix. Missing Node.js or a
/// missing `npm ci` fails the tests rather than skipping them, so S3 support is never silently untested. Like S3, the
/// server makes a PUT atomic for readers and honours conditional writes (If-Match / If-None-Match; see server.js).
/// </summary>
public class S3ServerFixture : IAsyncLifetime
{
    public const string BucketName = "amphora-test";

    /// <summary>The keys of s3rver's built-in account. It refuses other access keys, but does not verify V4 signatures.</summary>
    public const string Key = "S3RVER";

    private readonly StringBuilder _stderr = new();
    private Process? _node;

    public string Endpoint { get; private set; } = "";

    /// <summary>False for a server that ignores If-Match and If-None-Match, as stock s3rver and some S3-compatible
    /// services do.</summary>
    protected virtual bool HonoursConditions => true;

    /// <summary>A bucket on the server whose objects live under a prefix of their own.</summary>
    public S3Bucket NewBucket(string? prefix = null, int listPageSize = 1000) => new(new S3BucketOptions(
        BucketName, Endpoint, ForcePathStyle: true, AccessKey: Key, SecretKey: Key,
        Prefix: prefix ?? "test-" + Guid.NewGuid().ToString("N"), ListPageSize: listPageSize));

    public async Task InitializeAsync()
    {
        string dir = ServerDirectory();
        // s3rver makes list continuation tokens with DES, which OpenSSL 3 keeps in its legacy provider.
        var psi = new ProcessStartInfo("node", ["--openssl-legacy-provider", "server.js", BucketName, "0"])
        {
            WorkingDirectory = dir,
            RedirectStandardInput = true, // server.js stops when its stdin closes, even if this process dies
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (!HonoursConditions) psi.Environment["S3RVER_IGNORE_CONDITIONS"] = "1";
        try
        {
            _node = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("cannot run `node` for the S3 test server: install Node.js (./test.sh does)", e);
        }
        _node.ErrorDataReceived += (_, e) => { lock (_stderr) _stderr.AppendLine(e.Data); };
        _node.BeginErrorReadLine();

        string? line;
        try
        {
            line = await _node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException($"the S3 test server did not report its port within 30 s: {Stderr()}");
        }
        if (line is null)
        {
            await _node.WaitForExitAsync();
            throw new InvalidOperationException($"the S3 test server exited with code {_node.ExitCode}: {Stderr()}");
        }
        int port = JsonDocument.Parse(line).RootElement.GetProperty("port").GetInt32();
        Endpoint = $"http://127.0.0.1:{port}";
    }

    /// <summary>Makes the server unreachable, as an outage would: it stops listening and drops its connections; the objects
    /// stay for <see cref="ComeUpAsync"/>.</summary>
    public Task GoDownAsync() => CommandAsync("down");

    /// <summary>Serves again on the same port, with the objects it had.</summary>
    public Task ComeUpAsync() => CommandAsync("up");

    private async Task CommandAsync(string command)
    {
        var node = _node ?? throw new InvalidOperationException("the S3 test server is not running");
        await node.StandardInput.WriteLineAsync(command);
        await node.StandardInput.FlushAsync();
        string? line = await node.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line is null || !line.Contains($"\"{command}\":true", StringComparison.Ordinal))
            throw new InvalidOperationException($"the S3 test server did not confirm \"{command}\" ({line ?? "it exited"}): {Stderr()}");
    }

    public async Task DisposeAsync()
    {
        if (_node is null) return;
        using var node = _node;
        if (!node.HasExited)
        {
            node.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            try
            {
                await node.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                node.Kill(entireProcessTree: true);
            }
        }
    }

    private string Stderr()
    {
        lock (_stderr) return _stderr.ToString().Trim();
    }

    /// <summary>tests/Amphora.Bucket.Tests/s3server in the source tree that the test assembly was built from.</summary>
    private static string ServerDirectory()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Cluster.sln"))) root = root.Parent;
        if (root is null)
            throw new InvalidOperationException($"no Cluster.sln above {AppContext.BaseDirectory}: cannot find the S3 test server");
        string dir = Path.Combine(root.FullName, "tests", "Amphora.Bucket.Tests", "s3server");
        if (!Directory.Exists(Path.Combine(dir, "node_modules", "s3rver")))
            throw new InvalidOperationException($"s3rver is not installed: run `npm ci` in {dir} (./test.sh does)");
        return dir;
    }
}

/// <summary>An S3 server that accepts If-Match and If-None-Match and ignores them, as stock s3rver 3.7.1 does.</summary>
public sealed class S3ServerIgnoringConditionsFixture : S3ServerFixture
{
    protected override bool HonoursConditions => false;
}
