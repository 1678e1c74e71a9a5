using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;
using Amphora.Querier.Api;

namespace Amphora.Querier.Frontend;

/// <summary>The query frontend's settings, mapped from the <c>--query-frontend.*</c> flags.</summary>
public sealed record QueryFrontendOptions
{
    /// <summary>Range queries are split at multiples of this interval (UTC days by default) and the pieces run in parallel.</summary>
    public TimeSpan SplitInterval { get; init; } = TimeSpan.FromDays(1);
    /// <summary>Memory for cached range-query results, over all workspaces; 0 turns the cache off.</summary>
    public long CacheMaxBytes { get; init; } = 256L << 20;
    /// <summary>Steps newer than this are never cached: samples may still arrive for them.</summary>
    public TimeSpan MaxCacheFreshness { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>How long a cached result is used.</summary>
    public TimeSpan CacheTtl { get; init; } = TimeSpan.FromHours(1);
    /// <summary>Queries one workspace may have waiting for a slot (a split query counts once); more are answered 429.</summary>
    public int MaxQueuedPerWorkspace { get; init; } = 100;
    /// <summary>Most pieces of one split query evaluated or queued at once, as Mimir's max_query_parallelism.</summary>
    public int MaxParallelismPerQuery { get; init; } = 14;
}

/// <summary>
/// A query frontend in front of the querier, as Mimir's and Thanos's: range queries are split at
/// <see cref="QueryFrontendOptions.SplitInterval"/> boundaries on the query's own step grid (so every piece evaluates
/// exactly the steps the whole query would), the pieces run in parallel and their results are cached per workspace; all
/// queries wait for the querier's slots in per-workspace turns (<see cref="FairScheduler"/>). Its answers equal the
/// querier's: a step's value depends only on that step's time, so the pieces concatenate to the whole. Queries whose steps
/// do not evaluate independently of the range (<c>@ start()</c>, <c>@ end()</c>) run whole; results with warnings or
/// infos, or that read data after their steps (<c>@</c> timestamps, negative offsets), are not cached.
/// </summary>
public sealed class QueryFrontend
{
    private readonly IQueryBackend _querier;
    private readonly QueryFrontendOptions _options;
    private readonly TimeProvider _time;
    private readonly FairScheduler _scheduler;
    private readonly ResultsCache? _cache;

    private readonly System.Diagnostics.Metrics.Meter _meter = new("Amphora.QueryFrontend");
    private readonly System.Diagnostics.Metrics.Counter<long> _splitQueries;
    private readonly System.Diagnostics.Metrics.Counter<long> _cacheLookups;

    public QueryFrontend(IQueryBackend querier, QueryFrontendOptions options, TimeProvider? time = null)
    {
        _querier = querier;
        _options = options;
        _time = time ?? TimeProvider.System;
        _scheduler = new FairScheduler(querier.Options.MaxConcurrent, options.MaxQueuedPerWorkspace);
        _cache = options.CacheMaxBytes > 0 ? new ResultsCache(options.CacheMaxBytes, options.CacheTtl, _time) : null;
        _splitQueries = _meter.CreateCounter<long>("amphora_query_frontend_split_queries",
            description: "Pieces range queries were split into, run or answered from the cache.");
        _cacheLookups = _meter.CreateCounter<long>("amphora_query_frontend_results_cache_lookups",
            description: "Results cache lookups by outcome: hit (every step cached), partial (some), miss.");
        _meter.CreateObservableGauge("amphora_query_frontend_queued", () => _scheduler.Queued,
            description: "Queries waiting for a querier slot in the frontend's per-workspace queues.");
        if (_cache is { } cache)
            _meter.CreateObservableGauge("amphora_query_frontend_results_cache_bytes", () => cache.Bytes,
                description: "Memory held by cached range-query results (bounded by --query-frontend.results-cache-max-bytes).");
    }

    public FairScheduler Scheduler => _scheduler;
    public ResultsCache? Cache => _cache;

    public Task<QueryResult> InstantQueryAsync(string workspace, string query, long time, TimeSpan? timeout, CancellationToken ct,
        string? samplesErrorThreshold = null) =>
        WithDeadlineAsync(workspace, timeout, ct, deadline =>
            Scheduled(workspace, deadline, () => _querier.InstantQueryAsync(workspace, query, time, Remaining(deadline), deadline.Token,
                samplesErrorThreshold, holdsWorkspaceSlot: true)));

    public Task<QueryResult> RangeQueryAsync(string workspace, string query, long start, long end, long step, TimeSpan? timeout,
        CancellationToken ct, string? samplesErrorThreshold = null)
    {
        _querier.CheckRange(workspace, start, end);
        return WithDeadlineAsync(workspace, timeout, ct, async deadline =>
        {
            var plan = Plan(query, deadline);
            if (!plan.Split)
                return await Scheduled(workspace, deadline, () => RunRange(workspace, query, start, end, step, deadline, samplesErrorThreshold));
            long maxSamples = _querier.MaxSamplesFor(workspace, samplesErrorThreshold);
            var pieces = Pieces(start, end, step);
            _splitQueries.Add(pieces.Count);
            using var run = new SplitRun(deadline.Token, _options.MaxParallelismPerQuery);
            var tasks = pieces.Select(p => RunPieceAsync(workspace, query, step, p, plan.Cacheable, deadline, run, samplesErrorThreshold)).ToList();
            QueryResult[] results = [];
            try
            {
                results = await Task.WhenAll(tasks);
            }
            catch when (run.FirstFailure is { } first)
            {
                // The first real failure is the answer; the pieces cancelled because of it are not.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }
            var merged = Merge(results.ToList());
            // One budget for the request, as the unsplit query has: its result alone must fit (cached steps included).
            long points = merged.Value is MatrixValue m ? m.Series.Sum(x => (long)x.Points.Count) : 0;
            if (points > maxSamples)
                throw new ApiException(ApiErrorType.Execution, "query processing would load too many samples into memory in query execution");
            return merged;
        });
    }

    /// <summary>The pieces of one split query: their shared cancellation, the first real failure, and the parallelism cap.</summary>
    private sealed class SplitRun(CancellationToken deadline, int parallelism) : IDisposable
    {
        private readonly CancellationTokenSource _cancel = CancellationTokenSource.CreateLinkedTokenSource(deadline);
        private Exception? _first;

        public SemaphoreSlim Parallelism { get; } = new(parallelism, parallelism);
        public CancellationToken Token => _cancel.Token;
        public Exception? FirstFailure => Volatile.Read(ref _first);

        /// <summary>Records a piece's failure (unless it only followed another's, or the deadline) and cancels the other pieces.</summary>
        public void Fail(Exception e)
        {
            if (!_cancel.IsCancellationRequested) Interlocked.CompareExchange(ref _first, e, null);
            _cancel.Cancel();
        }

        public void Dispose()
        {
            _cancel.Dispose();
            Parallelism.Dispose();
        }
    }

    private async Task<QueryResult> WithDeadlineAsync(string workspace, TimeSpan? timeout, CancellationToken ct,
        Func<Deadline, Task<QueryResult>> run)
    {
        var limit = _querier.TimeoutFor(workspace);
        var effective = timeout is { } t && t < limit ? t : limit;
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(ct);
        cts.CancelAfter(effective);
        var deadline = new Deadline(cts.Token, System.Diagnostics.Stopwatch.GetTimestamp(), effective);
        using var slot = _querier.EnterWorkspace(workspace);
        try
        {
            return await run(deadline);
        }
        catch (Exception e) when (e is OperationCanceledException or ApiException { Type: ApiErrorType.Canceled } &&
                                  !ct.IsCancellationRequested && cts.IsCancellationRequested)
        {
            throw new ApiException(ApiErrorType.Timeout, "query timed out in expression evaluation");
        }
        catch (QueueFullException e)
        {
            throw new ApiException(ApiErrorType.TooManyRequests, e.Message);
        }
    }

    private Task<QueryResult> Scheduled(string workspace, Deadline deadline, Func<Task<QueryResult>> work) =>
        _scheduler.RunAsync(workspace, work, deadline.Token);

    private Task<QueryResult> Scheduled(string workspace, SplitRun run, Func<Task<QueryResult>> work) =>
        _scheduler.RunAsync(workspace, work, run.Token, request: run);

    private Task<QueryResult> RunRange(string workspace, string query, long start, long end, long step, Deadline deadline,
        string? samplesErrorThreshold, CancellationToken? ct = null) =>
        _querier.RangeQueryAsync(workspace, query, start, end, step, Remaining(deadline), ct ?? deadline.Token, samplesErrorThreshold,
            holdsWorkspaceSlot: true);

    private static TimeSpan Remaining(Deadline deadline)
    {
        var left = deadline.Limit - System.Diagnostics.Stopwatch.GetElapsedTime(deadline.Started);
        return left > TimeSpan.Zero ? left : TimeSpan.FromMilliseconds(1);
    }

    /// <summary>
    /// Whether the query may be split and cached. A query that does not parse runs whole, so the querier gives its usual
    /// error. The parse compiles regular expressions, so it runs under the request's deadline, as the querier's does.
    /// </summary>
    private (bool Split, bool Cacheable) Plan(string query, Deadline deadline)
    {
        Expr expr;
        try
        {
            using var compiling = Re2.CancelCompilationsWith(deadline.Token, deadline.Limit);
            expr = PromQLParser.ParseExpr(query, _querier.Options.MaxNestingDepth);
        }
        catch (Exception e) when (e is ParseException or PromQLException or OperationCanceledException)
        {
            return (false, false);
        }
        if (expr.Type is not (PromValueType.Scalar or PromValueType.Vector)) return (false, false);
        bool cacheable = _cache is not null;
        foreach (var node in PromQLEngine.Walk(expr))
        {
            var modifiers = node switch
            {
                VectorSelector v => v.Modifiers,
                SubqueryExpr s => s.Modifiers,
                _ => null,
            };
            // step() and range() take each piece's values, not the query's: such queries run whole.
            if (node is MatrixSelector { RangeExpr.DependsOnQuery: true } or SubqueryExpr { RangeExpr.DependsOnQuery: true }
                or SubqueryExpr { StepExpr.DependsOnQuery: true }) return (false, false);
            if (modifiers is null) continue;
            if (modifiers.At is AtModifier.Start or AtModifier.End || modifiers.OffsetExpr is { DependsOnQuery: true }) return (false, false);
            // An offset written as an expression is resolved only when the query runs: it may look ahead, so it is not cached.
            if (modifiers.At == AtModifier.Timestamp || modifiers.OffsetMs < 0 || modifiers.OffsetExpr is not null) cacheable = false;
        }
        return (true, cacheable);
    }

    /// <summary>The query's steps grouped by split interval: each piece's first and last step, both on the query's grid.</summary>
    private List<Piece> Pieces(long start, long end, long step)
    {
        long interval = (long)_options.SplitInterval.TotalMilliseconds;
        var pieces = new List<Piece>();
        long a = start;
        while (a <= end)
        {
            long split = FloorDiv(a, interval);
            long splitEnd = (split + 1) * interval - 1;
            long lastStep = a + (Math.Min(end, splitEnd) - a) / step * step;
            pieces.Add(new Piece(split, a, lastStep));
            if (lastStep > end - step) break;
            a = lastStep + step;
        }
        return pieces;
    }

    private static long FloorDiv(long a, long b) => a >= 0 ? a / b : -((-a + b - 1) / b);

    private async Task<QueryResult> RunPieceAsync(string workspace, string query, long step, Piece piece, bool cacheable, Deadline deadline,
        SplitRun run, string? samplesErrorThreshold)
    {
        try
        {
            await run.Parallelism.WaitAsync(run.Token);
            try
            {
                if (!cacheable || _cache is null)
                    return await Scheduled(workspace, run, () => RunRange(workspace, query, piece.Start, piece.End, step, deadline,
                        samplesErrorThreshold, run.Token));
                return await RunCachedPieceAsync(_cache, workspace, query, step, piece, deadline, run, samplesErrorThreshold);
            }
            finally
            {
                run.Parallelism.Release();
            }
        }
        catch (Exception e)
        {
            run.Fail(e);
            throw;
        }
    }

    private async Task<QueryResult> RunCachedPieceAsync(ResultsCache cache, string workspace, string query, long step, Piece piece,
        Deadline deadline, SplitRun run, string? samplesErrorThreshold)
    {
        long phase = ((piece.Start % step) + step) % step;
        var key = new CacheKey(workspace, query, step, phase, piece.Split);
        var cached = cache.Get(key);
        if (cached is not null && (cached.End < piece.Start || cached.Start > piece.End)) cached = null;

        // What the cache lacks: the steps before and after the cached extent (or the whole piece).
        var missing = new List<(long Start, long End)>(2);
        if (cached is null) missing.Add((piece.Start, piece.End));
        else
        {
            if (piece.Start < cached.Start) missing.Add((piece.Start, cached.Start - step));
            if (piece.End > cached.End) missing.Add((cached.End + step, piece.End));
        }
        _cacheLookups.Add(1, new KeyValuePair<string, object?>("result", cached is null ? "miss" : missing.Count == 0 ? "hit" : "partial"));

        var fresh = new QueryResult[missing.Count];
        for (int i = 0; i < missing.Count; i++)
        {
            var (s, e) = missing[i];
            fresh[i] = await Scheduled(workspace, run, () => RunRange(workspace, query, s, e, step, deadline, samplesErrorThreshold, run.Token));
        }

        // Stitch in time order: before the extent, the extent's steps inside the piece, after the extent.
        var parts = new List<(List<Series> Series, long From, long To)>(3);
        int next = 0;
        if (cached is not null && piece.Start < cached.Start) parts.Add((Matrix(fresh[next++]), long.MinValue, long.MaxValue));
        if (cached is not null) parts.Add((cached.Series, piece.Start, piece.End));
        if (next < fresh.Length) parts.Add((Matrix(fresh[next]), long.MinValue, long.MaxValue));
        var series = Concatenate(parts);

        var warnings = fresh.SelectMany(r => r.Warnings).Distinct().ToList();
        var infos = fresh.SelectMany(r => r.Infos).Distinct().ToList();
        if (warnings.Count == 0 && infos.Count == 0)
            Store(cache, key, cached, piece, step, fresh, missing);
        return new QueryResult(new MatrixValue(series), warnings, infos, fresh.Sum(r => r.SamplesProcessed));
    }

    /// <summary>
    /// Stores the union of the cached extent and the freshly evaluated steps, up to the freshness cutoff: steps newer than
    /// <see cref="QueryFrontendOptions.MaxCacheFreshness"/> are never stored.
    /// </summary>
    private void Store(ResultsCache cache, CacheKey key, Extent? cached, Piece piece, long step, QueryResult[] fresh,
        List<(long Start, long End)> missing)
    {
        long cutoff = _time.GetUtcNow().ToUnixTimeMilliseconds() - (long)_options.MaxCacheFreshness.TotalMilliseconds;
        long start = cached is null ? piece.Start : Math.Min(piece.Start, cached.Start);
        long end = cached is null ? piece.End : Math.Max(piece.End, cached.End);
        if (cutoff < end) end = start + FloorDiv(cutoff - start, step) * step;
        if (end < start) return;
        if (cached is not null && end <= cached.End && start >= cached.Start) return; // nothing new to keep
        var parts = new List<(List<Series> Series, long From, long To)>(3);
        int next = 0;
        if (cached is not null && missing.Count > 0 && missing[0].End < cached.Start) parts.Add((Matrix(fresh[next++]), start, end));
        if (cached is not null) parts.Add((cached.Series, start, end));
        if (next < fresh.Length) parts.Add((Matrix(fresh[next]), start, end));
        // A stretch extended by a refresh keeps the age of its oldest steps, so the TTL still bounds how long they are used.
        cache.Put(key, new Extent(start, end, Concatenate(parts), cached?.StoredAt ?? _time.GetUtcNow()));
    }

    private static List<Series> Matrix(QueryResult result) => result.Value is MatrixValue m ? m.Series
        : throw new PromQLException(PromQLErrorType.Internal, "a range query piece did not return a matrix");

    /// <summary>Joins time-ordered parts series by series, keeping each part's points in [From, To]; the result is in label order.</summary>
    private static List<Series> Concatenate(List<(List<Series> Series, long From, long To)> parts)
    {
        if (parts.Count == 1 && parts[0].From == long.MinValue) return parts[0].Series;
        var bySeries = new Dictionary<Labels, List<FPoint>>();
        foreach (var (list, from, to) in parts)
            foreach (var s in list)
            {
                List<FPoint>? points = null;
                foreach (var p in s.Points)
                {
                    if (p.T < from || p.T > to) continue;
                    if (points is null && !bySeries.TryGetValue(s.Metric, out points)) bySeries[s.Metric] = points = new List<FPoint>();
                    points.Add(p);
                }
            }
        var series = bySeries.Select(kv => new Series(kv.Key, kv.Value)).ToList();
        series.Sort(static (a, b) => a.Metric.CompareTo(b.Metric));
        return series;
    }

    private static QueryResult Merge(List<QueryResult> pieces)
    {
        if (pieces.Count == 1) return pieces[0];
        var series = Concatenate(pieces.Select(p => (Matrix(p), long.MinValue, long.MaxValue)).ToList());
        return new QueryResult(new MatrixValue(series),
            pieces.SelectMany(p => p.Warnings).Distinct().ToList(),
            pieces.SelectMany(p => p.Infos).Distinct().ToList(),
            pieces.Sum(p => p.SamplesProcessed));
    }

    private readonly record struct Piece(long Split, long Start, long End);

    private sealed record Deadline(CancellationToken Token, long Started, TimeSpan Limit);
}
