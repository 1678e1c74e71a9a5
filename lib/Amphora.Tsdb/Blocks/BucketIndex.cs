using System.Text.Json;
using System.Text.Json.Serialization;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// Names of the objects a workspace has in the bucket:
/// <c>&lt;workspace&gt;/&lt;ulid&gt;/{chunks/000001…, index, tombstones, meta.json}</c>, a block's
/// <c>deletion-mark.json</c>, the workspace's <c>bucket-index.json</c>, and <c>workspace-deletion-mark.json</c> while a
/// deleted workspace's objects are being removed. Beside the workspaces, <c>tenancy/</c> holds the tenancy state
/// (docs/format/tenancy.md); "tenancy" is not a valid workspace id (<see cref="Amphora.Model.WorkspaceIds.Reserved"/>).
/// </summary>
public static class BucketLayout
{
    public const string MetaFile = "meta.json";
    public const string DeletionMarkFile = "deletion-mark.json";
    public const string IndexFile = "bucket-index.json";
    public const string WorkspaceDeletionMarkFile = "workspace-deletion-mark.json";

    /// <summary>Every key starts with the workspace id, checked here so that no id can name another prefix (or, in a
    /// filesystem bucket, a path outside it).</summary>
    public static string WorkspacePrefix(string workspace) => Amphora.Model.WorkspaceIds.Require(workspace) + "/";
    public static string BlockPrefix(string workspace, string ulid) => $"{WorkspacePrefix(workspace)}{ulid}/";
    public static string Meta(string workspace, string ulid) => BlockPrefix(workspace, ulid) + MetaFile;
    public static string DeletionMark(string workspace, string ulid) => BlockPrefix(workspace, ulid) + DeletionMarkFile;
    public static string Index(string workspace) => WorkspacePrefix(workspace) + IndexFile;
    public static string WorkspaceDeletionMark(string workspace) => WorkspacePrefix(workspace) + WorkspaceDeletionMarkFile;
}

/// <summary>A block's deletion mark: the time it was marked; it is deleted once the compactor's deletion delay has passed.</summary>
public sealed record DeletionMark
{
    [JsonPropertyName("ulid")] public required string Ulid { get; init; }
    [JsonPropertyName("deletion_time")] public long DeletionTimeSeconds { get; init; }
    [JsonPropertyName("reason")] public string Reason { get; init; } = "";
    [JsonPropertyName("version")] public int Version { get; init; } = 1;

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this);
    public static DeletionMark Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<DeletionMark>(json) ?? throw new BlockFormatException("empty deletion mark");
}

/// <summary>
/// One workspace's bucket index, rewritten by the compactor after every pass: its complete blocks and their deletion marks,
/// so queriers learn the block list with one read instead of listing the bucket.
/// </summary>
public sealed record BucketIndex
{
    [JsonPropertyName("version")] public int Version { get; init; } = 1;
    [JsonPropertyName("updated_at")] public long UpdatedAtSeconds { get; init; }
    [JsonPropertyName("blocks")] public IReadOnlyList<BlockMeta> Blocks { get; init; } = [];
    [JsonPropertyName("deletion_marks")] public IReadOnlyList<DeletionMark> DeletionMarks { get; init; } = [];

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = false };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static BucketIndex Parse(ReadOnlySpan<byte> json)
    {
        try
        {
            var index = JsonSerializer.Deserialize<BucketIndex>(json, Json) ?? throw new BlockFormatException("empty bucket index");
            if (index.Version != 1) throw new BlockFormatException($"bucket index version {index.Version} is not supported (expected 1)");
            return index;
        }
        catch (JsonException e)
        {
            throw new BlockFormatException($"bucket index is not valid: {e.Message}");
        }
    }
}

/// <summary>Which blocks a newer block makes redundant.</summary>
public static class BlockSupersession
{
    /// <summary>
    /// The blocks whose data another present block already holds: a block is superseded when another block's compaction
    /// sources include all of its own (a compacted block lists every level-1 block it was made from). Of two blocks with the
    /// same sources, the one with the larger ULID is superseded. Readers skip superseded blocks; the compactor deletes them.
    /// </summary>
    public static HashSet<string> Superseded(IReadOnlyCollection<BlockMeta> blocks)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        var sources = blocks.ToDictionary(b => b.Ulid, b => b.Compaction.Sources.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
        foreach (var a in blocks)
        {
            var mine = sources[a.Ulid];
            if (mine.Count == 0) continue;
            foreach (var b in blocks)
            {
                if (ReferenceEquals(a, b)) continue;
                var theirs = sources[b.Ulid];
                if (!mine.IsSubsetOf(theirs)) continue;
                if (theirs.Count > mine.Count || string.CompareOrdinal(b.Ulid, a.Ulid) < 0)
                {
                    result.Add(a.Ulid);
                    break;
                }
            }
        }
        return result;
    }
}
