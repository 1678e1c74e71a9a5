using System.Diagnostics.Metrics;
using Amphora.Services;
using Amphora.Storage;
using IQueryable = Amphora.Storage.IQueryable;

namespace Amphora.Ingester;

/// <summary>
/// The ingester in a process: owns the workspaces' storage and metric metadata, and exposes them through the storage
/// contracts (appendable for the distributor, queryable and metadata for the querier).
/// </summary>
public sealed class IngesterService : ServiceBase, IWorkspaceAppendable, IWorkspaceQueryable, IWorkspaceMetadata
{
    private static readonly Meter Meter = new("Amphora.Ingester");
    private readonly InMemoryStorage _storage;
    private readonly MetadataStore _metadata = new();
    private readonly HashSet<string> _workspaces = new(StringComparer.Ordinal);

    public IngesterService(TimeSpan outOfOrderWindow)
    {
        _storage = new InMemoryStorage(outOfOrderWindow);
        Meter.CreateObservableGauge("amphora_ingester_active_series", ObserveActiveSeries,
            description: "Series held in memory, by workspace.");
    }

    public override string Name => "ingester";

    /// <summary>
    /// Decides whether a workspace may create a new series (per-workspace, per-metric and per-label-set limits); returns
    /// null to admit it or the refusal message naming the limit and its setting.
    /// </summary>
    public Func<string, Amphora.Model.Labels, string?>? NewSeriesAdmission { get; set; }

    public IAppender Appender(string workspace)
    {
        lock (_workspaces) _workspaces.Add(workspace);
        return new MetadataRoutingAppender(_storage.Appender(workspace), _metadata, workspace, this);
    }

    public IQueryable ForWorkspace(string workspace) => _storage.ForWorkspace(workspace);

    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct = default) =>
        _metadata.MetadataAsync(workspace, metric, limit, limitPerMetric, ct);

    /// <summary>Removes all of a workspace's data and metadata (workspace deletion); later queries see nothing.</summary>
    public void DropWorkspace(string workspace)
    {
        _storage.Drop(workspace);
        _metadata.Drop(workspace);
        lock (_workspaces) _workspaces.Remove(workspace);
    }

    private IEnumerable<Measurement<long>> ObserveActiveSeries()
    {
        string[] workspaces;
        lock (_workspaces) workspaces = _workspaces.ToArray();
        foreach (var w in workspaces)
            yield return new Measurement<long>(_storage.ActiveSeries(w), new KeyValuePair<string, object?>("workspace", w));
    }

    /// <summary>Metadata is applied on commit, with the samples of the same request.</summary>
    private sealed class MetadataRoutingAppender(IAppender inner, MetadataStore store, string workspace, IngesterService owner) : IAppender
    {
        private readonly List<MetricMetadata> _pending = new();
        private readonly HashSet<Amphora.Model.Labels> _admitted = new();

        public string? LastRejection { get; private set; }

        public AppendStatus Append(ref ulong seriesRef, Amphora.Model.Labels labels, long t, double v)
        {
            // A series seen for the first time by this workspace must pass the series limits (only new series are refused).
            if (owner.NewSeriesAdmission is { } admit && !_admitted.Contains(labels) && !owner._storage.Has(workspace, labels))
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

        public void UpdateMetadata(MetricMetadata metadata) => _pending.Add(metadata);

        public async ValueTask CommitAsync(CancellationToken ct = default)
        {
            await inner.CommitAsync(ct);
            foreach (var m in _pending) store.Update(workspace, m);
            _pending.Clear();
        }

        public void Rollback()
        {
            inner.Rollback();
            _pending.Clear();
        }
    }
}
