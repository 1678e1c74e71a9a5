using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Chunks;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Tsdb.Blocks;

/// <summary>
/// An opened block, local or in a bucket: meta.json read when opened, the index fetched on first use and kept, chunks read
/// by range for each select (neighbouring chunks in one read). Thread-safe.
/// </summary>
public sealed class Block
{
    /// <summary>Chunks closer than this in a segment are fetched with one ranged read.</summary>
    private const int CoalesceGap = 64 << 10;
    /// <summary>Read past the last wanted chunk's start by this much; an XOR chunk of 120 samples is well below it.</summary>
    private const int ChunkReadAhead = 4096;

    private readonly IBlockFiles _files;
    private readonly Lazy<Task<IndexReader>> _index;

    private Block(BlockMeta meta, IBlockFiles files, bool checkTombstones)
    {
        Meta = meta;
        _files = files;
        _index = new Lazy<Task<IndexReader>>(async () =>
        {
            if (checkTombstones) Tombstones.Validate(await files.ReadAllAsync("tombstones"), files.Location);
            return new IndexReader(await files.ReadAllAsync("index"), files.Location + "/index");
        });
    }

    public BlockMeta Meta { get; }
    public string Location => _files.Location;

    /// <summary>Reads and checks meta.json and tombstones; the index is read on first use.</summary>
    public static async Task<Block> OpenAsync(IBlockFiles files, CancellationToken ct = default)
    {
        var meta = BlockMeta.Parse(await files.ReadAllAsync("meta.json", ct));
        Tombstones.Validate(await files.ReadAllAsync("tombstones", ct), files.Location);
        return new Block(meta, files, checkTombstones: false);
    }

    /// <summary>A block whose meta is already known (from a bucket index); tombstones are checked with the index, on first use.</summary>
    public static Block FromMeta(BlockMeta meta, IBlockFiles files) => new(meta, files, checkTombstones: true);

    /// <summary>Fetches and checks the index now (normally it is read on first use).</summary>
    public Task<IndexReader> IndexAsync() => _index.Value;

    public bool Overlaps(long minT, long maxT) => Meta.MinTime <= maxT && Meta.MaxTime > minT;

    /// <summary>Series matching every matcher with their chunks overlapping [minT, maxT], in label order.</summary>
    public async Task<List<(Labels Labels, List<ChunkData> Chunks)>> SelectAsync(IReadOnlyList<LabelMatcher> matchers, long minT, long maxT,
        CancellationToken ct = default)
    {
        var index = await _index.Value;
        var wanted = new List<(Labels Labels, ChunkMeta[] Chunks)>();
        int n = 0;
        foreach (uint id in Match(index, matchers, ct))
        {
            if ((++n & 1023) == 0) ct.ThrowIfCancellationRequested();
            var (labels, metas) = index.Series(id);
            var inRange = metas.Where(c => c.MaxT >= minT && c.MinT <= maxT).ToArray();
            if (inRange.Length > 0) wanted.Add((labels, inRange));
        }
        var chunks = await ReadChunksAsync(wanted.SelectMany(s => s.Chunks), ct);
        return wanted.Select(s => (s.Labels, s.Chunks.Select(c => chunks[c.Ref]).ToList())).ToList();
    }

    /// <summary>Label names of the series matching every matcher; the loops observe <paramref name="ct"/>.</summary>
    public async Task<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        var index = await _index.Value;
        if (matchers.Count == 0) return index.LabelNames.ToList();
        var names = new HashSet<string>(StringComparer.Ordinal);
        int n = 0;
        foreach (uint id in Match(index, matchers, ct))
        {
            if ((++n & 1023) == 0) ct.ThrowIfCancellationRequested();
            foreach (var l in index.Series(id).Labels) names.Add(l.Name);
        }
        return names.ToList();
    }

    /// <summary>Values of label <paramref name="name"/> over the series matching every matcher; the loops observe <paramref name="ct"/>.</summary>
    public async Task<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        var index = await _index.Value;
        if (matchers.Count == 0) return index.LabelValues(name);
        var values = new HashSet<string>(StringComparer.Ordinal);
        int n = 0;
        foreach (uint id in Match(index, matchers, ct))
        {
            if ((++n & 1023) == 0) ct.ThrowIfCancellationRequested();
            if (index.Series(id).Labels.Get(name) is { Length: > 0 } v) values.Add(v);
        }
        return values.ToList();
    }

    /// <summary>
    /// Series IDs matching all matchers. A matcher that matches the empty value (a missing label) selects every series except
    /// those with a value it rejects; any other selects the union of the values it accepts.
    /// </summary>
    private static uint[] Match(IndexReader index, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct)
    {
        // A regex runs once per label value of the block: the cancellation check goes where the matching happens.
        int checks = 0;
        bool Check(LabelMatcher m, string v)
        {
            if ((++checks & 255) == 0) ct.ThrowIfCancellationRequested();
            return m.Matches(v);
        }
        uint[]? result = null;
        foreach (var m in matchers.OrderBy(m => m.MatchesEmpty ? 1 : 0))
        {
            uint[] ids;
            ct.ThrowIfCancellationRequested();
            if (m.MatchesEmpty)
                ids = PostingsMath.Subtract(result ?? index.AllPostings(), index.Postings(m.Name, v => !Check(m, v)));
            else if (m.Type == MatchType.Equal)
                ids = index.Postings(m.Name, m.Value);
            else
                ids = index.Postings(m.Name, v => Check(m, v));
            result = result is null || m.MatchesEmpty ? ids : PostingsMath.Intersect(result, ids);
            if (result.Length == 0) break;
        }
        return result ?? index.AllPostings();
    }

    private async Task<Dictionary<ulong, ChunkData>> ReadChunksAsync(IEnumerable<ChunkMeta> metas, CancellationToken ct)
    {
        var result = new Dictionary<ulong, ChunkData>();
        var bySegment = metas.GroupBy(m => ChunkSegments.Split(m.Ref).Sequence);
        foreach (var segment in bySegment)
        {
            string path = "chunks/" + ChunkSegments.FileName(segment.Key);
            var sorted = segment.DistinctBy(m => m.Ref).OrderBy(m => m.Ref).ToList();
            int i = 0;
            while (i < sorted.Count)
            {
                long start = ChunkSegments.Split(sorted[i].Ref).Offset;
                int j = i;
                while (j + 1 < sorted.Count && ChunkSegments.Split(sorted[j + 1].Ref).Offset - ChunkSegments.Split(sorted[j].Ref).Offset < CoalesceGap) j++;
                long end = ChunkSegments.Split(sorted[j].Ref).Offset + ChunkReadAhead;
                var buffer = await _files.ReadRangeAsync(path, start, checked((int)(end - start)), ct);
                for (int k = i; k <= j; k++)
                {
                    var meta = sorted[k];
                    long offset = ChunkSegments.Split(meta.Ref).Offset;
                    string where = $"{_files.Location}/{path} at {offset}";
                    var chunk = ChunkSegments.TryDecode(buffer, (int)(offset - start), meta.MinT, meta.MaxT, where)
                        ?? await ReadOneAsync(path, offset, meta, where, ct);
                    result[meta.Ref] = chunk;
                }
                i = j + 1;
            }
        }
        return result;
    }

    /// <summary>A chunk larger than the read-ahead: its length first, then exactly its bytes.</summary>
    private async Task<ChunkData> ReadOneAsync(string path, long offset, ChunkMeta meta, string where, CancellationToken ct)
    {
        var head = await _files.ReadRangeAsync(path, offset, 10, ct);
        var r = new ByteReader(head);
        ulong length = r.Uvarint();
        var buffer = await _files.ReadRangeAsync(path, offset, checked(r.Position + 1 + (int)length + 4), ct);
        return ChunkSegments.TryDecode(buffer, 0, meta.MinT, meta.MaxT, where)
            ?? throw new BlockFormatException($"{where}: chunk runs past the end of the segment");
    }

    /// <summary>Every series with all its chunks, in label order (for compaction and tools).</summary>
    public Task<List<(Labels Labels, List<ChunkData> Chunks)>> ReadAllAsync(CancellationToken ct = default) =>
        SelectAsync([], long.MinValue, long.MaxValue, ct);
}

/// <summary>
/// Queries a set of blocks as one: series with the same labels in several blocks are merged, duplicates dropped. With
/// <paramref name="onUnreadable"/>, a block that turns out corrupt or missing is reported there and skipped (the result
/// carries a warning naming it); without, the error propagates.
/// </summary>
public sealed class BlocksQuerier(IReadOnlyList<Block> blocks, long minT, long maxT, Action<Block, Exception>? onUnreadable = null) : IQuerier
{
    public async ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        long from = Math.Max(minT, hints?.Start ?? minT), to = Math.Min(maxT, hints?.End ?? maxT);
        var sets = new List<ISeriesSet>();
        var warnings = new List<string>();
        foreach (var block in blocks)
        {
            if (!block.Overlaps(from, to)) continue;
            var series = await Guard(block, () => block.SelectAsync(matchers, from, to, ct), warnings);
            if (series is not null) sets.Add(new ListSeriesSet(series.Select(s => (ISeries)new BlockSeries(s.Labels, s.Chunks)).ToList()));
        }
        if (warnings.Count > 0) sets.Add(new ListSeriesSet([], warnings));
        return MergeSeriesSet.Of(sets);
    }

    public async ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        var values = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var block in blocks)
            if (block.Overlaps(minT, maxT) && await Guard(block, () => block.LabelValuesAsync(name, matchers, ct), null) is { } v) values.UnionWith(v);
        return values.ToList();
    }

    public async ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        var names = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var block in blocks)
            if (block.Overlaps(minT, maxT) && await Guard(block, () => block.LabelNamesAsync(matchers, ct), null) is { } n) names.UnionWith(n);
        return names.ToList();
    }

    private async Task<T?> Guard<T>(Block block, Func<Task<T>> read, List<string>? warnings) where T : class
    {
        if (onUnreadable is null) return await read();
        try
        {
            return await read();
        }
        catch (Exception e) when (e is BlockFormatException or Amphora.Bucket.ObjectNotFoundException or IOException)
        {
            onUnreadable(block, e);
            warnings?.Add($"block {block.Meta.Ulid} is unreadable and was skipped: {e.Message}");
            return null;
        }
    }

    public void Dispose() { }
}

/// <summary>A series read from a block: its chunks one after the other.</summary>
internal sealed class BlockSeries(Labels labels, List<ChunkData> chunks) : ISeries
{
    public Labels Labels { get; } = labels;
    public ISampleIterator Iterator(ISampleIterator? reuse = null) => new ChunkSequenceIterator(chunks);
}

/// <summary>A fixed set of blocks as a queryable.</summary>
public sealed class BlocksQueryable(IReadOnlyList<Block> blocks) : IQueryable
{
    public IQuerier Querier(long minT, long maxT) => new BlocksQuerier(blocks, minT, maxT);
}
