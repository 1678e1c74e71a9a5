using Amphora.Ingester;
using Amphora.Tenancy.State;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Server;

/// <summary>
/// In a cluster, an ingester drops the head, WAL series and local blocks of a workspace as soon as its shared tenancy state
/// shows it DELETING, so it neither keeps the data nor uploads a block of it after the compactor removed its objects: on
/// every change of the state, and for each workspace its WAL replay brings back (a deletion seen while it was down or
/// replaying). Each workspace is dropped once; a failed drop is tried again at the next check. New series of a DELETING
/// workspace are refused meanwhile (<see cref="TenancyModule.LimitSeriesOf"/>), so a late push cannot bring it back. The
/// drops run in the background, never on the thread that publishes the state.
/// </summary>
public sealed partial class IngesterWorkspaceDeletion
{
    private readonly IngesterService _ingester;
    private readonly TenancyStore _store;
    private readonly ILogger _logger;
    private readonly HashSet<string> _dropped = new(StringComparer.Ordinal);

    public IngesterWorkspaceDeletion(IngesterService ingester, TenancyStore store, ILogger<IngesterWorkspaceDeletion> logger)
    {
        _ingester = ingester;
        _store = store;
        _logger = logger;
        store.Changed += OnChanged;
    }

    /// <summary>Drops <paramref name="workspace"/> if the state shows it DELETING (called for each workspace the WAL replay restores).</summary>
    public void Check(string workspace)
    {
        if (_store.Current.Workspaces.TryGetValue(workspace, out var ws) && ws.Status == WorkspaceStatusCode.Deleting) Start(workspace);
    }

    private void OnChanged(TenancySnapshot snapshot)
    {
        lock (_dropped) _dropped.RemoveWhere(id => !snapshot.Workspaces.ContainsKey(id)); // its deletion is complete
        foreach (var ws in snapshot.Workspaces.Values)
            if (ws.Status == WorkspaceStatusCode.Deleting) Start(ws.WorkspaceId);
    }

    private void Start(string workspace)
    {
        lock (_dropped)
            if (!_dropped.Add(workspace)) return;
        _ = Task.Run(() => DropAsync(workspace));
    }

    private async Task DropAsync(string workspace)
    {
        try
        {
            await _ingester.DropWorkspaceAsync(workspace);
            LogDropped(_logger, workspace);
        }
        catch (Exception e)
        {
            lock (_dropped) _dropped.Remove(workspace); // tried again at the next check
            LogDropFailed(_logger, workspace, e);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "dropped the data of workspace {Workspace}, which is being deleted")]
    private static partial void LogDropped(ILogger logger, string workspace);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not drop the data of workspace {Workspace}, which is being deleted; trying again at the next check")]
    private static partial void LogDropFailed(ILogger logger, string workspace, Exception e);
}
