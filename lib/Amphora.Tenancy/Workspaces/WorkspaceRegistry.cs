using Amphora.Model;
using Amphora.Services;
using Amphora.Tenancy.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Tenancy.Workspaces;

/// <summary>
/// AMP's workspace operations over the tenancy state every component shares (<see cref="TenancyStore"/>, one object per
/// workspace in the bucket). Reads come from the store's snapshot (no lock, no I/O); each change is a read-modify-write of
/// one workspace's object, so two components changing the same workspace never lose a change silently (one gets 409).
/// A component sees a change made elsewhere within one sync interval. As a service, the registry migrates the
/// <c>workspaces.json</c> of earlier versions into the store on start and finishes deletions left DELETING.
/// Records are immutable snapshots.
/// </summary>
public sealed partial class WorkspaceRegistry : ServiceBase
{
    public const int DefaultMaxResults = PageTokens.DefaultMaxResults;
    public const int MaxMaxResults = PageTokens.MaxMaxResults;

    private readonly TenancyOptions _options;
    private readonly TenancyStore _store;
    private readonly IWorkspaceLifecycleHooks _hooks;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _lock = new(); // guards _deletions only; never held across I/O
    private readonly Dictionary<string, Task> _deletions = new(StringComparer.Ordinal);

    /// <param name="completesDeletion">True where this component removes a deleted workspace's data and then its record
    /// (<c>--target=all</c>, the compactor); false where it only marks the workspace DELETING and requests the deletion through
    /// <paramref name="hooks"/> (distributors, queriers), leaving the rest to the compactor.</param>
    public WorkspaceRegistry(TenancyOptions options, TenancyStore store, IWorkspaceLifecycleHooks? hooks = null, TimeProvider? time = null,
        ILogger? logger = null, bool completesDeletion = true)
    {
        _options = options;
        _store = store;
        _hooks = hooks ?? NoWorkspaceLifecycleHooks.Instance;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        CompletesDeletion = completesDeletion;
        LegacyFilePath = Path.Combine(options.DataDir, "workspaces.json");
        _store.Changed += _ => OnChanged();
    }

    public override string Name => "workspace-registry";

    /// <summary>Whether this component removes deleted workspaces' data and records (see the constructor).</summary>
    public bool CompletesDeletion { get; }

    /// <summary>Raised after any change, made here or seen in the shared state (outside every lock).</summary>
    public event Action? Changed;

    public WorkspaceRecord? Find(string workspaceId) => _store.FindWorkspace(workspaceId);

    /// <summary>True when the workspace exists and accepts data (ACTIVE or UPDATING).</summary>
    public bool AcceptsData(string workspaceId)
    {
        var ws = Find(workspaceId);
        return ws is not null && ws.Status is WorkspaceStatusCode.Active or WorkspaceStatusCode.Updating;
    }

    public IReadOnlyList<WorkspaceRecord> All() => _store.Workspaces();

    public string PrometheusEndpoint(string workspaceId) => $"{_options.EndpointBaseUrl.TrimEnd('/')}/workspaces/{workspaceId}/";

    /// <summary>
    /// Creates a workspace (CREATING), runs the provisioning hook and makes it ACTIVE. Returns the record as first stored
    /// (CREATING), as AMP's 202 answer does. A retry with the same client token returns the first workspace; the same token with
    /// different parameters is a conflict. <paramref name="workspaceId"/> lets the bootstrap create <c>default</c>.
    /// </summary>
    public async Task<WorkspaceRecord> CreateAsync(string? alias, IReadOnlyDictionary<string, string>? tags, string? clientToken,
        string? workspaceId = null, CancellationToken ct = default)
    {
        WorkspaceValidation.Alias(alias);
        WorkspaceValidation.Tags(tags);
        WorkspaceValidation.ClientToken(clientToken);
        if (workspaceId is not null && WorkspaceIds.Validate(workspaceId) is { } invalid)
            throw TenancyException.Validation("workspaceId: " + invalid.Message);
        if (clientToken is not null)
        {
            foreach (var existing in All())
            {
                if (existing.ClientToken != clientToken) continue;
                if (existing.Alias == alias && SameTags(existing.Tags, tags) && (workspaceId is null || workspaceId == existing.WorkspaceId))
                    return existing;
                throw TenancyException.Conflict($"the client token \"{clientToken}\" was already used to create {existing.WorkspaceId} with different parameters");
            }
        }
        string id = workspaceId ?? "ws-" + Guid.NewGuid().ToString("D");
        var created = new WorkspaceRecord
        {
            WorkspaceId = id,
            Arn = _options.WorkspaceArn(id),
            Alias = alias,
            Tags = tags is null ? new Dictionary<string, string>() : new Dictionary<string, string>(tags),
            CreatedAt = TruncateToMillis(_time.GetUtcNow()),
            Status = WorkspaceStatusCode.Creating,
            ClientToken = clientToken,
        };
        await _store.UpdateWorkspaceAsync(id, before => before is null ? created : throw TenancyException.Conflict($"workspace {id} already exists"), ct)
            .ConfigureAwait(false);
        string finalStatus = WorkspaceStatusCode.Active;
        try
        {
            await _hooks.ProvisionAsync(created, ct).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogProvisionFailed(_logger, created.WorkspaceId, e);
            finalStatus = WorkspaceStatusCode.CreationFailed;
        }
        await MutateAsync(created.WorkspaceId, ws => ws.Status == WorkspaceStatusCode.Creating ? ws with { Status = finalStatus } : ws,
            requireActive: false, CancellationToken.None).ConfigureAwait(false);
        return created;
    }

    public WorkspaceRecord Describe(string workspaceId) =>
        Find(workspaceId) ?? throw NotFound(workspaceId);

    /// <summary>Workspaces ordered by id, optionally only those whose alias starts with <paramref name="aliasPrefix"/>.</summary>
    public (IReadOnlyList<WorkspaceRecord> Page, string? NextToken) List(string? aliasPrefix, int? maxResults, string? nextToken) =>
        PageTokens.Page(All(), static ws => ws.WorkspaceId,
            ws => aliasPrefix is null || ws.Alias is not null && ws.Alias.StartsWith(aliasPrefix, StringComparison.Ordinal), maxResults, nextToken);

    public async Task UpdateAliasAsync(string workspaceId, string? alias, CancellationToken ct = default)
    {
        WorkspaceValidation.Alias(alias);
        await MutateAsync(workspaceId, ws => ws with { Alias = alias }, requireActive: true, ct).ConfigureAwait(false);
    }

    internal static bool SameTags(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string>? b)
    {
        b ??= new Dictionary<string, string>();
        if (a.Count != b.Count) return false;
        foreach (var (k, v) in a)
            if (!b.TryGetValue(k, out var w) || w != v) return false;
        return true;
    }

    internal static DateTimeOffset TruncateToMillis(DateTimeOffset t) => DateTimeOffset.FromUnixTimeMilliseconds(t.ToUnixTimeMilliseconds());

    internal static TenancyException NotFound(string workspaceId) =>
        new(TenancyErrorKind.NotFound, $"workspace {workspaceId} not found");

    private void OnChanged()
    {
        try { Changed?.Invoke(); }
        catch (Exception e) { LogChangedHandlerFailed(_logger, e); }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "provisioning workspace {WorkspaceId} failed")]
    private static partial void LogProvisionFailed(ILogger logger, string workspaceId, Exception e);

    [LoggerMessage(Level = LogLevel.Error, Message = "a workspace change handler failed")]
    private static partial void LogChangedHandlerFailed(ILogger logger, Exception e);
}
