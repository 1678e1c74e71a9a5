using System.Diagnostics;
using Amphora.Model;
using Amphora.Tsdb.Blocks;
using Amphora.Tsdb.Chunks;
using Microsoft.Extensions.Logging;

namespace Amphora.Compactor;

/// <summary>One compaction: read the inputs, merge, check the output against the inputs, write, upload.</summary>
public sealed partial class CompactorService
{
    /// <summary>The merge a compaction runs; tests replace it with a faulty one to prove that the check stops the upload.</summary>
    internal Func<IReadOnlyList<List<(Labels Labels, List<ChunkData> Chunks)>>, MergeResult> Merger { get; init; } = BlockMerger.Merge;

    /// <summary>
    /// Reads the inputs, merges them into one block in the work directory, checks that it holds each distinct input sample
    /// exactly once (<see cref="MergeCheck"/>), and uploads it (meta.json last). An output that fails the check is not
    /// uploaded: the error is logged and counted, and the <see cref="CompactionCheckException"/> ends the workspace's pass.
    /// </summary>
    private async Task<BlockMeta> CompactAsync(string workspace, IReadOnlyList<BlockMeta> inputs, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        string workDir = WorkspaceIds.DirectoryUnder(_options.WorkDir, workspace);
        Directory.CreateDirectory(workDir);
        string? outputDir = null;
        string ids = string.Join(",", inputs.Select(b => b.Ulid));
        try
        {
            var series = new List<List<(Labels, List<ChunkData>)>>();
            foreach (var input in inputs)
            {
                var block = Block.FromMeta(input, new BucketBlockFiles(_bucket, BucketLayout.BlockPrefix(workspace, input.Ulid)));
                series.Add(await block.ReadAllAsync(ct));
            }
            var merged = Merger(series);
            MergeCheck.Verify(merged);
            var (meta, dir) = BlockWriter.Write(workDir, merged.Output, inputs.Min(b => b.MinTime), inputs.Max(b => b.MaxTime),
                new AmphoraBlockInfo { Workspace = workspace }, CompactionPlanner.Compaction(inputs));
            outputDir = dir;
            MergeCheck.VerifyWritten(merged, meta);
            long bytes = await BlockUploader.UploadAsync(_bucket, BucketLayout.BlockPrefix(workspace, meta.Ulid), dir, ct);
            _metas[meta.Ulid] = meta;
            Compactions.Add(1, new KeyValuePair<string, object?>("result", "ok"));
            LogCompacted(_logger, workspace, inputs.Count, ids, meta.Ulid, meta.Compaction.Level,
                meta.Stats.NumSeries, meta.Stats.NumSamples, merged.InputSamples, bytes, stopwatch.Elapsed.TotalSeconds);
            return meta;
        }
        catch (CompactionCheckException e)
        {
            Compactions.Add(1, new KeyValuePair<string, object?>("result", "failed"), new KeyValuePair<string, object?>("reason", e.Reason));
            LogCheckFailed(_logger, workspace, inputs.Count, ids, e.Reason, e.Message);
            throw;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            Compactions.Add(1, new KeyValuePair<string, object?>("result", "failed"), new KeyValuePair<string, object?>("reason", "error"));
            throw;
        }
        finally
        {
            if (outputDir is not null && Directory.Exists(outputDir)) Directory.Delete(outputDir, recursive: true);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Compacted workspace {Workspace}: {Inputs} blocks ({InputIds}) into {Ulid} (level {Level}): {Series} series, {Samples} samples ({InputSamples} in the inputs), {Bytes} bytes in {Seconds:F2} s")]
    private static partial void LogCompacted(ILogger logger, string workspace, int inputs, string inputIds, string ulid, int level, long series, long samples, long inputSamples, long bytes, double seconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "Compaction of workspace {Workspace} failed its output check ({Reason}) and was not uploaded; its {Inputs} input blocks ({InputIds}) stay as they are: {Detail}")]
    private static partial void LogCheckFailed(ILogger logger, string workspace, int inputs, string inputIds, string reason, string detail);
}
