using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime;

namespace Amphora.Ingester.Storage;

/// <summary>
/// Compacts the process's managed heap once after a round of block cuts. A cut frees a block range of chunks and the
/// series the head's GC removed: in a heap of long-lived series that leaves holes in gen 2 and the large-object heap
/// that a sweeping collection never gives back (RSS grew with churn, docs/benchmarks.md "Head under churn"). One aggressive
/// collection right after the cut (blocking, compacting, and giving the freed memory back to the system) returns them. Compacting at every collection instead
/// (<c>System.GC.ConserveMemory</c>) cost about 55 % more CPU on samples of known series and 45 % more per new series, because
/// a head that grows is collected in full again and again. Process-wide and at most once per <see cref="MinInterval"/>, so
/// several storages in one process (or many workspaces cut in one round) cause one compaction.
/// </summary>
internal static class HeapCompaction
{
    private static readonly Meter Meter = new("Amphora.Tsdb");
    private static readonly Counter<long> Compactions = Meter.CreateCounter<long>("amphora_tsdb_heap_compactions",
        description: "Compacting collections of the managed heap after block cuts.");
    private static readonly Histogram<double> Duration = Meter.CreateHistogram<double>("amphora_tsdb_heap_compaction_duration_seconds",
        unit: "s", description: "How long a compacting collection after block cuts paused the process.");

    /// <summary>The shortest time between two compactions.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(5);
    private static long _last = long.MinValue;

    /// <summary>Compacts the heap unless the last compaction is less than <see cref="MinInterval"/> ago; returns whether it did.
    /// Call with no lock held that requests need: the collection pauses every thread anyway, and nothing else should wait
    /// for its caller.</summary>
    public static bool AfterCut()
    {
        long now = Stopwatch.GetTimestamp(), last = Volatile.Read(ref _last);
        if (!Due(last, now)) return false;
        if (Interlocked.CompareExchange(ref _last, now, last) != last) return false; // another storage compacts
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        Compactions.Add(1);
        Duration.Record(Stopwatch.GetElapsedTime(now).TotalSeconds);
        return true;
    }

    /// <summary>When the last compaction started (a <see cref="Stopwatch"/> timestamp), or null before the first.</summary>
    public static long? LastStarted => Volatile.Read(ref _last) is var last && last != long.MinValue ? last : null;

    /// <summary>Whether a compaction is due at <paramref name="now"/> after one that started at <paramref name="last"/>
    /// (<see cref="long.MinValue"/>: none yet).</summary>
    internal static bool Due(long last, long now) => last == long.MinValue || Stopwatch.GetElapsedTime(last, now) >= MinInterval;
}
