using Amphora.Model;
using Amphora.Tsdb.Chunks;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// Writes a block directory in Prometheus's format: chunks/ segments, index, an empty tombstones file and meta.json. It is
/// built under "&lt;ulid&gt;.tmp" and renamed when complete and synced, so a crash never leaves a partial block that looks whole.
/// </summary>
public static class BlockWriter
{
    public const string TempSuffix = ".tmp";

    /// <summary>
    /// Writes the series (in label order; each one's chunks in time order, not overlapping) as a block covering
    /// [<paramref name="minTime"/>, <paramref name="maxTime"/>) under <paramref name="parentDir"/>. Returns the meta and the
    /// block's directory. Series without chunks are left out.
    /// </summary>
    public static (BlockMeta Meta, string Dir) Write(string parentDir, IEnumerable<(Labels Labels, IReadOnlyList<ChunkData> Chunks)> series,
        long minTime, long maxTime, AmphoraBlockInfo? info, BlockCompaction? compaction = null, Ulid? ulid = null)
    {
        var id = ulid ?? Ulid.New(DateTimeOffset.UtcNow);
        string final = Path.Combine(parentDir, id.ToString());
        string temp = final + TempSuffix;
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        Directory.CreateDirectory(temp);

        long samples = 0, chunkCount = 0;
        var index = new IndexWriter();
        using (var chunks = new ChunkSegmentWriter(Path.Combine(temp, "chunks")))
        {
            foreach (var (labels, seriesChunks) in series)
            {
                if (seriesChunks.Count == 0) continue;
                var metas = new ChunkMeta[seriesChunks.Count];
                for (int i = 0; i < metas.Length; i++)
                {
                    var c = seriesChunks[i];
                    if (c.MinT < minTime || c.MaxT >= maxTime)
                        throw new ArgumentException($"chunk [{c.MinT}, {c.MaxT}] of {labels} is outside the block [{minTime}, {maxTime})");
                    metas[i] = new ChunkMeta(c.MinT, c.MaxT, chunks.Write(c.Bytes, c.Encoding));
                    samples += c.Count;
                }
                chunkCount += metas.Length;
                index.Add(labels, metas);
            }
        }
        index.WriteTo(Path.Combine(temp, "index"));
        WriteSynced(Path.Combine(temp, "tombstones"), Tombstones.Empty());

        var meta = new BlockMeta
        {
            Ulid = id.ToString(),
            MinTime = minTime,
            MaxTime = maxTime,
            Stats = new BlockStats { NumSamples = samples, NumSeries = index.SeriesCount, NumChunks = chunkCount },
            Compaction = compaction ?? new BlockCompaction { Level = 1, Sources = [id.ToString()] },
            Amphora = info,
        };
        WriteSynced(Path.Combine(temp, "meta.json"), meta.ToJson());
        SyncDirectory(Path.Combine(temp, "chunks"));
        SyncDirectory(temp);
        Directory.Move(temp, final);
        SyncDirectory(parentDir);
        return (meta, final);
    }

    /// <summary>Re-encodes time-ordered samples into chunks of at most 120 samples.</summary>
    public static List<ChunkData> Encode(IEnumerable<(long T, double V)> samples)
    {
        var result = new List<ChunkData>();
        XorChunk? chunk = null;
        foreach (var (t, v) in samples)
        {
            if (chunk is null || chunk.Count >= XorChunk.MaxSamples)
            {
                if (chunk is not null) result.Add(new ChunkData(chunk.Snapshot(), chunk.MinT, chunk.MaxT, chunk.Count));
                chunk = new XorChunk();
            }
            chunk.Append(t, v);
        }
        if (chunk is { Count: > 0 }) result.Add(new ChunkData(chunk.Snapshot(), chunk.MinT, chunk.MaxT, chunk.Count));
        return result;
    }

    private static void WriteSynced(string path, ReadOnlySpan<byte> bytes)
    {
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None);
        file.Write(bytes);
        file.Flush(flushToDisk: true);
    }

    /// <summary>Makes a directory's entries (new files, renames) durable; a no-op where directories cannot be opened.</summary>
    internal static void SyncDirectory(string dir)
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(dir, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (UnauthorizedAccessException)
        {
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>The tombstones file: magic 0x0130BA30, version 1, deletion intervals (none from Amphora), CRC32C of the intervals.</summary>
public static class Tombstones
{
    public const uint Magic = 0x0130BA30;

    public static byte[] Empty()
    {
        var w = new ByteWriter(16);
        w.Be32(Magic);
        w.Byte(1);
        w.Be32(Crc32c.Compute([]));
        return w.Span.ToArray();
    }

    /// <summary>Checks the header and checksum; Amphora does not delete by interval, so non-empty tombstones are refused.</summary>
    public static void Validate(ReadOnlySpan<byte> data, string where)
    {
        if (data.Length < 9) throw new BlockFormatException($"{where}: tombstones file is too short");
        var r = new ByteReader(data);
        if (r.Be32() != Magic) throw new BlockFormatException($"{where}: tombstones file has a wrong magic number");
        if (r.Byte() != 1) throw new BlockFormatException($"{where}: tombstones format version is not 1");
        var body = data.Slice(5, data.Length - 9);
        if (Crc32c.Compute(body) != System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(data.Slice(data.Length - 4)))
            throw new BlockFormatException($"{where}: tombstones checksum mismatch");
        if (body.Length > 0) throw new BlockFormatException($"{where}: block has tombstones (deleted intervals), which Amphora does not apply yet");
    }
}
