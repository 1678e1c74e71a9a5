using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Amphora.Bucket;
using Amphora.Storage;
using Microsoft.Extensions.Logging;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// The querier's view of the blocks in the bucket: per workspace, the list of complete blocks (those with a meta.json) is
/// refreshed at most once per sync interval, each block's index is fetched on first use and cached, chunks are read by range.
/// A corrupt block is logged, counted and skipped from then on; it never fails a query.
/// </summary>
public sealed partial class BucketBlockStore(IBucket bucket, TimeSpan syncInterval, ILogger logger) : IWorkspaceQueryable
{
    private static readonly Meter Meter = new("Amphora.Blocks");
    private static readonly Counter<long> CorruptBlocks = Meter.CreateCounter<long>("amphora_blocks_corrupt",
        description: "Blocks in the bucket found unreadable and skipped by queries.");

    private readonly ConcurrentDictionary<string, WorkspaceBlocks> _workspaces = new(StringComparer.Ordinal);

    /// <summary>Blocks not to read from the bucket (workspace, ULID): in one process with the ingester, the ones it still
    /// serves from local disk, so they are not read twice.</summary>
    public Func<string, string, bool>? Exclude { get; init; }

    public IQueryable ForWorkspace(string workspace) => new Queryable(this, workspace);

    /// <summary>The workspace's readable blocks, refreshed from the bucket when the last listing is older than the interval.</summary>
    public async Task<IReadOnlyList<Block>> BlocksAsync(string workspace, CancellationToken ct = default)
    {
        var state = _workspaces.GetOrAdd(workspace, _ => new WorkspaceBlocks());
        if (DateTime.UtcNow - state.SyncedAt < syncInterval) return state.Blocks;
        await state.Sync.WaitAsync(ct);
        try
        {
            if (DateTime.UtcNow - state.SyncedAt >= syncInterval) await SyncAsync(workspace, state, ct);
        }
        finally
        {
            state.Sync.Release();
        }
        return state.Blocks;
    }

    /// <summary>A bucket index older than this is not trusted (the compactor may be down) and the bucket is listed instead.</summary>
    public TimeSpan IndexMaxStale { get; init; } = TimeSpan.FromHours(1);

    /// <summary>Forgets a deleted workspace's blocks at once; later syncs find its deletion mark, then nothing.</summary>
    public void Forget(string workspace)
    {
        var state = _workspaces.GetOrAdd(workspace, _ => new WorkspaceBlocks());
        state.Blocks = [];
        state.SyncedAt = DateTime.UtcNow;
    }

    private async Task SyncAsync(string workspace, WorkspaceBlocks state, CancellationToken ct)
    {
        var known = state.Blocks.ToDictionary(b => b.Meta.Ulid, StringComparer.Ordinal);
        List<Block> blocks;
        if (await bucket.ExistsAsync(BucketLayout.WorkspaceDeletionMark(workspace), ct))
            blocks = [];
        else if (await ReadIndexAsync(workspace, ct) is { } index)
            blocks = index.Blocks.Where(m => !state.Corrupt.ContainsKey(m.Ulid))
                .Select(m => known.TryGetValue(m.Ulid, out var b) ? b : Block.FromMeta(m, new BucketBlockFiles(bucket, BucketLayout.BlockPrefix(workspace, m.Ulid))))
                .ToList();
        else
            blocks = await ListAsync(workspace, state, known, ct);
        var superseded = BlockSupersession.Superseded(blocks.Select(b => b.Meta).ToList());
        blocks.RemoveAll(b => superseded.Contains(b.Meta.Ulid));
        blocks.Sort((a, b) => a.Meta.MinTime.CompareTo(b.Meta.MinTime));
        state.Blocks = blocks;
        state.SyncedAt = DateTime.UtcNow;
    }

    /// <summary>The compactor's bucket index, when there is a fresh one.</summary>
    private async Task<BucketIndex?> ReadIndexAsync(string workspace, CancellationToken ct)
    {
        try
        {
            var index = BucketIndex.Parse(await bucket.GetAsync(BucketLayout.Index(workspace), ct));
            return DateTimeOffset.UtcNow.ToUnixTimeSeconds() - index.UpdatedAtSeconds <= IndexMaxStale.TotalSeconds ? index : null;
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
        catch (BlockFormatException e)
        {
            LogBadIndex(logger, workspace, e.Message);
            return null;
        }
    }

    private async Task<List<Block>> ListAsync(string workspace, WorkspaceBlocks state, Dictionary<string, Block> known, CancellationToken ct)
    {
        var blocks = new List<Block>();
        foreach (var entry in await bucket.ListAsync(BucketLayout.WorkspacePrefix(workspace), recursive: false, ct))
        {
            if (!entry.EndsWith('/')) continue;
            string name = entry[(workspace.Length + 1)..^1];
            if (!Ulid.TryParse(name, out _) || state.Corrupt.ContainsKey(name)) continue;
            if (known.TryGetValue(name, out var block))
            {
                blocks.Add(block);
                continue;
            }
            try
            {
                // No meta.json yet: an upload in progress (meta.json is written last).
                if (!await bucket.ExistsAsync(entry + "meta.json", ct)) continue;
                blocks.Add(await Block.OpenAsync(new BucketBlockFiles(bucket, entry), ct));
            }
            catch (Exception e) when (e is BlockFormatException or ObjectNotFoundException)
            {
                MarkCorrupt(workspace, name, e);
            }
        }
        return blocks;
    }

    private IReadOnlyList<Block> Readable(string workspace, IReadOnlyList<Block> blocks) =>
        Exclude is { } exclude ? blocks.Where(b => !exclude(workspace, b.Meta.Ulid)).ToList() : blocks;

    private void MarkCorrupt(string workspace, string ulid, Exception e)
    {
        var state = _workspaces.GetOrAdd(workspace, _ => new WorkspaceBlocks());
        if (!state.Corrupt.TryAdd(ulid, e.Message)) return;
        state.Blocks = state.Blocks.Where(b => b.Meta.Ulid != ulid).ToList();
        CorruptBlocks.Add(1, new KeyValuePair<string, object?>("workspace", workspace));
        LogCorrupt(logger, ulid, workspace, e.Message);
    }

    private sealed class WorkspaceBlocks
    {
        public readonly SemaphoreSlim Sync = new(1, 1);
        public readonly ConcurrentDictionary<string, string> Corrupt = new(StringComparer.Ordinal);
        public volatile IReadOnlyList<Block> Blocks = [];
        public DateTime SyncedAt = DateTime.MinValue;
    }

    private sealed class Queryable(BucketBlockStore store, string workspace) : IQueryable
    {
        public IQuerier Querier(long minT, long maxT) => new LazyQuerier(store, workspace, minT, maxT);
    }

    /// <summary>Lists the blocks when first used, then reads them like any block set.</summary>
    private sealed class LazyQuerier(BucketBlockStore store, string workspace, long minT, long maxT) : IQuerier
    {
        private BlocksQuerier? _inner;

        private async ValueTask<BlocksQuerier> InnerAsync(CancellationToken ct) =>
            _inner ??= new BlocksQuerier(store.Readable(workspace, await store.BlocksAsync(workspace, ct)), minT, maxT,
                (block, e) => store.MarkCorrupt(workspace, block.Meta.Ulid, e));

        public async ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<Amphora.Model.LabelMatcher> matchers, CancellationToken ct = default) =>
            await (await InnerAsync(ct)).SelectAsync(sorted, hints, matchers, ct);

        public async ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<Amphora.Model.LabelMatcher> matchers, CancellationToken ct = default) =>
            await (await InnerAsync(ct)).LabelValuesAsync(name, matchers, ct);

        public async ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<Amphora.Model.LabelMatcher> matchers, CancellationToken ct = default) =>
            await (await InnerAsync(ct)).LabelNamesAsync(matchers, ct);

        public void Dispose() { }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Bucket index of workspace {Workspace} is unreadable; listing the bucket instead: {Reason}")]
    private static partial void LogBadIndex(ILogger logger, string workspace, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Block {Ulid} of workspace {Workspace} in the bucket is unreadable and is skipped by queries: {Reason}")]
    private static partial void LogCorrupt(ILogger logger, string ulid, string workspace, string reason);
}
