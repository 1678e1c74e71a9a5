using Amphora.Model;
using Amphora.Storage;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;

namespace Amphora.Compactor;

/// <summary>
/// Merges the series of several blocks: identical chunks (replicas that received the same samples) are kept once; a series
/// whose remaining chunks do not overlap keeps them as they are; where chunks overlap (replicas that differ) the samples
/// are merged by timestamp, each timestamp kept once, and re-encoded.
/// </summary>
public static class BlockMerger
{
    /// <summary>The series of <paramref name="blocks"/> merged, each with the distinct samples its inputs held (see
    /// <see cref="MergeCheck"/>, which the compactor runs on the result before writing it).</summary>
    public static MergeResult Merge(IReadOnlyList<List<(Labels Labels, List<ChunkData> Chunks)>> blocks)
    {
        var bySeries = new SortedDictionary<Labels, List<ChunkData>>();
        foreach (var block in blocks)
            foreach (var (labels, chunks) in block)
            {
                if (!bySeries.TryGetValue(labels, out var list)) bySeries[labels] = list = new List<ChunkData>();
                list.AddRange(chunks);
            }
        var result = new List<MergedSeries>(bySeries.Count);
        long inputSamples = 0, distinctSamples = 0;
        foreach (var (labels, all) in bySeries)
        {
            foreach (var c in all) inputSamples += c.Count;
            long distinct = MergeCheck.DistinctSamples(all); // also sorts them by start
            distinctSamples += distinct;
            // Replicas that received the same samples cut the same chunks: keep one of each identical chunk as it is.
            var chunks = new List<ChunkData>(all.Count);
            foreach (var c in all)
                if (!chunks.Exists(k => k.MinT == c.MinT && k.MaxT == c.MaxT && k.Bytes.AsSpan().SequenceEqual(c.Bytes))) chunks.Add(c);
            bool overlapping = false;
            for (int i = 1; i < chunks.Count && !overlapping; i++) overlapping = chunks[i].MinT <= chunks[i - 1].MaxT;
            result.Add(new MergedSeries(labels, overlapping ? ChunkSamples.Encode(MergeSamples(chunks)) : chunks, distinct));
        }
        return new MergeResult(result, inputSamples, distinctSamples);
    }

    /// <summary>All samples of the chunks (floats and native histograms) in time order, one per timestamp (replicas carry the
    /// same sample).</summary>
    private static List<ChunkSample> MergeSamples(List<ChunkData> chunks)
    {
        var samples = new List<ChunkSample>(chunks.Sum(c => c.Count));
        foreach (var c in chunks)
        {
            try
            {
                ChunkSamples.Decode(c, samples);
            }
            catch (InvalidDataException e)
            {
                throw new BlockFormatException(e.Message);
            }
        }
        // Stable, so of two samples at one timestamp the one from the earlier chunk stays, as before.
        var ordered = samples.OrderBy(s => s.T).ToList();
        int w = 0;
        for (int i = 0; i < ordered.Count; i++)
            if (w == 0 || ordered[i].T != ordered[w - 1].T) ordered[w++] = ordered[i];
        ordered.RemoveRange(w, ordered.Count - w);
        return ordered;
    }
}
