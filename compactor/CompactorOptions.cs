namespace Amphora.Compactor;

/// <summary>Settings of the compactor.</summary>
public sealed record CompactorOptions
{
    /// <summary>How often every owned workspace is compacted, cleaned and re-indexed.</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMinutes(5);
    /// <summary>Block ranges, smallest first: the first is the ingesters' block range; blocks are merged into each larger one.</summary>
    public IReadOnlyList<TimeSpan> Ranges { get; init; } = [TimeSpan.FromHours(2), TimeSpan.FromHours(12), TimeSpan.FromHours(24)];
    /// <summary>How long a replaced block stays (marked) before it is deleted, so running queries never see a gap.</summary>
    public TimeSpan DeletionDelay { get; init; } = TimeSpan.FromHours(12);
    /// <summary>Blocks younger than this (by creation time) wait, so the other replicas of the same range can arrive first.</summary>
    public TimeSpan ConsistencyDelay { get; init; } = TimeSpan.FromMinutes(30);
    /// <summary>A block directory without meta.json older than this is an abandoned upload and is removed.</summary>
    public TimeSpan PartialUploadTimeout { get; init; } = TimeSpan.FromHours(24);
    /// <summary>This replica's name and every replica's name: each workspace belongs to exactly one of them.</summary>
    public string Name { get; init; } = "compactor-0";
    public IReadOnlyList<string> Members { get; init; } = [];
    /// <summary>How long a workspace is DELETING in the tenancy state before its objects are removed and its deletion
    /// completed: time for every ingester to see the deletion and drop the workspace's data (three tenancy sync intervals),
    /// so none uploads a block of it afterwards. Readers stop serving it at once (its deletion mark is written first).</summary>
    public TimeSpan WorkspaceDeletionGrace { get; init; } = TimeSpan.FromSeconds(30);
    /// <summary>Where blocks are assembled before upload.</summary>
    public required string WorkDir { get; init; }
}
