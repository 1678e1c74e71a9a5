using Microsoft.Extensions.Logging;

namespace Amphora.Tenancy.Workspaces;

// Deletion, configuration and tags.
public sealed partial class WorkspaceRegistry
{
    /// <summary>
    /// Marks a workspace DELETING and removes its data in the background through the deletion hook; the record disappears when
    /// the hook succeeds. Returns the DELETING record. <see cref="WhenIdleAsync"/> waits for pending deletions.
    /// </summary>
    public WorkspaceRecord BeginDelete(string workspaceId)
    {
        WorkspaceRecord deleting;
        lock (_lock)
        {
            ReloadIfChangedLocked();
            if (!_byId.TryGetValue(workspaceId, out var ws)) throw NotFound(workspaceId);
            if (ws.Status == WorkspaceStatusCode.Deleting)
                throw TenancyException.Conflict($"workspace {workspaceId} is already being deleted");
            deleting = ws with { Status = WorkspaceStatusCode.Deleting };
            _byId[workspaceId] = deleting;
            SaveLocked();
            _deletions.RemoveAll(static t => t.IsCompleted);
            _deletions.Add(Task.Run(() => DeleteDataAsync(deleting)));
        }
        OnChanged();
        return deleting;
    }

    private async Task DeleteDataAsync(WorkspaceRecord ws)
    {
        try
        {
            await _hooks.DeleteDataAsync(ws, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogDeleteFailed(_logger, ws.WorkspaceId, e);
            return;
        }
        lock (_lock)
        {
            ReloadIfChangedLocked();
            if (_byId.TryGetValue(ws.WorkspaceId, out var current) && current.Status == WorkspaceStatusCode.Deleting)
            {
                _byId.Remove(ws.WorkspaceId);
                SaveLocked();
            }
        }
        OnChanged();
    }

    /// <summary>Completes when every deletion started so far has finished (successfully or not).</summary>
    public Task WhenIdleAsync()
    {
        Task[] pending;
        lock (_lock) pending = [.. _deletions];
        return Task.WhenAll(pending);
    }

    public WorkspaceConfiguration DescribeConfiguration(string workspaceId) => Describe(workspaceId).Configuration;

    /// <summary>Changes the given configuration fields (at least one). Validated as a whole before anything changes.</summary>
    public WorkspaceConfiguration UpdateConfiguration(string workspaceId, int? retentionPeriodInDays,
        IReadOnlyList<LimitsPerLabelSet>? limitsPerLabelSet, long? outOfOrderTimeWindowInSeconds)
    {
        if (retentionPeriodInDays is null && limitsPerLabelSet is null && outOfOrderTimeWindowInSeconds is null)
            throw TenancyException.Validation("at least one of limitsPerLabelSet, retentionPeriodInDays or outOfOrderTimeWindowInSeconds must be given");
        var updated = Mutate(workspaceId, ws =>
        {
            var config = ws.Configuration with
            {
                RetentionPeriodInDays = retentionPeriodInDays ?? ws.Configuration.RetentionPeriodInDays,
                LimitsPerLabelSet = limitsPerLabelSet ?? ws.Configuration.LimitsPerLabelSet,
                OutOfOrderTimeWindowInSeconds = outOfOrderTimeWindowInSeconds ?? ws.Configuration.OutOfOrderTimeWindowInSeconds,
            };
            WorkspaceValidation.Configuration(config);
            return ws with { Configuration = config };
        }, requireActive: true);
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

    public void TagResource(string resourceArn, IReadOnlyDictionary<string, string> tags)
    {
        WorkspaceValidation.Tags(tags);
        string id = FindByArn(resourceArn).WorkspaceId;
        Mutate(id, ws =>
        {
            var merged = new Dictionary<string, string>(ws.Tags);
            foreach (var (k, v) in tags) merged[k] = v;
            WorkspaceValidation.Tags(merged);
            return ws with { Tags = merged };
        }, requireActive: false);
    }

    public void UntagResource(string resourceArn, IReadOnlyCollection<string> tagKeys)
    {
        if (tagKeys.Count == 0) throw TenancyException.Validation("tagKeys: at least one tag key is required");
        foreach (var k in tagKeys) WorkspaceValidation.TagKey(k);
        string id = FindByArn(resourceArn).WorkspaceId;
        Mutate(id, ws =>
        {
            var kept = new Dictionary<string, string>(ws.Tags);
            foreach (var k in tagKeys) kept.Remove(k);
            return ws with { Tags = kept };
        }, requireActive: false);
    }

    /// <summary>Replaces one record under the lock and persists; <paramref name="change"/> may throw to refuse.</summary>
    private WorkspaceRecord Mutate(string workspaceId, Func<WorkspaceRecord, WorkspaceRecord> change, bool requireActive)
    {
        WorkspaceRecord updated;
        lock (_lock)
        {
            ReloadIfChangedLocked();
            if (!_byId.TryGetValue(workspaceId, out var ws)) throw NotFound(workspaceId);
            if (requireActive && !ws.IsActive)
                throw TenancyException.Conflict($"workspace {workspaceId} is {ws.Status}; it can be changed only when ACTIVE");
            updated = change(ws);
            if (ReferenceEquals(updated, ws)) return ws;
            _byId[workspaceId] = updated;
            SaveLocked();
        }
        OnChanged();
        return updated;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "deleting the data of workspace {WorkspaceId} failed; it stays DELETING")]
    private static partial void LogDeleteFailed(ILogger logger, string workspaceId, Exception e);
}
