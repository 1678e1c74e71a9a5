using Amphora.Tenancy.Keys;
using Amphora.Tenancy.Workspaces;

namespace Amphora.Tenancy.State;

/// <summary>One tenancy object as last read: its name under the prefix, its bytes and the bucket's version of them.</summary>
public sealed record TenancyObject(string Name, byte[] Content, string Version);

/// <summary>An object under the prefix that could not be interpreted, and why; it is left out of the typed views.</summary>
public sealed record InvalidTenancyObject(string Name, string Reason);

/// <summary>
/// Every tenancy object a component knows as of one sync (or its own last write), with the workspaces and access keys
/// parsed. Immutable: requests read it without a lock, and the store swaps the whole snapshot. <see cref="SyncedAt"/> is
/// when the bucket last answered a full sync (as recorded in the cache file when the state came from there).
/// </summary>
public sealed class TenancySnapshot
{
    public static readonly TenancySnapshot Empty = Build(new Dictionary<string, TenancyObject>(StringComparer.Ordinal), null, null);

    private readonly Dictionary<string, object> _parsed;

    private TenancySnapshot(IReadOnlyDictionary<string, TenancyObject> objects, Dictionary<string, object> parsed,
        Dictionary<string, WorkspaceRecord> workspaces, Dictionary<string, StoredAccessKey> keys, List<InvalidTenancyObject> invalid,
        DateTimeOffset? syncedAt)
    {
        Objects = objects;
        _parsed = parsed;
        Workspaces = workspaces;
        Keys = keys;
        Invalid = invalid;
        SyncedAt = syncedAt;
    }

    public IReadOnlyDictionary<string, TenancyObject> Objects { get; }
    public IReadOnlyDictionary<string, WorkspaceRecord> Workspaces { get; }
    internal IReadOnlyDictionary<string, StoredAccessKey> Keys { get; }
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
        }
        return new TenancySnapshot(objects, parsed, workspaces, keys, invalid, syncedAt);
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
