using Amphora.Ingester;
using Amphora.Tenancy.State;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Server;

/// <summary>
/// In a cluster, an ingester drops the head, WAL series and local blocks of a workspace as soon as its shared tenancy state
/// shows it DELETING, so it neither keeps the data nor uploads a block of it after the compactor removed its objects. The
/// drops run in the background, one at a time per workspace, and never on the thread that publishes the state.
/// </summary>
public sealed partial class IngesterWorkspaceDeletion
{
    private readonly IngesterService _ingester;
    private readonly ILogger _logger;
    private readonly HashSet<string> _dropping = new(StringComparer.Ordinal);

    public IngesterWorkspaceDeletion(IngesterService ingester, TenancyStore store, ILogger<IngesterWorkspaceDeletion> logger)
    {
        _ingester = ingester;
        _logger = logger;
        store.Changed += OnChanged;
    }

    private void OnChanged(TenancySnapshot snapshot)
    {
        var held = _ingester.Workspaces.ToHashSet(StringComparer.Ordinal);
        foreach (var ws in snapshot.Workspaces.Values)
        {
            if (ws.Status != WorkspaceStatusCode.Deleting || !held.Contains(ws.WorkspaceId)) continue;
            lock (_dropping)
                if (!_dropping.Add(ws.WorkspaceId)) continue;
            _ = Task.Run(() => DropAsync(ws.WorkspaceId));
        }
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
            LogDropFailed(_logger, workspace, e); // tried again at the next change of the state
        }
        finally
        {
            lock (_dropping) _dropping.Remove(workspace);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "dropped the data of workspace {Workspace}, which is being deleted")]
    private static partial void LogDropped(ILogger logger, string workspace);

    [LoggerMessage(Level = LogLevel.Error, Message = "could not drop the data of workspace {Workspace}, which is being deleted")]
    private static partial void LogDropFailed(ILogger logger, string workspace, Exception e);
}
