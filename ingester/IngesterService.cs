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
public sealed class IngesterService : ServiceBase, IWorkspaceAppendable, IWorkspaceQueryable, IWorkspaceMetadata, IWorkspaceExemplars
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
    public Func<string, Labels, SeriesRefusal?>? NewSeriesAdmission { get; set; }

    /// <summary>
    /// Called when a series counted by <see cref="NewSeriesAdmission"/> does not exist after all (another request created it
    /// first, or the request was not committed) or was removed from the head by its GC after a block cut.
    /// </summary>
    public Action<string, Labels>? SeriesReleased { get; set; }

    /// <summary>Called after the WAL replay with every workspace's series, so limits can recount what exists.</summary>
    public Action<string, IEnumerable<Labels>>? Replayed { get; set; }

    private TsdbStorage Storage => _storage ?? throw new StorageUnavailableException("the ingester is starting (replaying its WAL)");

    protected override async Task StartingAsync(CancellationToken ct)
    {
        _storage = await TsdbStorage.OpenAsync(_dir, _options, _logger, new Accounting(this));
        foreach (var workspace in _storage.Workspaces) Replayed?.Invoke(workspace, _storage.SeriesOf(workspace));
    }

    protected override Task StoppingAsync(CancellationToken ct)
    {
        _storage?.Dispose();
        return Task.CompletedTask;
    }

    public IAppender Appender(string workspace) => Storage.Appender(workspace);

    public IQueryable ForWorkspace(string workspace) => Storage.ForWorkspace(workspace);

    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct = default) =>
        Storage.MetadataAsync(workspace, metric, limit, limitPerMetric, ct);

    public ValueTask<IReadOnlyList<ExemplarSeries>> SelectExemplarsAsync(string workspace, long start, long end,
        IReadOnlyList<IReadOnlyList<LabelMatcher>> matcherSets, CancellationToken ct = default) =>
        Storage.SelectExemplarsAsync(workspace, start, end, matcherSets, ct);

    /// <summary>Whether the ingester serves this block from its local disk (not uploaded yet, or within its local retention).</summary>
    public bool ServesBlock(string workspace, string ulid) => _storage?.HasLocalBlock(workspace, ulid) ?? false;

    /// <summary>The workspaces this ingester holds data of (none while it replays its WAL).</summary>
    public IEnumerable<string> Workspaces => _storage?.Workspaces ?? [];

    /// <summary>Removes all of a workspace's data and metadata (workspace deletion), durably; later queries see nothing.</summary>
    public Task DropWorkspaceAsync(string workspace) => Storage.DropAsync(workspace);

    private IEnumerable<Measurement<long>> ObserveActiveSeries()
    {
        if (_storage is not { } storage) yield break;
        foreach (var w in storage.Workspaces)
            yield return new Measurement<long>(storage.ActiveSeries(w), new KeyValuePair<string, object?>("workspace", w));
    }

    /// <summary>The admission and release delegates as the head's series accounting.</summary>
    private sealed class Accounting(IngesterService owner) : ISeriesAccounting
    {
        public SeriesRefusal? TryAdmit(string workspace, Labels series) => owner.NewSeriesAdmission?.Invoke(workspace, series);
        public void Release(string workspace, Labels series) => owner.SeriesReleased?.Invoke(workspace, series);
    }
}
