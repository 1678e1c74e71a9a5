using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.State;

// Typed access to workspaces and access keys: reads from the current snapshot (no I/O), changes through UpdateAsync.
public sealed partial class TenancyStore
{
    /// <summary>The workspace as of the last sync or own write, or null.</summary>
    public WorkspaceRecord? FindWorkspace(string workspaceId) => _current.Workspaces.GetValueOrDefault(workspaceId);

    /// <summary>Every workspace as of the last sync or own write, ordered by id.</summary>
    public IReadOnlyList<WorkspaceRecord> Workspaces()
    {
        var list = new List<WorkspaceRecord>(_current.Workspaces.Values);
        list.Sort(static (a, b) => string.CompareOrdinal(a.WorkspaceId, b.WorkspaceId));
        return list;
    }

    /// <summary>
    /// Creates, changes or deletes (when <paramref name="change"/> returns null) workspace <paramref name="workspaceId"/>; see
    /// <see cref="UpdateAsync{T}"/> for races (409) and an unreachable bucket (500).
    /// </summary>
    public async Task<WorkspaceRecord?> UpdateWorkspaceAsync(string workspaceId, Func<WorkspaceRecord?, WorkspaceRecord?> change,
        CancellationToken ct = default)
    {
        string name = TenancyLayout.Workspace(workspaceId);
        return await UpdateAsync<WorkspaceRecord>(name, TenancyObjectKind.Workspace, before =>
        {
            var after = change(before);
            if (after is not null && after.WorkspaceId != workspaceId)
                throw new ArgumentException($"a change of workspace {workspaceId} returned workspace {after.WorkspaceId}", nameof(change));
            return after;
        }, ct).ConfigureAwait(false);
    }

    /// <summary>The access key as of the last sync or own write, or null.</summary>
    internal StoredAccessKey? FindKey(string accessKeyId) => _current.Keys.GetValueOrDefault(accessKeyId);

    /// <summary>Every access key as of the last sync or own write, ordered by id.</summary>
    internal IReadOnlyList<StoredAccessKey> Keys()
    {
        var list = new List<StoredAccessKey>(_current.Keys.Values);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Key.AccessKeyId, b.Key.AccessKeyId));
        return list;
    }

    /// <summary>Creates, changes or deletes (when <paramref name="change"/> returns null) an access key; see
    /// <see cref="UpdateAsync{T}"/>.</summary>
    internal async Task<StoredAccessKey?> UpdateKeyAsync(string accessKeyId, Func<StoredAccessKey?, StoredAccessKey?> change,
        CancellationToken ct = default)
    {
        string name = TenancyLayout.AccessKey(accessKeyId);
        return await UpdateAsync<StoredAccessKey>(name, TenancyObjectKind.AccessKey, before =>
        {
            var after = change(before);
            if (after is not null && after.Key.AccessKeyId != accessKeyId)
                throw new ArgumentException($"a change of access key {accessKeyId} returned key {after.Key.AccessKeyId}", nameof(change));
            return after;
        }, ct).ConfigureAwait(false);
    }
}
