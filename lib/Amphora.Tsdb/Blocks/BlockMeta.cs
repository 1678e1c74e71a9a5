using System.Text.Json;
using System.Text.Json.Serialization;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// A block's meta.json: Prometheus's fields (ulid, minTime, maxTime exclusive, stats, compaction, version 1) plus an
/// "amphora" section naming the workspace and the ingester that wrote it. Prometheus ignores the extra section.
/// </summary>
public sealed record BlockMeta
{
    [JsonPropertyName("ulid")] public required string Ulid { get; init; }
    [JsonPropertyName("minTime")] public long MinTime { get; init; }
    /// <summary>Exclusive: one past the last sample's timestamp the block may hold.</summary>
    [JsonPropertyName("maxTime")] public long MaxTime { get; init; }
    [JsonPropertyName("stats")] public BlockStats Stats { get; init; } = new();
    [JsonPropertyName("compaction")] public BlockCompaction Compaction { get; init; } = new();
    [JsonPropertyName("version")] public int Version { get; init; } = 1;
    [JsonPropertyName("amphora")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public AmphoraBlockInfo? Amphora { get; init; }

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, Json);

    public static BlockMeta Parse(ReadOnlySpan<byte> json)
    {
        BlockMeta? meta;
        try
        {
            meta = JsonSerializer.Deserialize<BlockMeta>(json, Json);
        }
        catch (JsonException e)
        {
            throw new BlockFormatException($"meta.json is not valid: {e.Message}");
        }
        if (meta is null || !Blocks.Ulid.TryParse(meta.Ulid, out _)) throw new BlockFormatException("meta.json has no valid ulid");
        if (meta.Version != 1) throw new BlockFormatException($"meta.json version {meta.Version} is not supported (expected 1)");
        if (meta.MaxTime < meta.MinTime) throw new BlockFormatException($"meta.json maxTime {meta.MaxTime} is before minTime {meta.MinTime}");
        return meta;
    }
}

public sealed record BlockStats
{
    [JsonPropertyName("numSamples")] public long NumSamples { get; init; }
    [JsonPropertyName("numSeries")] public long NumSeries { get; init; }
    [JsonPropertyName("numChunks")] public long NumChunks { get; init; }
}

public sealed record BlockCompaction
{
    [JsonPropertyName("level")] public int Level { get; init; } = 1;
    [JsonPropertyName("sources")] public IReadOnlyList<string> Sources { get; init; } = [];
    [JsonPropertyName("parents")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<BlockParent>? Parents { get; init; }
}

public sealed record BlockParent
{
    [JsonPropertyName("ulid")] public required string Ulid { get; init; }
    [JsonPropertyName("minTime")] public long MinTime { get; init; }
    [JsonPropertyName("maxTime")] public long MaxTime { get; init; }
}

public sealed record AmphoraBlockInfo
{
    [JsonPropertyName("workspace")] public required string Workspace { get; init; }
    [JsonPropertyName("ingester")] [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Ingester { get; init; }
}
