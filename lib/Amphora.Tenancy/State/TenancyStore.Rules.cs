using Amphora.Tenancy.Rules;

namespace Amphora.Tenancy.State;

// Typed access to rule groups namespaces and Alertmanager definitions: reads from the current snapshot (no I/O), changes
// through UpdateAsync.
public sealed partial class TenancyStore
{
    /// <summary>The namespace as of the last sync or own write, or null.</summary>
    public RuleGroupsNamespaceRecord? FindRuleGroupsNamespace(string workspaceId, string name)
    {
        foreach (var ns in _current.RuleGroupsNamespaces(workspaceId))
            if (ns.Name == name) return ns;
        return null;
    }

    /// <summary>The namespaces of a workspace as of the last sync or own write, ordered by name.</summary>
    public IReadOnlyList<RuleGroupsNamespaceRecord> RuleGroupsNamespaces(string workspaceId) => _current.RuleGroupsNamespaces(workspaceId);

    /// <summary>Creates, changes or deletes (when <paramref name="change"/> returns null) one namespace; see
    /// <see cref="UpdateAsync{T}"/> for races (409) and an unreachable bucket (500).</summary>
    public Task<RuleGroupsNamespaceRecord?> UpdateRuleGroupsNamespaceAsync(string workspaceId, string name,
        Func<RuleGroupsNamespaceRecord?, RuleGroupsNamespaceRecord?> change, CancellationToken ct = default) =>
        UpdateOneAsync(TenancyLayout.RuleGroupsNamespace(workspaceId, name), TenancyObjectKind.RuleGroupsNamespace, change,
            ns => ns.WorkspaceId == workspaceId && ns.Name == name, ct);

    /// <summary>The workspace's Alertmanager definition as of the last sync or own write, or null.</summary>
    public AlertManagerDefinitionRecord? FindAlertManagerDefinition(string workspaceId) =>
        _current.AlertManagerDefinitions.GetValueOrDefault(workspaceId);

    /// <summary>Creates, changes or deletes (when <paramref name="change"/> returns null) a workspace's Alertmanager
    /// definition; see <see cref="UpdateAsync{T}"/>.</summary>
    public Task<AlertManagerDefinitionRecord?> UpdateAlertManagerDefinitionAsync(string workspaceId,
        Func<AlertManagerDefinitionRecord?, AlertManagerDefinitionRecord?> change, CancellationToken ct = default) =>
        UpdateOneAsync(TenancyLayout.AlertManagerDefinition(workspaceId), TenancyObjectKind.AlertManagerDefinition, change,
            am => am.WorkspaceId == workspaceId, ct);

    /// <summary>Deletes every rule groups namespace and the Alertmanager definition of a deleted workspace, including any
    /// written by another component since this one last synced (the bucket is listed). Returns how many objects it removed.</summary>
    public async Task<int> DeleteRulesOfWorkspaceAsync(string workspaceId, CancellationToken ct = default)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var ns in RuleGroupsNamespaces(workspaceId)) names.Add(ns.Name);
        string prefix = Prefix + TenancyLayout.RuleGroupsNamespacesOf(workspaceId);
        IReadOnlyList<string> listed;
        try
        {
            listed = await _bucket.ListAsync(prefix, recursive: true, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (IsBucketFailure(e, ct))
        {
            throw Unavailable(prefix, e);
        }
        foreach (string full in listed)
        {
            var (kind, id) = TenancyLayout.Classify(full[Prefix.Length..]);
            if (kind == TenancyObjectKind.RuleGroupsNamespace) names.Add(id[(id.IndexOf('/') + 1)..]);
        }
        int removed = 0;
        foreach (string name in names)
        {
            if (RuleValidation.NamespaceName(name) is not null) continue; // not an object this version writes
            bool existed = false;
            await UpdateRuleGroupsNamespaceAsync(workspaceId, name, before => { existed = before is not null; return null; }, ct).ConfigureAwait(false);
            if (existed) removed++;
        }
        bool hadDefinition = false;
        await UpdateAlertManagerDefinitionAsync(workspaceId, before => { hadDefinition = before is not null; return null; }, ct).ConfigureAwait(false);
        return removed + (hadDefinition ? 1 : 0);
    }
}
