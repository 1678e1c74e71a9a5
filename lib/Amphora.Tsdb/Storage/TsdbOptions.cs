using Amphora.Tsdb.Wal;

namespace Amphora.Tsdb.Storage;

/// <summary>Settings of an ingester's storage.</summary>
public sealed record TsdbOptions
{
    /// <summary>How far behind a series' newest sample an older one is still accepted; zero disables out-of-order ingestion.</summary>
    public TimeSpan OutOfOrderWindow { get; init; } = TimeSpan.FromMinutes(1);
    public FsyncPolicy Fsync { get; init; } = FsyncPolicy.Always;
    public long WalSegmentSize { get; init; } = 128L << 20;
    /// <summary>Truncate a WAL corrupted in the middle instead of refusing to open.</summary>
    public bool WalRepair { get; init; }
    /// <summary>Chunks never cross a multiple of this range (the range of the blocks cut from the head).</summary>
    public TimeSpan BlockRange { get; init; } = TimeSpan.FromHours(2);
}
