using System.Text.Json;

namespace Amphora.Tenancy.State;

/// <summary>
/// The local copy of the tenancy state, <c>tenancy-cache.json</c> in the data dir, so a component starts and serves while
/// the bucket is unreachable: every object with its version, and the time of the sync it came from. Mode 0600, as access
/// keys are in it (their secrets sealed with the master key). Written atomically by the store's sync loop only, never by
/// a request.
/// </summary>
internal sealed class TenancyCacheFile(string path)
{
    public const int FormatVersion = 1;

    public string Path { get; } = path;

    private sealed record CachedObject(string Name, string Version, byte[] Content);
    private sealed record CacheDocument(int Version, DateTimeOffset? SyncedAt, List<CachedObject> Objects);

    /// <summary>The cached state; null when there is no cache file. <see cref="InvalidDataException"/> naming the file when
    /// it cannot be read.</summary>
    public TenancySnapshot? Load()
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(Path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
        try
        {
            var doc = JsonSerializer.Deserialize<CacheDocument>(bytes, TenancyLayout.Json) ?? throw new JsonException("empty document");
            if (doc.Version != FormatVersion) throw new JsonException($"format version {doc.Version}, expected {FormatVersion}");
            var objects = new Dictionary<string, TenancyObject>(StringComparer.Ordinal);
            foreach (var o in doc.Objects ?? [])
            {
                if (o?.Name is not { Length: > 0 } || o.Version is null || o.Content is null) throw new JsonException("an object without name, version or content");
                objects[o.Name] = new TenancyObject(o.Name, o.Content, o.Version);
            }
            return TenancySnapshot.Build(objects, doc.SyncedAt, null);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the tenancy cache {Path} is not valid: {e.Message}", e);
        }
    }

    public void Save(TenancySnapshot snapshot)
    {
        var objects = new List<CachedObject>(snapshot.Objects.Count);
        foreach (var o in snapshot.Objects.Values) objects.Add(new CachedObject(o.Name, o.Version, o.Content));
        objects.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        AtomicFile.Write(Path, JsonSerializer.SerializeToUtf8Bytes(new CacheDocument(FormatVersion, snapshot.SyncedAt, objects), TenancyLayout.Json),
            ownerOnly: true);
    }
}
