using Amphora.Tsdb.Chunks;

namespace Amphora.Tsdb;

/// <summary>
/// Start timestamps of a series' in-order samples: a side array for the open chunk, by position, made at the first sample
/// that has one (a series whose samples never do carries no array), handed to the chunk when it closes
/// (<see cref="ChunkData.StartTimestamps"/>). Out-of-order samples keep none.
/// </summary>
public sealed partial class MemSeries
{
    private long[]? _openST;

    /// <summary>Records the start timestamp of the open chunk's sample at <paramref name="index"/> (0 = none). Caller holds the lock.</summary>
    private void RecordStartTimestamp(int index, long st)
    {
        if (_openST is null)
        {
            if (st == 0) return;
            _openST = new long[Math.Max(32, index + 1)];
        }
        else if (index >= _openST.Length)
        {
            Array.Resize(ref _openST, Math.Max(index + 1, _openST.Length * 2));
        }
        _openST[index] = st;
    }

    /// <summary>The open chunk with its start timestamps, when it has any (a copy: the open array keeps growing).</summary>
    private ChunkData WithStartTimestamps(ChunkData open) =>
        _openST is null ? open : open with { StartTimestamps = _openST.AsSpan(0, open.Count).ToArray() };
}
