using Amphora.Bucket;
using Amphora.Tsdb.Wal;

namespace Amphora.Ingester.Storage;

/// <summary>Settings of an ingester's storage.</summary>
public sealed record TsdbOptions
{
    /// <summary>How far behind a series' newest sample an older one is still accepted; zero disables out-of-order ingestion.</summary>
    public TimeSpan OutOfOrderWindow { get; init; } = TimeSpan.FromMinutes(1);
    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.Always;
    public long WalSegmentSize { get; init; } = 128L << 20;
    /// <summary>Truncate a WAL corrupted in the middle instead of refusing to open.</summary>
    public bool WalRepair { get; init; }
    /// <summary>The range of the blocks cut from the head; chunks never cross a multiple of it. A block [t, t+range) is cut
    /// once the head holds data 1.5 ranges past t.</summary>
    public TimeSpan BlockRange { get; init; } = TimeSpan.FromHours(2);
    /// <summary>How often the head is checked for a block to cut and finished blocks are uploaded; zero turns the loop off.</summary>
    public TimeSpan CutInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>Where finished blocks are uploaded; null keeps them on local disk only.</summary>
    public IBucket? Bucket { get; init; }
    /// <summary>How long an uploaded block is still served from local disk (queriers find it in the bucket within their sync
    /// interval, which must be shorter).</summary>
    public TimeSpan LocalBlockRetention { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Most exemplars kept in memory per workspace, the oldest overwritten first (Prometheus's exemplars-limit); 0 keeps none.</summary>
    public int MaxExemplarsPerWorkspace { get; init; } = 100_000;
    /// <summary>Compact the managed heap after a round of block cuts (<see cref="HeapCompaction"/>).</summary>
    public bool CompactHeapAfterCut { get; init; } = true;
    /// <summary>This ingester's name, recorded in each block's meta.json.</summary>
    public string? IngesterName { get; init; }
}
