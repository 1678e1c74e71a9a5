namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>An <c>amphora</c> process started from the built server, on a free loopback port with its own data dir.</summary>
public sealed class AmphoraProcess : ChildProcess
{
    public string DataDir { get; }
    public int Port { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");
    private readonly bool _ownsDataDir;

    private AmphoraProcess(string dataDir, int port, bool ownsDataDir, IEnumerable<string> args)
        : base("dotnet", args)
    {
        DataDir = dataDir;
        Port = port;
        _ownsDataDir = ownsDataDir;
    }

    public static AmphoraProcess Start(string? dataDir = null, int? port = null, params string[] extraArgs)
    {
        bool owns = dataDir is null;
        dataDir ??= RepoPaths.NewTempDir("amphora-e2e");
        int p = port ?? FreePort.Next();
        var args = new List<string> { RepoPaths.AmphoraDll, $"--listen=127.0.0.1:{p}", $"--data-dir={dataDir}" };
        // Tests that are not about access control run without it, as a laptop user with --auth=none would.
        if (!extraArgs.Any(a => a.StartsWith("--auth=", StringComparison.Ordinal))) args.Add("--auth=none");
        args.AddRange(extraArgs);
        return new AmphoraProcess(dataDir, p, owns, args);
    }

    /// <summary>Waits until /ready answers 200, failing with the process output if it exits or takes too long.</summary>
    public async Task WaitReadyAsync(TimeSpan? timeout = null)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (HasExited) throw new InvalidOperationException($"amphora exited with {ExitCode} before it was ready:\n{Output}");
            try
            {
                var r = await http.GetAsync(new Uri(BaseAddress, "/ready"));
                if (r.IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException($"amphora not ready in time:\n{Output}");
    }

    public override void Dispose()
    {
        base.Dispose();
        if (_ownsDataDir)
        {
            try { Directory.Delete(DataDir, recursive: true); } catch (IOException) { }
        }
    }
}
