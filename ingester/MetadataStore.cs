using System.Collections.Concurrent;
using Amphora.Storage;

namespace Amphora.Ingester;

/// <summary>
/// The latest metric metadata per workspace and metric family, as remote write sends it (Prometheus re-sends all metadata every
/// minute, so memory is enough: after a restart it is complete again within one send interval). Thread-safe.
/// </summary>
public sealed class MetadataStore : IWorkspaceMetadata
{
    private const int MaxEntriesPerFamily = 10;
    private readonly ConcurrentDictionary<string, ConcurrentDictionary<string, List<MetricMetadata>>> _byWorkspace = new(StringComparer.Ordinal);

    public void Update(string workspace, MetricMetadata metadata)
    {
        var families = _byWorkspace.GetOrAdd(workspace, static _ => new(StringComparer.Ordinal));
        var entries = families.GetOrAdd(metadata.MetricFamilyName, static _ => new List<MetricMetadata>());
        lock (entries)
        {
            int i = entries.IndexOf(metadata);
            if (i == 0) return;
            if (i > 0) entries.RemoveAt(i);
            entries.Insert(0, metadata);
            if (entries.Count > MaxEntriesPerFamily) entries.RemoveAt(entries.Count - 1);
        }
    }

    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct = default)
    {
        var result = new SortedDictionary<string, IReadOnlyList<MetricMetadata>>(StringComparer.Ordinal);
        if (_byWorkspace.TryGetValue(workspace, out var families))
        {
            foreach (var (family, entries) in families)
            {
                if (metric is not null && family != metric) continue;
                List<MetricMetadata> copy;
                lock (entries) copy = new List<MetricMetadata>(entries);
                if (limitPerMetric > 0 && copy.Count > limitPerMetric) copy.RemoveRange(limitPerMetric, copy.Count - limitPerMetric);
                result[family] = copy;
            }
        }
        IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>> limited = result;
        if (limit >= 0 && result.Count > limit)
            limited = result.Take(limit).ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.Ordinal);
        return ValueTask.FromResult(limited);
    }

    /// <summary>Forgets a workspace's metadata (workspace deletion).</summary>
    public void Drop(string workspace) => _byWorkspace.TryRemove(workspace, out _);
}
