namespace Amphora.Storage;

/// <summary>Reads the metric metadata (type, help, unit) that writers sent for a workspace.</summary>
public interface IWorkspaceMetadata
{
    /// <summary>
    /// Metadata by metric family name: all families, or just <paramref name="metric"/>; at most <paramref name="limit"/> families
    /// and <paramref name="limitPerMetric"/> entries each (negative = no limit). Distinct entries, most recent first.
    /// </summary>
    ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(
        string workspace, string? metric, int limit, int limitPerMetric, CancellationToken ct = default);
}
