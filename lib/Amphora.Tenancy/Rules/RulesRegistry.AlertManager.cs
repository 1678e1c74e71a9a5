using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.Rules;

// CreateAlertManagerDefinition, DescribeAlertManagerDefinition, PutAlertManagerDefinition, DeleteAlertManagerDefinition.
public sealed partial class RulesRegistry
{
    public AlertManagerDefinitionRecord DescribeAlertManagerDefinition(string workspaceId)
    {
        RequireWorkspace(workspaceId, change: false);
        return store.FindAlertManagerDefinition(workspaceId) ?? throw DefinitionNotFound(workspaceId);
    }

    /// <summary>CreateAlertManagerDefinition: the workspace's definition, checked by amtool first, <c>CREATING</c> until the
    /// component that runs the workspace's Alertmanager records how starting it went. 409 when it has one, unless this is
    /// a retry of the same call (same client token and data).</summary>
    public async Task<AlertManagerDefinitionRecord> CreateAlertManagerDefinitionAsync(string workspaceId, byte[]? data, string? clientToken,
        CancellationToken ct = default)
    {
        var now = await CheckDefinitionAsync(workspaceId, data, clientToken, ct).ConfigureAwait(false);
        var created = new AlertManagerDefinitionRecord
        {
            WorkspaceId = workspaceId, Data = data!, CreatedAt = now, ModifiedAt = now, ClientToken = clientToken, Status = RuleStatus.Creating,
        };
        var stored = await store.UpdateAlertManagerDefinitionAsync(workspaceId, before =>
        {
            if (before is null) return created;
            if (clientToken is not null && before.ClientToken == clientToken && before.Data.AsSpan().SequenceEqual(data)) return before;
            throw TenancyException.Conflict($"workspace {workspaceId} already has an Alertmanager definition; use PutAlertManagerDefinition to change it");
        }, ct).ConfigureAwait(false);
        return stored!;
    }

    /// <summary>PutAlertManagerDefinition: replaces the workspace's definition (404 when it has none), checked by amtool first;
    /// <c>UPDATING</c> until the running Alertmanager has reloaded it.</summary>
    public async Task<AlertManagerDefinitionRecord> PutAlertManagerDefinitionAsync(string workspaceId, byte[]? data, string? clientToken,
        CancellationToken ct = default)
    {
        var now = await CheckDefinitionAsync(workspaceId, data, clientToken, ct).ConfigureAwait(false);
        var stored = await store.UpdateAlertManagerDefinitionAsync(workspaceId, before =>
            before is null
                ? throw DefinitionNotFound(workspaceId)
                : before with { Data = data!, ModifiedAt = now, Status = RuleStatus.Updating }, ct).ConfigureAwait(false);
        return stored!;
    }

    /// <summary>DeleteAlertManagerDefinition (404 when the workspace has none).</summary>
    public async Task DeleteAlertManagerDefinitionAsync(string workspaceId, string? clientToken, CancellationToken ct = default)
    {
        WorkspaceValidation.ClientToken(clientToken);
        RequireWorkspace(workspaceId, change: true);
        await store.UpdateAlertManagerDefinitionAsync(workspaceId, before => before is null ? throw DefinitionNotFound(workspaceId) : null, ct)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Records how loading the definition went, for the component that runs the workspace's Alertmanager: e.g.
    /// <c>CREATION_FAILED</c> with the reason when the process does not start. Only the definition with the given
    /// <paramref name="modifiedAt"/> is changed (a newer one is left to its own load); false when it is gone or was replaced.
    /// </summary>
    public async Task<bool> SetAlertManagerStatusAsync(string workspaceId, DateTimeOffset modifiedAt, RuleStatus status, CancellationToken ct = default)
    {
        bool applied = false;
        await store.UpdateAlertManagerDefinitionAsync(workspaceId, before =>
        {
            applied = before is not null && before.ModifiedAt == modifiedAt;
            return applied && before!.Status != status ? before with { Status = status } : before;
        }, ct).ConfigureAwait(false);
        return applied;
    }

    /// <summary>Checks a create or put before anything is stored (amtool runs here, with no lock held); returns the time
    /// of the change.</summary>
    private async Task<DateTimeOffset> CheckDefinitionAsync(string workspaceId, byte[]? data, string? clientToken, CancellationToken ct)
    {
        WorkspaceValidation.ClientToken(clientToken);
        RequireWorkspace(workspaceId, change: true);
        if (options.AlertmanagerBinary is null) throw AlertmanagerBinary.Missing();
        await _amtool.CheckAsync(data, ct).ConfigureAwait(false);
        return Now();
    }

    private static TenancyException DefinitionNotFound(string workspaceId) =>
        TenancyException.NotFound($"workspace {workspaceId} has no Alertmanager definition");
}
