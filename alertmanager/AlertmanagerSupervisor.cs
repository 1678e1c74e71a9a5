using System.Collections.Concurrent;
using Amphora.Services;
using Amphora.Tenancy.Rules;
using Amphora.Tenancy.State;
using Amphora.Tenancy.Workspaces;
using Microsoft.Extensions.Logging;

namespace Amphora.Alertmanager;

/// <summary>
/// Runs the real Prometheus Alertmanager once per ACTIVE (or UPDATING) workspace that has an Alertmanager definition
/// (<c>--target=alertmanager</c>, and <c>all</c> when a binary is there). It compares the shared tenancy state with the
/// running processes every <see cref="AlertmanagerOptions.ReconcileInterval"/> and whenever the state changes: a new
/// definition gets a process (<see cref="WorkspaceAlertmanager"/>), a changed one is reloaded, and one whose definition
/// or workspace is gone is stopped and its directory removed. Only this loop changes the set of processes; requests read
/// it lock-free through <see cref="EndpointFor"/>.
/// </summary>
public sealed partial class AlertmanagerSupervisor : ServiceBase
{
    private readonly AlertmanagerOptions _options;
    private readonly TenancyStore _store;
    private readonly WorkspaceAlertmanager.StatusReporter _report;
    private readonly ILoggerFactory _loggers;
    private readonly ILogger _logger;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, WorkspaceAlertmanager> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _changed = new(0, 1);

    public AlertmanagerSupervisor(AlertmanagerOptions options, TenancyStore store, RulesRegistry rules, ILoggerFactory loggers)
    {
        _options = options;
        _store = store;
        _report = async (ws, modifiedAt, status, ct) => await rules.SetAlertManagerStatusAsync(ws, modifiedAt, status, ct).ConfigureAwait(false);
        _loggers = loggers;
        _logger = loggers.CreateLogger<AlertmanagerSupervisor>();
        _http = new HttpClient(new SocketsHttpHandler { UseProxy = false, PooledConnectionLifetime = TimeSpan.FromMinutes(5) })
        {
            Timeout = TimeSpan.FromSeconds(30),
        };
        _store.Changed += _ => Wake();
        AlertmanagerMetrics.ObserveRunning(() => _running.Values.Count(am => am.Endpoint is not null));
    }

    public override string Name => "alertmanager";

    /// <summary>The HTTP client requests to the workspaces' processes go through (loopback, no proxy).</summary>
    internal HttpClient Http => _http;

    internal AlertmanagerOptions Options => _options;

    /// <summary>
    /// The loopback base URL of the workspace's running Alertmanager, or null when it has none running (no definition,
    /// not started yet, or restarting). The process serves under the same path as Amphora does, so the ruler in
    /// <c>--target=all</c> posts to <c>new Uri(EndpointFor(id), $"workspaces/{id}/alertmanager/api/v2/alerts")</c>, as it
    /// posts to Amphora's URL in a cluster.
    /// </summary>
    public Uri? EndpointFor(string workspaceId) => _running.TryGetValue(workspaceId, out var am) ? am.Endpoint : null;

    /// <summary>The process id of the workspace's running Alertmanager, or null.</summary>
    public int? ProcessIdOf(string workspaceId) => _running.TryGetValue(workspaceId, out var am) ? am.ProcessId : null;

    protected override Task StartingAsync(CancellationToken ct)
    {
        Directory.CreateDirectory(_options.Root);
        return Task.CompletedTask;
    }

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        RemoveLeftovers(_store.Current);
        while (!stopping.IsCancellationRequested)
        {
            await ReconcileAsync(_store.Current).ConfigureAwait(false);
            try
            {
                await _changed.WaitAsync(_options.ReconcileInterval, stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                break;
            }
        }
    }

    protected override async Task StoppingAsync(CancellationToken ct)
    {
        await Task.WhenAll(_running.Values.Select(am => am.StopAsync(removeDirectory: false))).ConfigureAwait(false);
        _running.Clear();
        _http.Dispose();
    }

    private void Wake()
    {
        try
        {
            if (_changed.CurrentCount == 0) _changed.Release();
        }
        catch (SemaphoreFullException) { } // already woken
    }

    /// <summary>The definitions that should run: those of workspaces that are ACTIVE or UPDATING.</summary>
    internal static Dictionary<string, AlertManagerDefinitionRecord> Wanted(TenancySnapshot state)
    {
        var wanted = new Dictionary<string, AlertManagerDefinitionRecord>(StringComparer.Ordinal);
        foreach (var (ws, definition) in state.AlertManagerDefinitions)
            if (state.Workspaces.TryGetValue(ws, out var w) && w.Status is WorkspaceStatusCode.Active or WorkspaceStatusCode.Updating)
                wanted[ws] = definition;
        return wanted;
    }

    private async Task ReconcileAsync(TenancySnapshot state)
    {
        if (state.SyncedAt is null) return; // nothing read yet: not a reason to stop anything
        var wanted = Wanted(state);
        foreach (var (ws, definition) in wanted)
        {
            if (_running.TryGetValue(ws, out var am))
            {
                am.Update(definition);
                continue;
            }
            am = new WorkspaceAlertmanager(ws, definition, _options, _report, _http, _loggers.CreateLogger<WorkspaceAlertmanager>());
            _running[ws] = am;
            LogStarting(_logger, ws, am.Directory);
            am.Start();
        }
        foreach (var (ws, am) in _running)
        {
            if (wanted.ContainsKey(ws)) continue;
            _running.TryRemove(ws, out _);
            await am.StopAsync(removeDirectory: true).ConfigureAwait(false);
            LogStopped(_logger, ws);
        }
    }

    /// <summary>Removes the directories of workspaces whose definition went while this component was down.</summary>
    private void RemoveLeftovers(TenancySnapshot state)
    {
        if (state.SyncedAt is null) return;
        var wanted = Wanted(state);
        foreach (var dir in Directory.EnumerateDirectories(_options.Root))
        {
            string ws = Path.GetFileName(dir);
            if (wanted.ContainsKey(ws) || Amphora.Model.WorkspaceIds.Validate(ws) is not null) continue;
            try
            {
                Directory.Delete(dir, recursive: true);
                LogStopped(_logger, ws);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "starting the Alertmanager of workspace {Workspace} in {Directory}")]
    private static partial void LogStarting(ILogger logger, string workspace, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "stopped the Alertmanager of workspace {Workspace} and removed its directory")]
    private static partial void LogStopped(ILogger logger, string workspace);
}
