using Amphora.PromQL.Parser;
using Amphora.Storage;

namespace Amphora.PromQL.Engine;

/// <summary>Settings of the PromQL engine; defaults are Prometheus's.</summary>
public sealed record EngineOptions
{
    public TimeSpan LookbackDelta { get; init; } = TimeSpan.FromMinutes(5);
    public long MaxSamples { get; init; } = 50_000_000;
    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
    public bool EnableExperimentalFunctions { get; init; }
    /// <summary>
    /// rate, increase, irate and resets read the samples' start timestamps (Prometheus's
    /// <c>--enable-feature=use-start-timestamps</c>): counter resets they show, and counting from zero at the first sample's
    /// start inside the window. Off, only the values count, as in Prometheus without the flag.
    /// </summary>
    public bool EnableStartTimestamps { get; init; }
    /// <summary>The step of a subquery written without one (<c>x[5m:]</c>): the global evaluation interval.</summary>
    public TimeSpan DefaultEvaluationInterval { get; init; } = TimeSpan.FromMinutes(1);
    /// <summary>How deeply parentheses, calls, aggregations, unary operators and <c>^</c> may nest (see <see cref="PromQLParser.DefaultMaxNestingDepth"/>).</summary>
    public int MaxNestingDepth { get; init; } = PromQLParser.DefaultMaxNestingDepth;
}

/// <summary>Parses queries and prepares them for evaluation over a workspace's storage.</summary>
public sealed class PromQLEngine(EngineOptions options)
{
    public EngineOptions Options => options;

    /// <summary>An instant query at <paramref name="timeMs"/>. Parse errors throw <see cref="ParseException"/> here.</summary>
    public PromQLQuery InstantQuery(IQueryable storage, string query, long timeMs) =>
        new(options, storage, Parse(query), timeMs, timeMs, 0);

    /// <summary>A range query; the expression must be a scalar or an instant vector.</summary>
    public PromQLQuery RangeQuery(IQueryable storage, string query, long startMs, long endMs, long stepMs)
    {
        var expr = Parse(query);
        if (expr.Type is not (PromValueType.Scalar or PromValueType.Vector))
            throw new PromQLException(PromQLErrorType.BadData,
                $"invalid expression type \"{PromQLParser.TypeName(expr.Type)}\" for range query, must be Scalar or instant Vector");
        return new PromQLQuery(options, storage, expr, startMs, endMs, stepMs);
    }

    private Expr Parse(string query)
    {
        var expr = PromQLParser.ParseExpr(query, options.MaxNestingDepth);
        foreach (var node in Walk(expr))
        {
            // Prometheus refuses the extended range modifiers where a function cannot use samples outside the range.
            if (node is not Call call) continue;
            foreach (var arg in call.Args)
            {
                if (arg is not MatrixSelector { Selector: var sel }) continue;
                string name = call.Function.Name;
                if (sel.Smoothed && name is not ("delta" or "increase" or "rate"))
                    throw new PromQLException(PromQLErrorType.BadData, $"smoothed modifier can only be used with: delta, increase, rate - not with {name}");
                if (sel.Anchored && name is not ("changes" or "delta" or "increase" or "rate" or "resets"))
                    throw new PromQLException(PromQLErrorType.BadData, $"anchored modifier can only be used with: changes, delta, increase, rate, resets - not with {name}");
            }
        }
        if (!options.EnableExperimentalFunctions)
        {
            foreach (var node in Walk(expr))
            {
                if (node is Call { Function.Experimental: true } c)
                    throw new ParseException(c.Position.Start, c.Position.End, $"function \"{c.Function.Name}\" is not enabled").WithInputPublic(query);
                if (node is AggregateExpr { Op: TokenKind.Limitk or TokenKind.LimitRatio } a)
                    throw new ParseException(a.Position.Start, a.Position.End, $"limitk() and limit_ratio() are experimental and must be enabled with --enable-feature=promql-experimental-functions").WithInputPublic(query);
            }
        }
        return expr;
    }

    /// <summary>Every node of an expression, parents before children.</summary>
    public static IEnumerable<Expr> Walk(Expr expr)
    {
        var stack = new Stack<Expr>();
        stack.Push(expr);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            yield return e;
            switch (e)
            {
                case ParenExpr p: stack.Push(p.Expr); break;
                case UnaryExpr u: stack.Push(u.Expr); break;
                case BinaryExpr b: stack.Push(b.Rhs); stack.Push(b.Lhs); break;
                case AggregateExpr a: stack.Push(a.Expr); if (a.Param is not null) stack.Push(a.Param); break;
                case Call c: for (int i = c.Args.Count - 1; i >= 0; i--) stack.Push(c.Args[i]); break;
                case SubqueryExpr s: stack.Push(s.Expr); break;
                case MatrixSelector m: stack.Push(m.Selector); break;
            }
        }
    }
}

/// <summary>A parsed query bound to its storage and time range, ready to run once.</summary>
public sealed class PromQLQuery
{
    private readonly EngineOptions _options;
    private readonly IQueryable _storage;
    private readonly long _start, _end, _step;

    internal PromQLQuery(EngineOptions options, IQueryable storage, Expr expr, long start, long end, long step)
    {
        _options = options;
        _storage = storage;
        Expr = expr;
        _start = start;
        _end = end;
        _step = step;
    }

    public Expr Expr { get; }

    /// <summary>Sets the ranges, steps and offsets written with <c>step()</c> or <c>range()</c> for this query's step and range.</summary>
    private static void ResolveDurations(Expr expr, long stepMs, long rangeMs)
    {
        foreach (var node in PromQLEngine.Walk(expr))
        {
            switch (node)
            {
                case MatrixSelector { RangeExpr: { } r } ms:
                    ms.RangeMs = Positive(r.Milliseconds(stepMs, rangeMs));
                    break;
                case SubqueryExpr sq:
                    if (sq.RangeExpr is { } range) sq.RangeMs = Positive(range.Milliseconds(stepMs, rangeMs));
                    if (sq.StepExpr is { } step) sq.StepMs = Positive(step.Milliseconds(stepMs, rangeMs));
                    if (sq.Modifiers.OffsetExpr is { } so) sq.Modifiers.OffsetMs = so.Milliseconds(stepMs, rangeMs);
                    break;
                case VectorSelector { Modifiers.OffsetExpr: { } o } vs:
                    vs.Modifiers.OffsetMs = o.Milliseconds(stepMs, rangeMs);
                    break;
            }
        }

        static long Positive(long ms) =>
            ms > 0 ? ms : throw new PromQLException(PromQLErrorType.BadData, $"duration must be greater than 0, got {Durations.Format(ms)}");
    }

    public async Task<QueryResult> ExecAsync(CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            ResolveDurations(Expr, _step, _end - _start);
            var evaluator = new Evaluator(_options, _start, _end, _step == 0 ? 1 : _step, timeout.Token);
            var (minT, maxT) = evaluator.PrepareTimes(Expr);
            evaluator.FindStatsOnlySelectors(Expr);
            using var querier = _storage.Querier(minT, maxT);
            await evaluator.SelectAllAsync(querier, Expr);
            var value = await Task.Run(() => evaluator.Run(Expr, instant: _step == 0), timeout.Token);
            return new QueryResult(value, evaluator.Warnings, evaluator.Infos, evaluator.SamplesProcessed);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new PromQLException(PromQLErrorType.Timeout, "query timed out in expression evaluation");
        }
        catch (OperationCanceledException)
        {
            throw new PromQLException(PromQLErrorType.Canceled, "query was canceled in expression evaluation");
        }
        catch (InsufficientExecutionStackException)
        {
            throw new PromQLException(PromQLErrorType.BadData, "query is nested too deeply to evaluate on this thread's stack");
        }
        catch (System.Text.RegularExpressions.RegexMatchTimeoutException e)
        {
            throw new PromQLException(PromQLErrorType.Timeout, $"a regular expression took longer than {e.MatchTimeout.TotalSeconds:0.###}s to match one value: {e.Pattern}");
        }
    }
}
