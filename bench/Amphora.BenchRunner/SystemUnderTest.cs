using System.Diagnostics;
using System.Text;

namespace Amphora.BenchRunner;

/// <summary>
/// One metrics backend under test, started as a child process pinned to the benchmark's cores, with its own port and
/// data directory. Both systems are driven through the same HTTP protocols, so every figure compares like with like.
/// </summary>
public abstract class SystemUnderTest : IDisposable
{
    private Process? _process;
    private readonly StringBuilder _output = new();

    protected SystemUnderTest(string dataDir, int port, string cores)
    {
        DataDir = dataDir;
        Port = port;
        Cores = cores;
    }

    public abstract string Name { get; }
    public string DataDir { get; }
    public int Port { get; }
    public string Cores { get; }
    public Uri BaseAddress => new($"http://127.0.0.1:{Port}");
    public abstract Uri WriteUrl { get; }
    /// <summary>Prefix of the Prometheus HTTP API (<c>/api/v1</c> or a workspace's).</summary>
    public abstract string ApiPrefix { get; }
    public abstract string? OrgId { get; }
    protected abstract string ReadyPath { get; }
    protected abstract (string File, IEnumerable<string> Args) Command();
    public abstract string Version { get; }
    public int Pid => _process?.Id ?? throw new InvalidOperationException($"{Name} is not running");
    public string Output { get { lock (_output) return _output.ToString(); } }

    public async Task<TimeSpan> StartAsync()
    {
        var (file, args) = Command();
        var psi = new ProcessStartInfo { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        if (File.Exists("/usr/bin/taskset"))
        {
            psi.FileName = "/usr/bin/taskset";
            psi.ArgumentList.Add("-c");
            psi.ArgumentList.Add(Cores);
            psi.ArgumentList.Add(file);
        }
        else
        {
            psi.FileName = file;
        }
        foreach (var a in args) psi.ArgumentList.Add(a);
        var started = Stopwatch.StartNew();
        _process = Process.Start(psi) ?? throw new InvalidOperationException($"cannot start {file}");
        _process.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (_output) _output.AppendLine(e.Data); };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        while (started.Elapsed < TimeSpan.FromMinutes(30))
        {
            if (_process.HasExited) throw new InvalidOperationException($"{Name} exited with {_process.ExitCode}:\n{Output}");
            try
            {
                if ((await http.GetAsync(new Uri(BaseAddress, ReadyPath))).IsSuccessStatusCode) return started.Elapsed;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) { }
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Name} not ready after 30 minutes");
    }

    /// <summary>SIGTERM, then waits for a clean exit (the WAL and head closed).</summary>
    public async Task StopAsync()
    {
        if (_process is null || _process.HasExited) return;
        using (var kill = Process.Start("kill", ["-TERM", _process.Id.ToString()])) await kill.WaitForExitAsync();
        using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await _process.WaitForExitAsync(cts.Token);
        _process.Dispose();
        _process = null;
    }

    /// <summary>Block directories (those holding a meta.json) under the data dir.</summary>
    public virtual IEnumerable<string> BlockDirectories() => BlocksUnder(DataDir);

    protected static IEnumerable<string> BlocksUnder(string dir) =>
        Directory.Exists(dir)
            ? Directory.EnumerateFiles(dir, "meta.json", SearchOption.AllDirectories).Select(Path.GetDirectoryName).OfType<string>()
            : [];

    public abstract long WalBytes();


    public void Dispose()
    {
        if (_process is { HasExited: false }) _process.Kill(entireProcessTree: true);
        _process?.Dispose();
    }
}

/// <summary>Amphora all-in-one, the built server.</summary>
public sealed class AmphoraSystem(string dll, string dataDir, int port, string cores, string blockRange, IReadOnlyList<string>? extraArgs = null)
    : SystemUnderTest(dataDir, port, cores)
{
    public override string Name => "amphora";
    public override Uri WriteUrl => new(BaseAddress, "/api/v1/push");
    public override string ApiPrefix => "/prometheus/api/v1";
    public override string? OrgId => "bench";
    protected override string ReadyPath => "/ready";
    public override string Version => "amphora (this commit), .NET " + Environment.Version;

    protected override (string, IEnumerable<string>) Command() =>
        ("/usr/bin/dotnet", [dll, $"--listen=127.0.0.1:{Port}", $"--data-dir={DataDir}", $"--tsdb.block-range={blockRange}", "--log.level=warn",
            "--ingester.out-of-order-window=0s", "--auth=none", .. extraArgs ?? []]);

    public override long WalBytes() => ProcStats.DirectoryBytes(DataDir, p => p.Split('/').Contains("wal"));

    /// <summary>The blocks in the (filesystem) bucket; the ingester's local copies of the same blocks are not counted twice.</summary>
    public override IEnumerable<string> BlockDirectories() => BlocksUnder(Path.Combine(DataDir, "bucket"));
}

/// <summary>Prometheus from Debian as a remote-write receiver (nothing scraped).</summary>
public sealed class PrometheusSystem(string dataDir, int port, string cores, IReadOnlyList<string>? extraArgs = null)
    : SystemUnderTest(dataDir, port, cores)
{
    public override string Name => "prometheus";
    public override Uri WriteUrl => new(BaseAddress, "/api/v1/write");
    public override string ApiPrefix => "/api/v1";
    public override string? OrgId => null;
    protected override string ReadyPath => "/-/ready";
    public override string Version => VersionOf();

    protected override (string, IEnumerable<string>) Command()
    {
        Directory.CreateDirectory(DataDir);
        string config = Path.Combine(DataDir, "..", $"prometheus-{Port}.yml");
        File.WriteAllText(config, "global:\n  scrape_interval: 15s\n");
        return ("/usr/bin/prometheus", [$"--config.file={config}", $"--storage.tsdb.path={DataDir}", $"--web.listen-address=127.0.0.1:{Port}",
            "--web.enable-remote-write-receiver", "--log.level=warn", .. extraArgs ?? []]);
    }

    public override long WalBytes() => ProcStats.DirectoryBytes(DataDir, p => p.StartsWith("wal", StringComparison.Ordinal) || p.StartsWith("chunks_head", StringComparison.Ordinal));

    private static string VersionOf()
    {
        var psi = new ProcessStartInfo("/usr/bin/prometheus", "--version") { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        string text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
        p.WaitForExit();
        return text.Split('\n')[0].Trim();
    }
}
