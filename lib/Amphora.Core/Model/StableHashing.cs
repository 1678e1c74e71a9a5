namespace Amphora.Model;

/// <summary>
/// FNV-1a (64-bit) over UTF-16 code units, with a separator byte between names and values so that
/// {a="bc"} and {ab="c"} differ. Stable across processes, machines and versions: used for the ring
/// and for series identity in the head.
/// </summary>
public static class StableHashing
{
    public const ulong Fnv1aOffset = 14695981039346656037UL;
    private const ulong Prime = 1099511628211UL;
    private const ulong Separator = 0xff;

    public static ulong Fnv1a64(string s, ulong hash)
    {
        foreach (char c in s)
        {
            hash = (hash ^ (byte)c) * Prime;
            hash = (hash ^ (byte)(c >> 8)) * Prime;
        }
        return hash;
    }

    public static ulong Fnv1a64(Labels labels, ulong hash)
    {
        foreach (var l in labels.AsSpan())
        {
            hash = Fnv1a64(l.Name, hash);
            hash = (hash ^ Separator) * Prime;
            hash = Fnv1a64(l.Value, hash);
            hash = (hash ^ Separator) * Prime;
        }
        return hash;
    }

    /// <summary>The shard key of a series: workspace and sorted labels, as the ring hashes it.</summary>
    public static ulong SeriesKey(string workspace, Labels labels)
    {
        ulong h = Fnv1a64(workspace, Fnv1aOffset);
        h = (h ^ Separator) * Prime;
        return Fnv1a64(labels, h);
    }
}
