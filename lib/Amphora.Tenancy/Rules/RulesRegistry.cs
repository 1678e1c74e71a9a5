using Amphora.Tenancy.State;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.Rules;

/// <summary>
/// AMP's rule groups namespaces and Alertmanager definitions over the tenancy state every component shares
/// (<see cref="TenancyStore"/>: one object per namespace and per definition). Reads come from the store's snapshot (no lock,
/// no I/O). A change is validated first (the rule file parsed as Prometheus loads it; the Alertmanager definition checked by
/// amtool, a process run without any lock held), then stored by one conditional read-modify-write whose change function
/// only compares and builds records. Validation is synchronous, so a stored namespace is <c>ACTIVE</c> at once; a definition
/// is <c>CREATING</c> or <c>UPDATING</c> until the component running the workspace's Alertmanager records <c>ACTIVE</c>,
/// <c>CREATION_FAILED</c> or <c>UPDATE_FAILED</c> with a reason.
/// A workspace's namespaces and definition can be changed while it is ACTIVE (or UPDATING) and are removed with it.
/// </summary>
public sealed partial class RulesRegistry(TenancyOptions options, TenancyStore store, TimeProvider? time = null)
{
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly AmtoolCheck _amtool = new(options.AmtoolPath);

    public RuleGroupsNamespaceRecord DescribeNamespace(string workspaceId, string name)
    {
        RequireWorkspace(workspaceId, change: false);
        RuleValidation.RequireNamespaceName(name);
        return store.FindRuleGroupsNamespace(workspaceId, name) ?? throw NamespaceNotFound(workspaceId, name);
    }

    /// <summary>The workspace's namespaces ordered by name, optionally only those whose name starts with
    /// <paramref name="namePrefix"/>, a page at a time.</summary>
    public (IReadOnlyList<RuleGroupsNamespaceRecord> Page, string? NextToken) ListNamespaces(string workspaceId, string? namePrefix,
        int? maxResults, string? nextToken)
    {
        RequireWorkspace(workspaceId, change: false);
        if (namePrefix is { Length: 0 or > 128 }) throw TenancyException.Validation("name: a name prefix must be 1 to 128 characters");
        return PageTokens.Page(store.RuleGroupsNamespaces(workspaceId), static ns => ns.Name,
            ns => namePrefix is null || ns.Name.StartsWith(namePrefix, StringComparison.Ordinal), maxResults, nextToken);
    }

    /// <summary>
    /// CreateRuleGroupsNamespace: a new namespace holding a valid rule file. 409 when the name is taken, unless this is a
    /// retry of the same call (same client token, rule file and tags), which returns the namespace it created.
    /// </summary>
    public async Task<RuleGroupsNamespaceRecord> CreateNamespaceAsync(string workspaceId, string? name, byte[]? data,
        IReadOnlyDictionary<string, string>? tags, string? clientToken, CancellationToken ct = default)
    {
        RuleValidation.RequireNamespaceName(name);
        WorkspaceValidation.Tags(tags);
        WorkspaceValidation.ClientToken(clientToken);
        RequireWorkspace(workspaceId, change: true);
        RuleValidation.RuleFile(name!, data);
        var now = Now();
        var created = new RuleGroupsNamespaceRecord
        {
            WorkspaceId = workspaceId,
            Name = name!,
            Arn = options.RuleGroupsNamespaceArn(workspaceId, name!),
            Data = data!,
            Tags = tags is null ? new Dictionary<string, string>() : new Dictionary<string, string>(tags),
            CreatedAt = now,
            ModifiedAt = now,
            ClientToken = clientToken,
        };
        var stored = await store.UpdateRuleGroupsNamespaceAsync(workspaceId, name!, before =>
        {
            if (before is null) return created;
            if (clientToken is not null && before.ClientToken == clientToken && before.Data.AsSpan().SequenceEqual(data) && WorkspaceRegistry.SameTags(before.Tags, tags))
                return before;
            throw TenancyException.Conflict($"rule groups namespace {name} already exists in workspace {workspaceId}; use PutRuleGroupsNamespace to change it");
        }, ct).ConfigureAwait(false);
        return stored!;
    }

    /// <summary>PutRuleGroupsNamespace: replaces the rule file of an existing namespace (404 when there is none).</summary>
    public async Task<RuleGroupsNamespaceRecord> PutNamespaceAsync(string workspaceId, string name, byte[]? data, string? clientToken,
        CancellationToken ct = default)
    {
        RuleValidation.RequireNamespaceName(name);
        WorkspaceValidation.ClientToken(clientToken);
        RequireWorkspace(workspaceId, change: true);
        RuleValidation.RuleFile(name, data);
        var now = Now();
        var stored = await store.UpdateRuleGroupsNamespaceAsync(workspaceId, name, before =>
            before is null
                ? throw NamespaceNotFound(workspaceId, name)
                : before with { Data = data!, ModifiedAt = now, Status = RuleStatus.Active }, ct).ConfigureAwait(false);
        return stored!;
    }

    /// <summary>DeleteRuleGroupsNamespace: removes the namespace (404 when there is none).</summary>
    public async Task DeleteNamespaceAsync(string workspaceId, string name, string? clientToken, CancellationToken ct = default)
    {
        RuleValidation.RequireNamespaceName(name);
        WorkspaceValidation.ClientToken(clientToken);
        RequireWorkspace(workspaceId, change: true);
        await store.UpdateRuleGroupsNamespaceAsync(workspaceId, name, before => before is null ? throw NamespaceNotFound(workspaceId, name) : null, ct)
            .ConfigureAwait(false);
    }

    /// <summary>The namespace an ARN names (404 as AMP's "resource not found" when it names none).</summary>
    public RuleGroupsNamespaceRecord NamespaceByArn(string arn, string workspaceId, string name)
    {
        var ns = RuleValidation.NamespaceName(name) is null && Amphora.Model.WorkspaceIds.Validate(workspaceId) is null
            ? store.FindRuleGroupsNamespace(workspaceId, name)
            : null;
        return ns is not null && ns.Arn == arn ? ns : throw TenancyException.NotFound($"resource {arn} not found");
    }

    /// <summary>TagResource (<paramref name="add"/>) or UntagResource (<paramref name="remove"/>) of a namespace by its ARN.</summary>
    public async Task TagNamespaceAsync(string arn, string workspaceId, string name, IReadOnlyDictionary<string, string>? add,
        IReadOnlyCollection<string>? remove, CancellationToken ct = default)
    {
        WorkspaceValidation.Tags(add);
        if (remove is not null)
        {
            if (remove.Count == 0) throw TenancyException.Validation("tagKeys: at least one tag key is required");
            foreach (var k in remove) WorkspaceValidation.TagKey(k);
        }
        NamespaceByArn(arn, workspaceId, name);
        await store.UpdateRuleGroupsNamespaceAsync(workspaceId, name, before =>
        {
            if (before is null || before.Arn != arn) throw TenancyException.NotFound($"resource {arn} not found");
            var tags = new Dictionary<string, string>(before.Tags);
            foreach (var (k, v) in add ?? new Dictionary<string, string>()) tags[k] = v;
            foreach (var k in remove ?? []) tags.Remove(k);
            WorkspaceValidation.Tags(tags);
            return before with { Tags = tags };
        }, ct).ConfigureAwait(false);
    }

    /// <summary>404 when the workspace does not exist; with <paramref name="change"/>, 409 unless it is ACTIVE or UPDATING.</summary>
    private void RequireWorkspace(string workspaceId, bool change)
    {
        var ws = store.FindWorkspace(workspaceId) ?? throw WorkspaceRegistry.NotFound(workspaceId);
        if (change && ws.Status is not (WorkspaceStatusCode.Active or WorkspaceStatusCode.Updating))
            throw TenancyException.Conflict($"workspace {workspaceId} is {ws.Status}; its rules and Alertmanager definition can be changed only when it is ACTIVE");
    }

    private DateTimeOffset Now() => WorkspaceRegistry.TruncateToMillis(_time.GetUtcNow());

    private static TenancyException NamespaceNotFound(string workspaceId, string name) =>
        TenancyException.NotFound($"rule groups namespace {name} not found in workspace {workspaceId}");
}
