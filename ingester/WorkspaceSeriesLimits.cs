using Amphora.Model;
using Amphora.Storage;
using Amphora.Ingester.Storage;
using Amphora.Tenancy.Limits;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Ingester;

/// <summary>
/// The tenancy's series limits (per workspace, per metric, per label set, each from the workspace's overrides) as the head's
/// series accounting. With the workspace registry, a workspace being deleted takes no new series, so a late push cannot
/// bring back what its ingesters dropped.
/// </summary>
public sealed class WorkspaceSeriesLimits(SeriesLimiter limiter, WorkspaceRegistry? registry = null) : ISeriesAccounting
{
    /// <summary>The id of a new series refused because its workspace is being deleted.</summary>
    public const string WorkspaceDeletingId = "err-amphora-workspace-deleting";

    public SeriesRefusal? TryAdmit(string workspace, Labels series)
    {
        if (registry?.Find(workspace)?.Status == WorkspaceStatusCode.Deleting)
            return new SeriesRefusal(WorkspaceDeletingId, $"{WorkspaceDeletingId}: workspace {workspace} is being deleted");
        return limiter.TryAdd(workspace, series) is { } v ? new SeriesRefusal(v.ErrorId, $"{v.ErrorId}: {v.Message}") : null;
    }

    public void Release(string workspace, Labels series) => limiter.Remove(workspace, series);

    public void Recount(string workspace, IEnumerable<Labels> series) => limiter.Recount(workspace, series);
}
