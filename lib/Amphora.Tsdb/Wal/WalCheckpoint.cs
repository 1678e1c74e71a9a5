using System.Globalization;

namespace Amphora.Tsdb.Wal;

/// <summary>
/// A WAL checkpoint: the records of segments 0..N that still matter (series still in memory, samples not yet in a block,
/// current metadata) written to "checkpoint.N" (a directory of segments in the same framing), after which segments 0..N are
/// deleted. Replay reads the newest checkpoint, then the segments after N. The checkpoint is built in "checkpoint.N.tmp" and
/// renamed when synced, so a crash leaves either the old state or the new one.
/// </summary>
public static class WalCheckpoint
{
    private const string Prefix = "checkpoint.";

    /// <summary>Rewrites a record for the checkpoint: the payload to keep (the same or a reduced one) or null to drop it.</summary>
    public delegate byte[]? Filter(WalRecordType type, ReadOnlySpan<byte> payload);

    /// <summary>The newest complete checkpoint: its directory and the last segment it covers.</summary>
    public static (string Dir, int UpTo)? Latest(string walDir)
    {
        (string, int)? best = null;
        if (!Directory.Exists(walDir)) return null;
        foreach (var dir in Directory.EnumerateDirectories(walDir, Prefix + "*"))
        {
            string suffix = Path.GetFileName(dir)[Prefix.Length..];
            if (suffix.Length == 8 && int.TryParse(suffix, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && (best is null || n > best.Value.Item2))
                best = (dir, n);
        }
        return best;
    }

    /// <summary>Deletes checkpoints a crash left unfinished.</summary>
    public static void RemoveIncomplete(string walDir)
    {
        if (!Directory.Exists(walDir)) return;
        foreach (var dir in Directory.EnumerateDirectories(walDir, Prefix + "*.tmp")) Directory.Delete(dir, recursive: true);
    }

    /// <summary>
    /// Checkpoints segments up to <paramref name="upTo"/> (which must be closed): the previous checkpoint and those segments
    /// pass through <paramref name="filter"/>, then <paramref name="trailer"/>'s records are added. Returns the records kept.
    /// </summary>
    public static long Create(string walDir, int upTo, Filter filter, IEnumerable<(WalRecordType Type, byte[] Payload)> trailer)
    {
        var previous = Latest(walDir);
        string final = Path.Combine(walDir, Prefix + upTo.ToString("D8", CultureInfo.InvariantCulture));
        string temp = final + ".tmp";
        if (Directory.Exists(temp)) Directory.Delete(temp, recursive: true);
        long kept = 0;
        using (var writer = new WalWriter(temp))
        {
            void Copy(WalRecordType type, ReadOnlySpan<byte> payload)
            {
                if (filter(type, payload) is not { } keep) return;
                writer.Append(type, keep);
                kept++;
            }
            if (previous is { } p) WalReader.ReplayStrict(p.Dir, Copy);
            foreach (int segment in WalSegments.List(walDir))
            {
                if (segment > upTo) break;
                if (previous is { } pr && segment <= pr.UpTo) continue;
                WalReader.ReplaySegmentStrict(walDir, segment, Copy);
            }
            foreach (var (type, payload) in trailer)
            {
                writer.Append(type, payload);
                kept++;
            }
            writer.Sync();
        }
        Directory.Move(temp, final);
        Blocks.BlockWriter.SyncDirectory(walDir);

        foreach (int segment in WalSegments.List(walDir))
            if (segment <= upTo) File.Delete(WalSegments.PathOf(walDir, segment));
        foreach (var dir in Directory.EnumerateDirectories(walDir, Prefix + "*"))
            if (dir != final && !dir.EndsWith(".tmp", StringComparison.Ordinal)) Directory.Delete(dir, recursive: true);
        return kept;
    }
}
