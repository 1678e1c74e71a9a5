using System.Globalization;
using Amphora.Tenancy.Rules;
using Microsoft.Extensions.Logging;

namespace Amphora.Alertmanager;

/// <summary>
/// Keeps one workspace's Alertmanager running with its current definition, in its own loop (no lock; nothing here is on a
/// request's path but <see cref="Endpoint"/>, a volatile read). It writes the definition's files, starts the process and
/// waits for <c>/-/ready</c>; a new definition is written and reloaded (<c>POST /-/reload</c>, then the process's metrics
/// must show a successful reload made after the request); a process that exits or does not start is started again after
/// a backoff that doubles per failure, logged once per streak of failures. Each outcome is recorded on the definition
/// it was for (ACTIVE, CREATION_FAILED or UPDATE_FAILED with the process's own error line as the reason).
/// </summary>
internal sealed partial class WorkspaceAlertmanager
{
    private static readonly TimeSpan Poll = TimeSpan.FromMilliseconds(200);

    /// <summary>How long a stopping process has to write its state before it is killed.</summary>
    private static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(10);

    private readonly string _workspaceId;
    private readonly AlertmanagerOptions _options;
    private readonly StatusReporter _report;
    private readonly HttpClient _http;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private volatile AlertManagerDefinitionRecord _wanted;
    private volatile Uri? _endpoint;
    private AlertmanagerProcess? _process; // only the loop uses it
    private Task _loop = Task.CompletedTask;

    /// <summary>Records the outcome of loading a definition (the one with this <c>modifiedAt</c>).</summary>
    public delegate Task StatusReporter(string workspaceId, DateTimeOffset modifiedAt, RuleStatus status, CancellationToken ct);

    public WorkspaceAlertmanager(string workspaceId, AlertManagerDefinitionRecord definition, AlertmanagerOptions options,
        StatusReporter report, HttpClient http, ILogger logger)
    {
        _workspaceId = workspaceId;
        _wanted = definition;
        _options = options;
        _report = report;
        _http = http;
        _logger = logger;
        Directory = Path.Combine(options.Root, workspaceId);
    }

    public string Directory { get; }

    /// <summary>The loopback base URL of the running, ready process (its routes are under
    /// <c>workspaces/{id}/alertmanager/</c> from there), or null while it is not running.</summary>
    public Uri? Endpoint => _endpoint;

    /// <summary>The process id of the running process, for tests and logs.</summary>
    public int? ProcessId { get; private set; }

    public void Start() => _loop = Task.Run(() => RunAsync(_stop.Token));

    /// <summary>Hands over a newer definition; the loop writes and reloads it.</summary>
    public void Update(AlertManagerDefinitionRecord definition) => _wanted = definition;

    /// <summary>Stops the process and, with <paramref name="removeDirectory"/>, removes the workspace's directory.</summary>
    public async Task StopAsync(bool removeDirectory)
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        if (!removeDirectory) return;
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (DirectoryNotFoundException) { }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogRemoveFailed(_logger, _workspaceId, Directory, e.Message);
        }
    }

    /// <summary>The loop; whatever ends it (a stop), the running process is stopped with it.</summary>
    private async Task RunAsync(CancellationToken ct)
    {
        try
        {
            await SuperviseAsync(ct).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        finally
        {
            _endpoint = null;
            if (_process is { } process)
            {
                await process.TerminateAsync(StopGrace).ConfigureAwait(false);
                process.Dispose();
                _process = null;
            }
        }
    }

    private async Task SuperviseAsync(CancellationToken ct)
    {
        int failures = 0;
        while (true)
        {
            ct.ThrowIfCancellationRequested();
            var definition = _wanted;
            string? failure;
            bool ran = false;
            try
            {
                string config = await WriteFilesAsync(definition, ct).ConfigureAwait(false);
                StopLeftover();
                _process = AlertmanagerProcess.Start(_options, _workspaceId, Directory, config, line => LogProcessLine(_logger, _workspaceId, line));
                ProcessId = _process.Pid;
                await File.WriteAllTextAsync(PidFile, _process.Pid.ToString(CultureInfo.InvariantCulture), ct).ConfigureAwait(false);
                failure = await WaitReadyAsync(_process, ct).ConfigureAwait(false);
                if (failure is null)
                {
                    _endpoint = _process.BaseUrl;
                    if (failures > 0) LogRecovered(_logger, _workspaceId, failures);
                    failures = 0;
                    await ReportAsync(definition, RuleStatus.Active, ct).ConfigureAwait(false);
                    ran = true;
                    failure = await WatchAsync(_process, definition, ct).ConfigureAwait(false);
                    _endpoint = null;
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The files cannot be written, the binary cannot be run, ...: a failure like a process that exits, retried
                // with backoff, so one unexpected error does not end the workspace's supervision.
                _endpoint = null;
                failure = e.Message;
            }
            if (_process is { } stale)
            {
                // Still running when an error (not its exit) ended this round: stopped, never left behind.
                await stale.TerminateAsync(StopGrace).ConfigureAwait(false);
                stale.Dispose();
            }
            _process = null;
            ProcessId = null;
            AlertmanagerMetrics.Failures.Add(1, ran ? AlertmanagerMetrics.Exited : AlertmanagerMetrics.StartFailed);
            if (failures++ == 0) LogFailed(_logger, _workspaceId, failure);
            // A start that failed is the definition's failure; a process that ran with it and then died is restarted, and
            // the definition keeps its status.
            if (!ran && _wanted.ModifiedAt == definition.ModifiedAt)
            {
                try
                {
                    await ReportAsync(definition, Failed(definition, failure), ct).ConfigureAwait(false);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    // The status could not be recorded (the bucket is away): the next round tries again; supervision goes on.
                    LogFailed(_logger, _workspaceId, "recording its status: " + e.Message);
                }
            }
            var delay = TimeSpan.FromTicks(Math.Min(_options.MaxRestartBackoff.Ticks, _options.RestartBackoff.Ticks << Math.Min(failures - 1, 20)));
            await WaitAsync(delay, definition, ct).ConfigureAwait(false);
        }
    }

    private string PidFile => Path.Combine(Directory, "alertmanager.pid");

    /// <summary>
    /// Kills an Alertmanager an earlier run of Amphora left on this directory (Amphora was killed before it could stop
    /// it): two processes must not share a storage path. Only a process whose command line names this directory's storage
    /// path is killed, so a reused pid is left alone (Linux: /proc).
    /// </summary>
    private void StopLeftover()
    {
        if (!OperatingSystem.IsLinux() || !File.Exists(PidFile)) return;
        try
        {
            if (!int.TryParse(File.ReadAllText(PidFile), NumberStyles.None, CultureInfo.InvariantCulture, out int pid)) return;
            string storage = $"--storage.path={Path.Combine(Directory, "data")}";
            string cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            if (!cmdline.Split('\0').Contains(storage)) return;
            using var leftover = System.Diagnostics.Process.GetProcessById(pid);
            leftover.Kill();
            leftover.WaitForExit(TimeSpan.FromSeconds(10));
            LogLeftoverKilled(_logger, _workspaceId, pid);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or InvalidOperationException
                                      or System.ComponentModel.Win32Exception)
        {
            // Gone already, or not ours.
        }
    }

    /// <summary>While the process runs: reloads each newer definition; returns why the process ended.</summary>
    private async Task<string> WatchAsync(AlertmanagerProcess process, AlertManagerDefinitionRecord loaded, CancellationToken ct)
    {
        var attempted = loaded;
        while (true)
        {
            await Task.WhenAny(process.Exited, Task.Delay(Poll, ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
            if (process.Exited.IsCompleted) return Exited(process);
            var wanted = _wanted;
            if (wanted.ModifiedAt == attempted.ModifiedAt) continue;
            attempted = wanted;
            string? failure = await ReloadAsync(process, wanted, ct).ConfigureAwait(false);
            if (failure is not null) LogReloadFailed(_logger, _workspaceId, failure);
            else LogReloaded(_logger, _workspaceId);
            AlertmanagerMetrics.Reloads.Add(1, failure is null ? AlertmanagerMetrics.Ok : AlertmanagerMetrics.Failed);
            await ReportAsync(wanted, failure is null ? RuleStatus.Active : new RuleStatus(RuleStatusCode.UpdateFailed, failure), ct)
                .ConfigureAwait(false);
        }
    }

    private static string Exited(AlertmanagerProcess process) => process.ExitCode is > 128 and < 160 and var code
        ? $"alertmanager was killed by signal {code - 128}"
        : $"alertmanager exited with status {process.ExitCode}" + (process.LastError is { } e ? ": " + e : "");

    private static RuleStatus Failed(AlertManagerDefinitionRecord definition, string reason) =>
        new(definition.CreatedAt == definition.ModifiedAt ? RuleStatusCode.CreationFailed : RuleStatusCode.UpdateFailed, reason);

    /// <summary>Null once <c>/-/ready</c> answers 200; else why the start failed (the process's error when it exited).</summary>
    private async Task<string?> WaitReadyAsync(AlertmanagerProcess process, CancellationToken ct)
    {
        var ready = new Uri(process.BaseUrl, AlertmanagerProcess.RoutePrefix(_workspaceId).TrimStart('/') + "/-/ready");
        var deadline = DateTime.UtcNow + _options.ReadyTimeout;
        while (DateTime.UtcNow < deadline)
        {
            if (process.Exited.IsCompleted) return Exited(process);
            try
            {
                using var response = await _http.GetAsync(ready, ct).ConfigureAwait(false);
                if (response.IsSuccessStatusCode) return null;
            }
            catch (HttpRequestException) { }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested) { }
            await Task.WhenAny(process.Exited, Task.Delay(100, ct)).ConfigureAwait(false);
            ct.ThrowIfCancellationRequested();
        }
        process.Kill();
        return $"alertmanager did not become ready within {_options.ReadyTimeout.TotalSeconds:0}s" + ((process.LastError ?? process.LastLine) is { } e ? ": " + e : "");
    }

    /// <summary>Writes the new files and has the process reload them; null when the reload took.</summary>
    private async Task<string?> ReloadAsync(AlertmanagerProcess process, AlertManagerDefinitionRecord definition, CancellationToken ct)
    {
        string prefix = AlertmanagerProcess.RoutePrefix(_workspaceId).TrimStart('/');
        try
        {
            await WriteFilesAsync(definition, ct).ConfigureAwait(false);
            double requested = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0;
            using (var reload = await _http.PostAsync(new Uri(process.BaseUrl, prefix + "/-/reload"), null, ct).ConfigureAwait(false))
            {
                if (!reload.IsSuccessStatusCode)
                {
                    string body = (await reload.Content.ReadAsStringAsync(ct).ConfigureAwait(false)).Trim();
                    return $"alertmanager refused the reload ({(int)reload.StatusCode}): {body.Replace(Directory + Path.DirectorySeparatorChar, "", StringComparison.Ordinal)}";
                }
            }
            string metrics = await _http.GetStringAsync(new Uri(process.BaseUrl, prefix + "/metrics"), ct).ConfigureAwait(false);
            if (Metric(metrics, "alertmanager_config_last_reload_successful") != 1)
                return "alertmanager answered the reload but reports the last reload as failed" + (process.LastError is { } e ? ": " + e : "");
            // Seconds as a float; the clocks are the same machine's, a second of slack covers the rounding.
            if (Metric(metrics, "alertmanager_config_last_reload_success_timestamp_seconds") is not { } at || at < requested - 1)
                return "alertmanager answered the reload but its last successful reload is older than the request";
            return null;
        }
        catch (HttpRequestException e)
        {
            return $"alertmanager could not be asked to reload: {e.Message}";
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            return $"the new definition could not be loaded: {e.Message}";
        }
    }

    /// <summary>The value of an unlabelled sample in Prometheus's text format, or null.</summary>
    private static double? Metric(string text, string name)
    {
        foreach (var line in text.Split('\n'))
            if (line.StartsWith(name + " ", StringComparison.Ordinal)
                && double.TryParse(line.AsSpan(name.Length + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out double v))
                return v;
        return null;
    }

    /// <summary>Writes the configuration and template files into <c>config/</c> (mode 0600 in 0700 directories: they may
    /// hold receivers' secrets) and removes every other file there; returns the configuration file's path.</summary>
    private async Task<string> WriteFilesAsync(AlertManagerDefinitionRecord record, CancellationToken ct)
    {
        AmtoolCheck.Definition definition;
        try
        {
            definition = AmtoolCheck.Parse(System.Text.Encoding.UTF8.GetString(record.Data));
        }
        catch (Amphora.Tenancy.TenancyException e)
        {
            throw new InvalidDataException(e.Message, e);
        }
        CreatePrivateDirectory(Directory);
        CreatePrivateDirectory(ConfigDirectory);
        // Only the definition's files are in the configuration's directory, as in the one amtool checked it in, so a
        // templates glob matches the same files (not the storage, not a template of an earlier definition).
        foreach (var file in System.IO.Directory.EnumerateFileSystemEntries(ConfigDirectory))
        {
            string name = Path.GetFileName(file);
            if (name == AmtoolCheck.ConfigFileName || definition.TemplateFiles.ContainsKey(name)) continue;
            if (System.IO.Directory.Exists(file)) System.IO.Directory.Delete(file, recursive: true);
            else File.Delete(file);
        }
        foreach (var (name, text) in definition.TemplateFiles) await WriteAsync(name, text, ct).ConfigureAwait(false);
        return await WriteAsync(AmtoolCheck.ConfigFileName, definition.AlertmanagerConfig, ct).ConfigureAwait(false);
    }

    /// <summary>Where the configuration and its templates are written: <c>config/</c> of the workspace's directory.</summary>
    private string ConfigDirectory => Path.Combine(Directory, "config");

    private static void CreatePrivateDirectory(string path)
    {
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(path);
        else System.IO.Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>Writes a file whole under a temporary name (beside the configuration's directory, where no glob sees it),
    /// then renames it over the old one, so a reload never reads half of it.</summary>
    private async Task<string> WriteAsync(string name, string text, CancellationToken ct)
    {
        string path = Path.Combine(ConfigDirectory, name), temp = Path.Combine(Directory, name + ".tmp");
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        await using (var stream = new FileStream(temp, options))
        await using (var writer = new StreamWriter(stream))
            await writer.WriteAsync(text.AsMemory(), ct).ConfigureAwait(false);
        File.Move(temp, path, overwrite: true);
        return path;
    }

    /// <summary>Waits out a restart backoff, cut short by a newer definition.</summary>
    private async Task WaitAsync(TimeSpan delay, AlertManagerDefinitionRecord failed, CancellationToken ct)
    {
        var until = DateTime.UtcNow + delay;
        while (DateTime.UtcNow < until && _wanted.ModifiedAt == failed.ModifiedAt)
            await Task.Delay(Poll, ct).ConfigureAwait(false);
    }

    private RuleStatus? _reported;
    private DateTimeOffset _reportedFor;

    /// <summary>Records a status once per change; a failed write (the bucket unreachable) is logged, and the next outcome
    /// is recorded again.</summary>
    private async Task ReportAsync(AlertManagerDefinitionRecord definition, RuleStatus status, CancellationToken ct)
    {
        // The reason is shown to the tenant: the server's directories are none of its business.
        if (status.StatusReason is { } reason)
            status = status with
            {
                StatusReason = reason.Replace(Directory + Path.DirectorySeparatorChar, "", StringComparison.Ordinal)
                    .Replace(Directory, ".", StringComparison.Ordinal).Replace(_options.Root, "<data-dir>/alertmanager", StringComparison.Ordinal),
            };
        if (_reportedFor == definition.ModifiedAt && _reported == status) return;
        var stored = _wanted;
        if (stored.ModifiedAt == definition.ModifiedAt && stored.Status == status)
        {
            (_reported, _reportedFor) = (status, definition.ModifiedAt); // already recorded (e.g. before a restart of Amphora)
            return;
        }
        try
        {
            await _report(_workspaceId, definition.ModifiedAt, status, ct).ConfigureAwait(false);
            _reported = status;
            _reportedFor = definition.ModifiedAt;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogStatusFailed(_logger, _workspaceId, status.StatusCode, e.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "killed the Alertmanager (pid {Pid}) of workspace {Workspace} that an earlier run left running")]
    private static partial void LogLeftoverKilled(ILogger logger, string workspace, int pid);

    [LoggerMessage(Level = LogLevel.Debug, Message = "alertmanager of workspace {Workspace}: {Line}")]
    private static partial void LogProcessLine(ILogger logger, string workspace, string line);

    [LoggerMessage(Level = LogLevel.Warning, Message = "alertmanager of workspace {Workspace} is not running, restarting it with backoff: {Reason}")]
    private static partial void LogFailed(ILogger logger, string workspace, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "alertmanager of workspace {Workspace} runs again after {Failures} failures")]
    private static partial void LogRecovered(ILogger logger, string workspace, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "alertmanager of workspace {Workspace} reloaded its new definition")]
    private static partial void LogReloaded(ILogger logger, string workspace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "alertmanager of workspace {Workspace} did not take its new definition: {Reason}")]
    private static partial void LogReloadFailed(ILogger logger, string workspace, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot record status {Status} of workspace {Workspace}'s Alertmanager definition: {Reason}")]
    private static partial void LogStatusFailed(ILogger logger, string workspace, string status, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot remove the Alertmanager directory {Directory} of workspace {Workspace}: {Reason}")]
    private static partial void LogRemoveFailed(ILogger logger, string workspace, string directory, string reason);
}
