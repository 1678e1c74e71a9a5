using Amphora.Model;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;

namespace Amphora.Compactor;

/// <summary>One merged series: the chunks to write, and how many distinct samples (timestamps) its inputs held.</summary>
public readonly record struct MergedSeries(Labels Labels, IReadOnlyList<ChunkData> Chunks, long DistinctInputSamples);

/// <summary>A merge of several blocks: its series in label order, and the samples of the inputs (all, and distinct).</summary>
public sealed record MergeResult(IReadOnlyList<MergedSeries> Series, long InputSamples, long DistinctInputSamples)
{
    public IEnumerable<(Labels Labels, IReadOnlyList<ChunkData> Chunks)> Output => Series.Select(s => (s.Labels, s.Chunks));
}

/// <summary>
/// A compaction whose output would not hold each distinct input sample exactly once. It is a bug or corrupt input, never an
/// expected outcome: the compactor uploads nothing, logs it, counts it under <see cref="Reason"/>, and retries the next pass.
/// </summary>
public sealed class CompactionCheckException(string reason, string message) : Exception(message)
{
    /// <summary>Stable id, the <c>reason</c> label of the failed-compaction counter.</summary>
    public string Reason { get; } = reason;
}

/// <summary>
/// The compactor's check of its own output: every output series holds as many samples as its inputs held distinct
/// timestamps, in chunks that are in time order and do not overlap (so no sample is there twice), and the written block
/// holds the sum. The distinct count is taken from the inputs independently of how the merger chose to combine them, and
/// cheaply: chunks that overlap no other chunk count by their header, identical replica chunks count once, and only chunks
/// that overlap differently are decoded.
/// </summary>
public static class MergeCheck
{
    public const string OverlappingChunks = "overlapping-output-chunks";
    public const string SampleCountMismatch = "sample-count-mismatch";

    /// <summary>Distinct timestamps among <paramref name="chunks"/> (one series' chunks from every input), sorted here by start.</summary>
    public static long DistinctSamples(List<ChunkData> chunks)
    {
        chunks.Sort(static (a, b) => a.MinT != b.MinT ? a.MinT.CompareTo(b.MinT) : a.MaxT.CompareTo(b.MaxT));
        long distinct = 0;
        int start = 0;
        long end = long.MinValue;
        for (int i = 0; i <= chunks.Count; i++)
        {
            if (i < chunks.Count && (i == start || chunks[i].MinT <= end))
            {
                end = Math.Max(end, chunks[i].MaxT);
                continue;
            }
            if (i > start) distinct += DistinctInCluster(chunks, start, i);
            if (i < chunks.Count)
            {
                start = i;
                end = chunks[i].MaxT;
            }
        }
        return distinct;
    }

    /// <summary>Distinct timestamps of chunks [from, to), which overlap one another in a chain.</summary>
    private static long DistinctInCluster(List<ChunkData> chunks, int from, int to)
    {
        var first = chunks[from];
        bool identical = true;
        for (int i = from + 1; i < to && identical; i++)
            identical = chunks[i].MinT == first.MinT && chunks[i].MaxT == first.MaxT && chunks[i].Bytes.AsSpan().SequenceEqual(first.Bytes);
        if (identical) return first.Count;
        var timestamps = new List<long>();
        for (int i = from; i < to; i++)
        {
            var it = ChunkIterators.For(chunks[i]);
            while (it.Next() != Amphora.Storage.ValueType.None) timestamps.Add(it.AtT());
            if (it.Err is { } e) throw new BlockFormatException($"chunk [{chunks[i].MinT}, {chunks[i].MaxT}] cannot be decoded: {e.Message}");
        }
        timestamps.Sort();
        long distinct = 0;
        for (int i = 0; i < timestamps.Count; i++)
            if (i == 0 || timestamps[i] != timestamps[i - 1]) distinct++;
        return distinct;
    }

    /// <summary>Throws <see cref="CompactionCheckException"/> unless every output series holds its distinct input samples once.</summary>
    public static void Verify(MergeResult merge)
    {
        long total = 0;
        foreach (var (labels, chunks, distinct) in merge.Series)
        {
            long samples = 0;
            for (int i = 0; i < chunks.Count; i++)
            {
                if (i > 0 && chunks[i].MinT <= chunks[i - 1].MaxT)
                    throw new CompactionCheckException(OverlappingChunks,
                        $"series {labels}: output chunk [{chunks[i].MinT}, {chunks[i].MaxT}] overlaps the one before it [{chunks[i - 1].MinT}, {chunks[i - 1].MaxT}]");
                samples += chunks[i].Count;
            }
            if (samples != distinct)
                throw new CompactionCheckException(SampleCountMismatch,
                    $"series {labels}: the output holds {samples} samples, its inputs {distinct} distinct ones");
            total += samples;
        }
        if (total != merge.DistinctInputSamples)
            throw new CompactionCheckException(SampleCountMismatch,
                $"the output series hold {total} samples, the inputs {merge.DistinctInputSamples} distinct ones");
    }

    /// <summary>Throws <see cref="CompactionCheckException"/> unless the written block holds the inputs' distinct samples.</summary>
    public static void VerifyWritten(MergeResult merge, BlockMeta written)
    {
        if (written.Stats.NumSamples != merge.DistinctInputSamples)
            throw new CompactionCheckException(SampleCountMismatch,
                $"block {written.Ulid} holds {written.Stats.NumSamples} samples, its inputs {merge.DistinctInputSamples} distinct ones " +
                $"({merge.InputSamples} counting every replica)");
    }
}
