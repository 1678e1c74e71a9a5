using System.Diagnostics.Metrics;
using Amphora.Model;
using Amphora.Services;
using Amphora.Storage;
using Amphora.Ingester.Storage;
using Microsoft.Extensions.Logging;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Ingester;

/// <summary>
/// The ingester in a process: opens the TSDB (replaying its WAL) on start, closes it on stop, and exposes it through the
/// storage contracts (appendable for the distributor, queryable and metadata for the querier). Until it has started, writes
/// and reads are refused rather than served from an incomplete head.
/// </summary>
public sealed class IngesterService : ServiceBase, IWorkspaceAppendable, IWorkspaceQueryable, IWorkspaceMetadata
{
    private static readonly Meter Meter = new("Amphora.Ingester");
    private readonly string _dir;
    private readonly TsdbOptions _options;
    private readonly ILogger _logger;
    private TsdbStorage? _storage;

    public IngesterService(string dataDir, TsdbOptions options, ILogger<IngesterService> logger)
    {
        _dir = dataDir;
        _options = options;
        _logger = logger;
        Meter.CreateObservableGauge("amphora_ingester_active_series", ObserveActiveSeries,
            description: "Series held in memory, by workspace.");
    }

    public override string Name => "ingester";

    /// <summary>
    /// Decides whether a workspace may create a new series (per-workspace, per-metric and per-label-set limits); returns
    /// null to admit it or the refusal message naming the limit and its setting.
    /// </summary>
    public Func<string, Labels, string?>? NewSeriesAdmission { get; set; }

    /// <summary>Called after the WAL replay with every workspace's series, so limits can recount what exists.</summary>
    public Action<string, IEnumerable<Labels>>? Replayed { get; set; }

    private TsdbStorage Storage => _storage ?? throw new StorageUnavailableException("the ingester is starting (replaying its WAL)");

    protected override Task StartingAsync(CancellationToken ct)
    {
        _storage = TsdbStorage.Open(_dir, _options, _logger);
        foreach (var workspace in _storage.Workspaces) Replayed?.Invoke(workspace, _storage.SeriesOf(workspace));
        return Task.CompletedTask;
    }

    protected override Task StoppingAsync(CancellationToken ct)
    {
        _storage?.Dispose();
        return Task.CompletedTask;
    }

    public IAppender Appender(string workspace) => new LimitingAppender(Storage.Appender(workspace), workspace, this);

    public IQueryable ForWorkspace(string workspace) => Storage.ForWorkspace(workspace);

    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct = default) =>
        Storage.MetadataAsync(workspace, metric, limit, limitPerMetric, ct);

    /// <summary>Whether the ingester serves this block from its local disk (not uploaded yet, or within its local retention).</summary>
    public bool ServesBlock(string workspace, string ulid) => _storage?.HasLocalBlock(workspace, ulid) ?? false;

    /// <summary>Removes all of a workspace's data and metadata (workspace deletion), durably; later queries see nothing.</summary>
    public Task DropWorkspaceAsync(string workspace) => Storage.DropAsync(workspace);

    private IEnumerable<Measurement<long>> ObserveActiveSeries()
    {
        if (_storage is not { } storage) yield break;
        foreach (var w in storage.Workspaces)
            yield return new Measurement<long>(storage.ActiveSeries(w), new KeyValuePair<string, object?>("workspace", w));
    }

    /// <summary>Applies the series limits to series the workspace does not hold yet; everything else goes to the TSDB.</summary>
    private sealed class LimitingAppender(IAppender inner, string workspace, IngesterService owner) : IAppender
    {
        private readonly HashSet<Labels> _admitted = new();

        public string? LastRejection { get; private set; }

        public AppendStatus Append(ref ulong seriesRef, Labels labels, long t, double v)
        {
            if (owner.NewSeriesAdmission is { } admit && !_admitted.Contains(labels) && !owner.Storage.Has(workspace, labels))
            {
                if (admit(workspace, labels) is { } refusal)
                {
                    LastRejection = refusal;
                    return AppendStatus.SeriesLimit;
                }
                _admitted.Add(labels);
            }
            var status = inner.Append(ref seriesRef, labels, t, v);
            if (status != AppendStatus.Ok) LastRejection = inner.LastRejection;
            return status;
        }

        public void UpdateMetadata(MetricMetadata metadata) => inner.UpdateMetadata(metadata);
        public ValueTask CommitAsync(CancellationToken ct = default) => inner.CommitAsync(ct);
        public void Rollback() => inner.Rollback();
    }
}
