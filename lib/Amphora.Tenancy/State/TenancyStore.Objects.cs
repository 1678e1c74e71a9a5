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
    public Task<WorkspaceRecord?> UpdateWorkspaceAsync(string workspaceId, Func<WorkspaceRecord?, WorkspaceRecord?> change,
        CancellationToken ct = default) =>
        UpdateOneAsync(TenancyLayout.Workspace(workspaceId), TenancyObjectKind.Workspace, change, ws => ws.WorkspaceId == workspaceId, ct);

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
    internal Task<StoredAccessKey?> UpdateKeyAsync(string accessKeyId, Func<StoredAccessKey?, StoredAccessKey?> change,
        CancellationToken ct = default) =>
        UpdateOneAsync(TenancyLayout.AccessKey(accessKeyId), TenancyObjectKind.AccessKey, change, k => k.Key.AccessKeyId == accessKeyId, ct);

    /// <summary><see cref="UpdateAsync{T}"/> of one object whose change must return that same object (by its id), or null.</summary>
    private async Task<T?> UpdateOneAsync<T>(string name, TenancyObjectKind kind, Func<T?, T?> change, Func<T, bool> isSameObject,
        CancellationToken ct) where T : class =>
        await UpdateAsync<T>(name, kind, before =>
        {
            var after = change(before);
            if (after is not null && !isSameObject(after))
                throw new ArgumentException($"a change of {name} returned another object", nameof(change));
            return after;
        }, ct).ConfigureAwait(false);
}
