using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.Workspaces;

// Deletion, configuration and tags.
public sealed partial class WorkspaceRegistry
{
    /// <summary>
    /// Marks a workspace DELETING and requests the removal of its data in the background through the deletion hook. Where
    /// this component <see cref="CompletesDeletion"/>, the record disappears when the hook succeeds; elsewhere the compactor
    /// removes the data and then the record (<see cref="CompleteDeletionAsync"/>). Returns the DELETING record.
    /// <see cref="WhenIdleAsync"/> waits for pending deletions.
    /// </summary>
    public async Task<WorkspaceRecord> BeginDeleteAsync(string workspaceId, CancellationToken ct = default)
    {
        var deleting = await _store.UpdateWorkspaceAsync(workspaceId, ws =>
        {
            if (ws is null) throw NotFound(workspaceId);
            if (ws.Status == WorkspaceStatusCode.Deleting)
                throw TenancyException.Conflict($"workspace {workspaceId} is already being deleted");
            return ws with { Status = WorkspaceStatusCode.Deleting };
        }, ct).ConfigureAwait(false);
        StartDeletion(deleting!);
        return deleting!;
    }

    /// <summary>Runs the deletion hook for a DELETING workspace unless it already runs here.</summary>
    private void StartDeletion(WorkspaceRecord ws)
    {
        lock (_lock)
        {
            if (_deletions.TryGetValue(ws.WorkspaceId, out var running) && !running.IsCompleted) return;
            _deletions[ws.WorkspaceId] = Task.Run(() => DeleteDataAsync(ws));
        }
    }

    /// <summary>Finishes deletions left DELETING (by a restart, a failed hook or another component) where this component
    /// completes them.</summary>
    private void ResumeDeletions()
    {
        if (!CompletesDeletion) return;
        foreach (var ws in All())
            if (ws.Status == WorkspaceStatusCode.Deleting) StartDeletion(ws);
    }

    private async Task DeleteDataAsync(WorkspaceRecord ws)
    {
        try
        {
            await _hooks.DeleteDataAsync(ws, CancellationToken.None).ConfigureAwait(false);
            if (CompletesDeletion) await CompleteDeletionAsync(ws.WorkspaceId).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogDeleteFailed(_logger, ws.WorkspaceId, e);
        }
    }

    /// <summary>Removes the rule groups namespaces, the Alertmanager definition and then the record of a DELETING workspace
    /// once its data is gone; nothing happens when it is not DELETING (already removed, or never deleted).</summary>
    public async Task CompleteDeletionAsync(string workspaceId, CancellationToken ct = default)
    {
        if (Find(workspaceId)?.Status == WorkspaceStatusCode.Deleting) await _store.DeleteRulesOfWorkspaceAsync(workspaceId, ct).ConfigureAwait(false);
        await _store.UpdateWorkspaceAsync(workspaceId, ws => ws?.Status == WorkspaceStatusCode.Deleting ? null : ws, ct).ConfigureAwait(false);
    }

    /// <summary>Workspaces marked DELETING, whose data the compactor removes.</summary>
    public IReadOnlyList<string> Deleting() =>
        [.. All().Where(static ws => ws.Status == WorkspaceStatusCode.Deleting).Select(static ws => ws.WorkspaceId)];

    /// <summary>Completes when every deletion started so far here has finished (successfully or not).</summary>
    public Task WhenIdleAsync()
    {
        Task[] pending;
        lock (_lock) pending = [.. _deletions.Values];
        return Task.WhenAll(pending);
    }

    public WorkspaceConfiguration DescribeConfiguration(string workspaceId) => Describe(workspaceId).Configuration;

    /// <summary>Changes the given configuration fields (at least one). Validated as a whole before anything changes.</summary>
    /// <param name="limits">The workspace's own limits, replacing those it had (a field left null is the service's default);
    /// null leaves them unchanged.</param>
    public async Task<WorkspaceConfiguration> UpdateConfigurationAsync(string workspaceId, int? retentionPeriodInDays,
        IReadOnlyList<LimitsPerLabelSet>? limitsPerLabelSet, long? outOfOrderTimeWindowInSeconds, CancellationToken ct = default,
        WorkspaceLimitSettings? limits = null)
    {
        if (retentionPeriodInDays is null && limitsPerLabelSet is null && outOfOrderTimeWindowInSeconds is null && limits is null)
            throw TenancyException.Validation("at least one of limitsPerLabelSet, retentionPeriodInDays, outOfOrderTimeWindowInSeconds or limits must be given");
        var updated = await MutateAsync(workspaceId, ws =>
        {
            var config = ws.Configuration with
            {
                RetentionPeriodInDays = retentionPeriodInDays ?? ws.Configuration.RetentionPeriodInDays,
                LimitsPerLabelSet = limitsPerLabelSet ?? ws.Configuration.LimitsPerLabelSet,
                OutOfOrderTimeWindowInSeconds = outOfOrderTimeWindowInSeconds ?? ws.Configuration.OutOfOrderTimeWindowInSeconds,
                Limits = limits ?? ws.Configuration.Limits,
            };
            WorkspaceValidation.Configuration(config);
            return ws with { Configuration = config };
        }, requireActive: true, ct).ConfigureAwait(false);
        return updated.Configuration;
    }

    public WorkspaceRecord FindByArn(string resourceArn)
    {
        string prefix = _options.WorkspaceArn("");
        if (!resourceArn.StartsWith(prefix, StringComparison.Ordinal))
            throw TenancyException.NotFound($"resource {resourceArn} not found");
        var ws = Find(resourceArn[prefix.Length..]);
        return ws ?? throw TenancyException.NotFound($"resource {resourceArn} not found");
    }

    public IReadOnlyDictionary<string, string> ListTags(string resourceArn) => FindByArn(resourceArn).Tags;

    public async Task TagResourceAsync(string resourceArn, IReadOnlyDictionary<string, string> tags, CancellationToken ct = default)
    {
        WorkspaceValidation.Tags(tags);
        string id = FindByArn(resourceArn).WorkspaceId;
        await MutateAsync(id, ws =>
        {
            var merged = new Dictionary<string, string>(ws.Tags);
            foreach (var (k, v) in tags) merged[k] = v;
            WorkspaceValidation.Tags(merged);
            return ws with { Tags = merged };
        }, requireActive: false, ct).ConfigureAwait(false);
    }

    public async Task UntagResourceAsync(string resourceArn, IReadOnlyCollection<string> tagKeys, CancellationToken ct = default)
    {
        if (tagKeys.Count == 0) throw TenancyException.Validation("tagKeys: at least one tag key is required");
        foreach (var k in tagKeys) WorkspaceValidation.TagKey(k);
        string id = FindByArn(resourceArn).WorkspaceId;
        await MutateAsync(id, ws =>
        {
            var kept = new Dictionary<string, string>(ws.Tags);
            foreach (var k in tagKeys) kept.Remove(k);
            return ws with { Tags = kept };
        }, requireActive: false, ct).ConfigureAwait(false);
    }

    /// <summary>Changes one workspace in the shared state (read, change, conditional write; computed again after a lost
    /// race); <paramref name="change"/> may throw to refuse and must have no other effect.</summary>
    private async Task<WorkspaceRecord> MutateAsync(string workspaceId, Func<WorkspaceRecord, WorkspaceRecord> change, bool requireActive,
        CancellationToken ct)
    {
        var updated = await _store.UpdateWorkspaceAsync(workspaceId, ws =>
        {
            if (ws is null) throw NotFound(workspaceId);
            if (requireActive && !ws.IsActive)
                throw TenancyException.Conflict($"workspace {workspaceId} is {ws.Status}; it can be changed only when ACTIVE");
            return change(ws);
        }, ct).ConfigureAwait(false);
        return updated!;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "deleting the data of workspace {WorkspaceId} failed; it stays DELETING")]
    private static partial void LogDeleteFailed(ILogger logger, string workspaceId, Exception e);
}
