using Amphora.Bucket;
using Amphora.Metrics;
using Amphora.Tenancy.ControlPlane;
using Amphora.Tenancy.Limits;

namespace Amphora.Server;

/// <summary>
/// The usage endpoint's figures in this process: the meters of its components (<see cref="UsageCollector"/>), the workspace's
/// series limit, and, where the process reads the bucket, the bytes under the workspace's prefix (listed on each request).
/// </summary>
internal sealed partial class WorkspaceUsageSource(UsageCollector collector, Overrides overrides, IBucket? bucket, bool wholeService,
    ILogger<WorkspaceUsageSource> logger) : IWorkspaceUsageSource
{
    public async Task<WorkspaceUsage> UsageAsync(string workspace, CancellationToken ct)
    {
        var s = collector.For(workspace);
        long? stored = null;
        if (bucket is not null)
        {
            try
            {
                stored = await bucket.BytesUnderAsync(workspace + "/", ct);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The other figures are still worth answering; the bucket's trouble is in the log (and its own metrics).
                LogBucketFailed(workspace, e.Message);
            }
        }
        return new WorkspaceUsage(s.SamplesReceived, s.SamplesDiscarded, s.ActiveSeries, overrides.For(workspace).MaxSeriesPerWorkspace,
            s.QuerySamplesProcessed, stored, wholeService ? "service" : "component");
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "usage of workspace {Workspace}: the bucket's stored bytes could not be read: {Reason}")]
    private partial void LogBucketFailed(string workspace, string reason);
}
