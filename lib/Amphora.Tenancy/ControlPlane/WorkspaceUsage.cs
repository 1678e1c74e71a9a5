namespace Amphora.Tenancy.ControlPlane;

/// <summary>
/// A workspace's usage, as AMP vends it per workspace (ingestion, discarded samples, active series, query samples
/// processed) plus the series limit's use and the bytes its blocks take in the bucket.
/// </summary>
/// <param name="SamplesReceived">Samples that arrived in remote-write requests, before validation and limits.</param>
/// <param name="SamplesDiscarded">Samples refused, by reason (a stable error id such as <c>err-amphora-ingestion-rate-limited</c>).</param>
/// <param name="ActiveSeries">Series the ingesters hold in memory (recent ones: a series leaves the head after its samples were cut into a block).</param>
/// <param name="MaxSeries">The workspace's <c>max_series_per_workspace</c>.</param>
/// <param name="QuerySamplesProcessed">Samples read from storage to evaluate the workspace's queries.</param>
/// <param name="StoredBytes">Bytes of every object under the workspace's prefix of the bucket; null where this component has no bucket.</param>
/// <param name="Scope"><c>service</c> when the figures are the whole service's (<c>--target=all</c>), <c>component</c> when they are the answering process's share.</param>
public sealed record WorkspaceUsage(
    long SamplesReceived,
    IReadOnlyDictionary<string, long> SamplesDiscarded,
    long ActiveSeries,
    long MaxSeries,
    long QuerySamplesProcessed,
    long? StoredBytes,
    string Scope);

/// <summary>Where the control plane's usage endpoint gets its figures (the executable composes them from its components).</summary>
public interface IWorkspaceUsageSource
{
    Task<WorkspaceUsage> UsageAsync(string workspace, CancellationToken ct);
}
