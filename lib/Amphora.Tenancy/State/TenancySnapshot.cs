using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Rules;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.State;

/// <summary>One tenancy object as last read: its name under the prefix, its bytes and the bucket's version of them.</summary>
public sealed record TenancyObject(string Name, byte[] Content, string Version);

/// <summary>An object under the prefix that could not be interpreted, and why; it is left out of the typed views.</summary>
public sealed record InvalidTenancyObject(string Name, string Reason);

/// <summary>
/// Every tenancy object a component knows as of one sync (or its own last write), with the workspaces, access keys, rule
/// groups namespaces and Alertmanager definitions parsed. Immutable: requests read it without a lock, and the store swaps the whole snapshot. <see cref="SyncedAt"/> is
/// when the bucket last answered a full sync (as recorded in the cache file when the state came from there).
/// </summary>
public sealed class TenancySnapshot
{
    public static readonly TenancySnapshot Empty = Build(new Dictionary<string, TenancyObject>(StringComparer.Ordinal), null, null);

    private readonly Dictionary<string, object> _parsed;

    private TenancySnapshot(IReadOnlyDictionary<string, TenancyObject> objects, Dictionary<string, object> parsed,
        Dictionary<string, WorkspaceRecord> workspaces, Dictionary<string, StoredAccessKey> keys,
        Dictionary<string, List<RuleGroupsNamespaceRecord>> namespaces, Dictionary<string, AlertManagerDefinitionRecord> alertManagers,
        List<InvalidTenancyObject> invalid, DateTimeOffset? syncedAt)
    {
        Objects = objects;
        _parsed = parsed;
        Workspaces = workspaces;
        Keys = keys;
        foreach (var list in namespaces.Values) list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        _namespaces = namespaces;
        AlertManagerDefinitions = alertManagers;
        Invalid = invalid;
        SyncedAt = syncedAt;
    }

    private readonly Dictionary<string, List<RuleGroupsNamespaceRecord>> _namespaces;

    public IReadOnlyDictionary<string, TenancyObject> Objects { get; }
    public IReadOnlyDictionary<string, WorkspaceRecord> Workspaces { get; }
    internal IReadOnlyDictionary<string, StoredAccessKey> Keys { get; }

    /// <summary>Alertmanager definitions by workspace id.</summary>
    public IReadOnlyDictionary<string, AlertManagerDefinitionRecord> AlertManagerDefinitions { get; }

    /// <summary>The rule groups namespaces of a workspace, ordered by name (empty when it has none).</summary>
    public IReadOnlyList<RuleGroupsNamespaceRecord> RuleGroupsNamespaces(string workspaceId) =>
        _namespaces.TryGetValue(workspaceId, out var list) ? list : [];

    /// <summary>The workspaces that have rule groups namespaces, in no particular order.</summary>
    public IEnumerable<string> WorkspacesWithRuleGroupsNamespaces => _namespaces.Keys;
    public IReadOnlyList<InvalidTenancyObject> Invalid { get; }
    public DateTimeOffset? SyncedAt { get; }

    /// <summary>
    /// A snapshot of <paramref name="objects"/>. Objects at the same version as in <paramref name="previous"/> keep their
    /// parsed form, so a sync that finds nothing changed parses nothing.
    /// </summary>
    internal static TenancySnapshot Build(IReadOnlyDictionary<string, TenancyObject> objects, DateTimeOffset? syncedAt, TenancySnapshot? previous)
    {
        var parsed = new Dictionary<string, object>(StringComparer.Ordinal);
        var workspaces = new Dictionary<string, WorkspaceRecord>(StringComparer.Ordinal);
        var keys = new Dictionary<string, StoredAccessKey>(StringComparer.Ordinal);
        var namespaces = new Dictionary<string, List<RuleGroupsNamespaceRecord>>(StringComparer.Ordinal);
        var alertManagers = new Dictionary<string, AlertManagerDefinitionRecord>(StringComparer.Ordinal);
        var invalid = new List<InvalidTenancyObject>();
        foreach (var (name, o) in objects)
        {
            var (kind, id) = TenancyLayout.Classify(name);
            if (kind == TenancyObjectKind.Other) continue;
            object? value = null;
            if (previous is not null && previous.Objects.TryGetValue(name, out var before) && before.Version == o.Version)
                previous._parsed.TryGetValue(name, out value);
            if (value is null)
            {
                try
                {
                    value = TenancyLayout.Parse(name, kind, id, o.Content);
                }
                catch (InvalidDataException e)
                {
                    invalid.Add(new InvalidTenancyObject(name, e.Message));
                    continue;
                }
            }
            parsed[name] = value;
            if (value is WorkspaceRecord ws) workspaces[id] = ws;
            else if (value is StoredAccessKey key) keys[id] = key;
            else if (value is AlertManagerDefinitionRecord am) alertManagers[id] = am;
            else if (value is RuleGroupsNamespaceRecord ns)
            {
                if (!namespaces.TryGetValue(ns.WorkspaceId, out var list)) namespaces[ns.WorkspaceId] = list = [];
                list.Add(ns);
            }
        }
        return new TenancySnapshot(objects, parsed, workspaces, keys, namespaces, alertManagers, invalid, syncedAt);
    }

    /// <summary>A copy with one object replaced, or removed when <paramref name="replacement"/> is null.</summary>
    internal TenancySnapshot With(string name, TenancyObject? replacement)
    {
        var objects = new Dictionary<string, TenancyObject>(Objects, StringComparer.Ordinal);
        if (replacement is null) objects.Remove(name);
        else objects[name] = replacement;
        return Build(objects, SyncedAt, this);
    }

    /// <summary>True when both hold the same objects at the same versions.</summary>
    internal bool SameObjectsAs(TenancySnapshot other)
    {
        if (Objects.Count != other.Objects.Count) return false;
        foreach (var (name, o) in Objects)
            if (!other.Objects.TryGetValue(name, out var p) || p.Version != o.Version) return false;
        return true;
    }
}
