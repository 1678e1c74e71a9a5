using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace Amphora.Alertmanager;

/// <summary>
/// One run of the Prometheus Alertmanager for a workspace: on 127.0.0.1 at a port picked free, clustering off, its
/// routes under <c>/workspaces/{id}/alertmanager</c> (so the path through Amphora and on loopback is the same). Its
/// standard error (the Alertmanager logs there) is read as it comes; <see cref="LastError"/> keeps the last
/// <c>level=error</c> (or <c>err=</c>) line, which names what failed.
/// </summary>
internal sealed partial class AlertmanagerProcess : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;
    private volatile string? _lastError;
    private volatile string? _lastLine;

    public Uri BaseUrl { get; }
    public int Pid => _process.Id;
    public Task Exited { get; }
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>The last error the process logged (without its timestamp and with its directory left out), or null.</summary>
    public string? LastError => _lastError;

    /// <summary>The last line it logged, cleaned the same way.</summary>
    public string? LastLine => _lastLine;

    private AlertmanagerProcess(Process process, string dir, Uri baseUrl, Action<string> onLine)
    {
        _process = process;
        _dir = dir;
        BaseUrl = baseUrl;
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not { Length: > 0 } line) return;
            onLine(line);
            string cleaned = Clean(line);
            _lastLine = cleaned;
            // Some of its errors have no level (a config subscriber's failure): an err= field marks them.
            if (line.Contains("level=error", StringComparison.Ordinal) || line.Contains(" err=", StringComparison.Ordinal)) _lastError = cleaned;
        };
        _process.OutputDataReceived += (_, e) => { if (e.Data is { Length: > 0 } line) onLine(line); };
        Exited = _process.WaitForExitAsync();
    }

    /// <summary>The prefix of a workspace's Alertmanager routes, the same on loopback as through Amphora.</summary>
    public static string RoutePrefix(string workspaceId) => $"/workspaces/{workspaceId}/alertmanager";

    /// <summary>Starts the Alertmanager on <paramref name="configFile"/>; throws <see cref="System.ComponentModel.Win32Exception"/>
    /// when the binary cannot be run.</summary>
    public static AlertmanagerProcess Start(AlertmanagerOptions options, string workspaceId, string dir, string configFile, Action<string> onLine)
    {
        int port = FreeLoopbackPort();
        string prefix = RoutePrefix(workspaceId);
        var psi = new ProcessStartInfo(options.Binary)
        {
            WorkingDirectory = dir,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        // A tenant's configuration runs here: none of Amphora's environment (bucket credentials such as AWS_* or IRSA
        // variables, which sigv4 receivers would otherwise pick up) goes to it; HOME is its own directory, so no
        // profile or credentials file of this machine's user is found either.
        psi.Environment.Clear();
        psi.Environment["PATH"] = "/usr/local/bin:/usr/bin:/bin";
        psi.Environment["HOME"] = dir;
        if (Environment.GetEnvironmentVariable("TZ") is { } tz) psi.Environment["TZ"] = tz;
        psi.ArgumentList.Add($"--config.file={configFile}");
        psi.ArgumentList.Add($"--storage.path={Path.Combine(dir, "data")}");
        psi.ArgumentList.Add($"--web.listen-address=127.0.0.1:{port}");
        psi.ArgumentList.Add($"--web.external-url={options.PublicBaseUrl.TrimEnd('/')}{prefix}/");
        psi.ArgumentList.Add($"--web.route-prefix={prefix}");
        psi.ArgumentList.Add("--cluster.listen-address=");
        var process = Process.Start(psi) ?? throw new System.ComponentModel.Win32Exception($"{options.Binary} could not be started");
        var run = new AlertmanagerProcess(process, dir, new Uri($"http://127.0.0.1:{port}/"), onLine);
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        return run;
    }

    /// <summary>A port nothing listens on now. Another program may take it before the Alertmanager binds it; that start
    /// then fails ("address already in use") and the next one picks another port.</summary>
    private static int FreeLoopbackPort()
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        return ((IPEndPoint)socket.LocalEndPoint!).Port;
    }

    /// <summary>A log line without its <c>ts=</c> field and with the workspace directory left out of file paths (a status
    /// reason is shown to the tenant, who has no business with the server's paths).</summary>
    private string Clean(string line)
    {
        line = line.Replace(_dir + Path.DirectorySeparatorChar, "", StringComparison.Ordinal).Replace(_dir, ".", StringComparison.Ordinal);
        if (line.StartsWith("ts=", StringComparison.Ordinal) && line.IndexOf(' ') is > 0 and var space) line = line[(space + 1)..];
        return line.Length > 1000 ? line[..1000] + "..." : line;
    }

    /// <summary>Stops the process as its service manager would: SIGTERM, so it writes its silences and notification log
    /// to its storage path, then SIGKILL if it has not exited within <paramref name="grace"/>.</summary>
    public async Task TerminateAsync(TimeSpan grace)
    {
        if (_process.HasExited) return;
        if ((OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()) && SendSignal(_process.Id, SigTerm) == 0)
        {
            using var timeout = new CancellationTokenSource(grace);
            try
            {
                await Exited.WaitAsync(timeout.Token).ConfigureAwait(false);
                return;
            }
            catch (OperationCanceledException) { }
        }
        Kill();
    }

    private const int SigTerm = 15;

    [System.Runtime.InteropServices.LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int SendSignal(int pid, int signal);

    public void Kill()
    {
        try
        {
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException) { } // exited meanwhile
    }

    public void Dispose()
    {
        Kill();
        _process.Dispose();
    }
}
