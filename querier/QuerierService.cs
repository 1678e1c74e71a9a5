using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;
using Amphora.Querier.Api;
using Amphora.Services;
using Amphora.Storage;

namespace Amphora.Querier;

/// <summary>
/// The querier: answers PromQL and the metadata APIs for a workspace over an <see cref="IWorkspaceQueryable"/> (local heads in
/// <c>--target=all</c>; ingesters and bucket blocks in a cluster). Limits the number of queries evaluated at once.
/// </summary>
public sealed partial class QuerierService : ServiceBase, Frontend.IQueryBackend
{
    private readonly IWorkspaceQueryable _storage;
    private readonly IWorkspaceMetadata _metadata;
    private readonly QuerierOptions _options;
    private readonly SemaphoreSlim _concurrency;
    private readonly PromQLEngine _engine;

    public QuerierService(IWorkspaceQueryable storage, IWorkspaceMetadata metadata, QuerierOptions options)
    {
        _storage = storage;
        _metadata = metadata;
        _options = options;
        _concurrency = new SemaphoreSlim(options.MaxConcurrent);
        _engine = CreateEngine(options);
    }

    private static readonly System.Diagnostics.Metrics.Meter Meter = new("Amphora.Querier");
    private static readonly System.Diagnostics.Metrics.Counter<long> SamplesProcessed = Meter.CreateCounter<long>(
        "amphora_querier_samples_processed",
        description: "Samples read from storage to evaluate queries, by workspace (AMP's query samples processed; Prometheus's totalQueryableSamples).");

    public override string Name => "querier";
    public QuerierOptions Options => _options;

    /// <summary>Per-workspace query limits (the tenancy layer's); unset means the querier's options apply to everyone.</summary>
    public QueryLimitHooks? Limits { get; init; }

    /// <param name="holdsWorkspaceSlot">The caller (the query frontend) already holds the workspace's concurrency slot
    /// (<see cref="EnterWorkspace"/>) for the request this query is part of.</param>
    public Task<QueryResult> InstantQueryAsync(string workspace, string query, long time, TimeSpan? timeout, CancellationToken ct,
        string? samplesErrorThreshold = null, bool holdsWorkspaceSlot = false) =>
        RunAsync(workspace, storage => EngineFor(workspace, samplesErrorThreshold).InstantQuery(storage, query, time), timeout, ct,
            holdsWorkspaceSlot);

    /// <param name="holdsWorkspaceSlot">See <see cref="InstantQueryAsync"/>.</param>
    public Task<QueryResult> RangeQueryAsync(string workspace, string query, long start, long end, long step, TimeSpan? timeout,
        CancellationToken ct, string? samplesErrorThreshold = null, bool holdsWorkspaceSlot = false)
    {
        CheckRange(workspace, start, end);
        return RunAsync(workspace, storage => EngineFor(workspace, samplesErrorThreshold).RangeQuery(storage, query, start, end, step), timeout, ct,
            holdsWorkspaceSlot);
    }

    /// <summary>Refuses (bad_data) a range the workspace's limits do not allow.</summary>
    public void CheckRange(string workspace, long start, long end)
    {
        if (Limits?.CheckRange(workspace, start, end) is { } refusal) throw new ApiException(ApiErrorType.BadData, refusal);
    }

    /// <summary>
    /// Takes one of the workspace's concurrent-query slots for a request (null when the workspace has no such limit); a
    /// workspace running its maximum is refused with 429.
    /// </summary>
    public IDisposable? EnterWorkspace(string workspace)
    {
        if (Limits?.Enter(workspace) is not { } entered) return null;
        return entered.Slot ?? throw new ApiException(ApiErrorType.TooManyRequests, entered.Refusal ?? "too many concurrent queries");
    }

    /// <summary>The most samples one query of the workspace may hold: <c>--query.max-samples</c>, lowered by the workspace's
    /// limit and the request's <c>max_samples_processed_error_threshold</c> (bad_data when that does not parse).</summary>
    public long MaxSamplesFor(string workspace, string? samplesErrorThreshold)
    {
        if (Limits is null) return _options.MaxSamples;
        try
        {
            return Math.Min(_options.MaxSamples, Limits.MaxSamples(workspace, samplesErrorThreshold));
        }
        catch (FormatException e)
        {
            throw ApiException.InvalidParam("max_samples_processed_error_threshold", e.Message);
        }
    }

    private PromQLEngine EngineFor(string workspace, string? samplesErrorThreshold)
    {
        if (Limits is null) return _engine;
        long maxSamples = MaxSamplesFor(workspace, samplesErrorThreshold);
        var timeout = TimeoutFor(workspace);
        return maxSamples == _options.MaxSamples && timeout == _options.Timeout
            ? _engine
            : new PromQLEngine(_engine.Options with { MaxSamples = maxSamples, Timeout = timeout });
    }

    /// <summary>Parses (errors are bad_data on the query parameter), waits for a concurrency slot, evaluates, maps engine errors.</summary>
    private async Task<QueryResult> RunAsync(string workspace, Func<Amphora.Storage.IQueryable, PromQLQuery> prepare, TimeSpan? timeout,
        CancellationToken ct, bool holdsWorkspaceSlot)
    {
        // The deadline runs from the request's start, so the regular expressions the parse compiles count against it too.
        var limit = TimeoutFor(workspace);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var effective = timeout is { } t && t < limit ? t : limit;
        deadline.CancelAfter(effective);
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        PromQLQuery query;
        try
        {
            using var compiling = Re2.CancelCompilationsWith(deadline.Token, effective);
            query = prepare(_storage.ForWorkspace(workspace));
        }
        catch (ParseException e)
        {
            throw ApiException.InvalidParam("query", e.Message);
        }
        catch (PromQLException e)
        {
            throw new ApiException(Map(e.ErrorType), e.Message);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested &&
                                                 (deadline.IsCancellationRequested || System.Diagnostics.Stopwatch.GetElapsedTime(started) >= effective))
        {
            throw new ApiException(ApiErrorType.Timeout,
                $"query timed out while compiling its regular expressions (the limit is --query.timeout, per workspace query_timeout, or the request's timeout)");
        }
        using var _ = holdsWorkspaceSlot ? null : EnterWorkspace(workspace);
        try
        {
            await _concurrency.WaitAsync(deadline.Token);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ApiException(ApiErrorType.Timeout,
                $"query timed out waiting for one of the {_options.MaxConcurrent} query slots (--query.max-concurrent)");
        }
        try
        {
            var result = await query.ExecAsync(deadline.Token);
            SamplesProcessed.Add(result.SamplesProcessed, new KeyValuePair<string, object?>(Amphora.Metrics.MetricsExporter.WorkspaceLabel, workspace));
            return result;
        }
        catch (PromQLException e) when (e.ErrorType == PromQLErrorType.Canceled && deadline.IsCancellationRequested && !ct.IsCancellationRequested)
        {
            throw new ApiException(ApiErrorType.Timeout, "query timed out in expression evaluation");
        }
        catch (PromQLException e)
        {
            throw new ApiException(Map(e.ErrorType), e.Message);
        }
        finally
        {
            _concurrency.Release();
        }
    }

    private static ApiErrorType Map(PromQLErrorType type) => type switch
    {
        PromQLErrorType.BadData => ApiErrorType.BadData,
        PromQLErrorType.Execution => ApiErrorType.Execution,
        PromQLErrorType.Timeout => ApiErrorType.Timeout,
        PromQLErrorType.Canceled => ApiErrorType.Canceled,
        _ => ApiErrorType.Internal,
    };

    private static PromQLEngine CreateEngine(QuerierOptions options) => new(new EngineOptions
    {
        LookbackDelta = options.LookbackDelta,
        MaxSamples = options.MaxSamples,
        Timeout = options.Timeout,
        EnableExperimentalFunctions = options.EnableExperimentalFunctions,
        EnableStartTimestamps = options.EnableStartTimestamps,
        MaxNestingDepth = options.MaxNestingDepth,
    });

    public ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct) =>
        _metadata.MetadataAsync(workspace, metric, limit, limitPerMetric, ct);
}

/// <summary>Per-workspace query limits: a range check (a refusal message, or null), max samples and timeout.</summary>
/// <param name="Enter">Takes a per-workspace concurrency slot; null with a refusal message when the workspace runs its maximum.</param>
/// <param name="MaxSamples">The workspace's sample limit, lowered by the request's <c>max_samples_processed_error_threshold</c>.</param>
public sealed record QueryLimitHooks(Func<string, long, long, string?> CheckRange, Func<string, string?, long> MaxSamples,
    Func<string, TimeSpan> Timeout, Func<string, (IDisposable? Slot, string? Refusal)> Enter);

/// <summary>The querier's options, mapped from flags by the executable.</summary>
public sealed record QuerierOptions
{
    public TimeSpan LookbackDelta { get; init; } = TimeSpan.FromMinutes(5);
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
    public long MaxSamples { get; init; } = 50_000_000;
    public int MaxConcurrent { get; init; } = 20;
    public bool EnableExperimentalFunctions { get; init; }
    /// <summary>Whether the counter functions use samples' start timestamps (see <c>EngineOptions.EnableStartTimestamps</c>).</summary>
    public bool EnableStartTimestamps { get; init; }
    /// <summary>How deeply a query (or a <c>match[]</c> selector) may nest parentheses, calls, aggregations, unary operators and ^.</summary>
    public int MaxNestingDepth { get; init; } = PromQLParser.DefaultMaxNestingDepth;
}
