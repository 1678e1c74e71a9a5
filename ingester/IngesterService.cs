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
    /// The series limits the head admits new series through and releases removed ones to (see <see cref="ISeriesAccounting"/>);
    /// recounted from the replayed head on start. Null admits every series. Set before the service starts.
    /// </summary>
    public ISeriesAccounting? SeriesLimits { get; set; }

    /// <summary>Called after the WAL replay and the recount for each workspace the head holds (e.g. to finish a deletion that
    /// happened while this ingester was down).</summary>
    public Action<string>? WorkspaceReplayed { get; set; }

    private TsdbStorage Storage => _storage ?? throw new StorageUnavailableException("the ingester is starting (replaying its WAL)");

    protected override async Task StartingAsync(CancellationToken ct)
    {
        _storage = await TsdbStorage.OpenAsync(_dir, _options, _logger, SeriesLimits);
        foreach (var workspace in _storage.Workspaces)
        {
            SeriesLimits?.Recount(workspace, _storage.SeriesOf(workspace));
            WorkspaceReplayed?.Invoke(workspace);
        }
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
}
