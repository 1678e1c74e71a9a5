using System.Text;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;
using Amphora.PromQL.Tests.Scripts;
using Xunit;

namespace Amphora.PromQL.Tests.Hardening;

/// <summary>
/// Issue 13, finding 2: no query shape may overflow the stack. Nesting beyond the limit is a parse error naming the limit;
/// long chains of left-associative operators and runs of unary signs are not nesting and work at any length, through the
/// parser, the printer, the time planner and the evaluator.
/// </summary>
public sealed class NestingTests
{
    private static readonly PromQLEngine Engine = new(new EngineOptions());

    internal static ScriptStorage Storage()
    {
        var storage = new ScriptStorage();
        for (int i = 0; i < 3; i++)
            for (long t = 0; t <= 600_000; t += 15_000)
                storage.Add(Labels.FromStrings("__name__", "up", "job", "j" + i), t, i + 1);
        return storage;
    }

    private static string Repeat(string s, int n) => new StringBuilder(s.Length * n).Insert(0, s, n).ToString();

    public static TheoryData<string, string> TooDeep => new()
    {
        { "30,000 nested parentheses", Repeat("(", 30_000) + "1" + Repeat(")", 30_000) },
        { "30,000 nested calls", Repeat("abs(", 30_000) + "up" + Repeat(")", 30_000) },
        { "30,000 nested aggregations", Repeat("sum(", 30_000) + "up" + Repeat(")", 30_000) },
        { "a 30,000-term chain of ^", string.Join(" ^ ", Enumerable.Repeat("1", 30_000)) },
        { "30,000 alternations of unary minus and ^", Repeat("-1 ^ ", 30_000) + "1" },
        { "30,000 nested subqueries", Repeat("rate(", 30_000) + "up" + Repeat("[5m:])", 30_000) },
        { "an unclosed run of 100,000 parentheses", Repeat("(", 100_000) },
    };

    [Theory]
    [MemberData(nameof(TooDeep))]
    public void Nesting_beyond_the_limit_is_a_parse_error_naming_the_limit(string shape, string query)
    {
        var e = Assert.Throws<ParseException>(() => PromQLParser.ParseExpr(query));
        Assert.Contains("nested too deeply", e.Message);
        Assert.Contains("--query.max-nesting-depth", e.Message);
        Assert.Contains($"more than {PromQLParser.DefaultMaxNestingDepth} levels", e.Message);
        Assert.False(string.IsNullOrEmpty(shape));
    }

    [Fact]
    public async Task Nesting_at_the_limit_parses_and_evaluates_on_a_small_stack()
    {
        int depth = PromQLParser.DefaultMaxNestingDepth;
        // Each of these reaches the limit exactly; all of them run on a thread with a 1 MiB stack (thread-pool threads have more).
        string[] queries =
        [
            Repeat("(", depth) + "1" + Repeat(")", depth),
            Repeat("abs(", depth - 1) + "sum(up)" + Repeat(")", depth - 1),
            Repeat("-(", depth / 2) + "up" + Repeat(")", depth / 2),
            Repeat("max_over_time(", depth / 2) + "up" + Repeat("[1m:15s])", depth / 2),
        ];
        foreach (var q in queries)
        {
            Exception? failure = null;
            QueryResult? result = null;
            var thread = new Thread(() =>
            {
                try
                {
                    result = Engine.InstantQuery(Storage(), q, 600_000).ExecAsync(CancellationToken.None).GetAwaiter().GetResult();
                }
                catch (Exception e)
                {
                    failure = e;
                }
            }, maxStackSize: 1 << 20);
            thread.Start();
            thread.Join();
            Assert.Null(failure);
            Assert.NotNull(result);
        }
        Assert.Throws<ParseException>(() => PromQLParser.ParseExpr(Repeat("(", depth + 1) + "1" + Repeat(")", depth + 1)));
    }

    [Fact]
    public async Task A_run_of_100000_unary_minuses_folds_and_evaluates()
    {
        string even = Repeat("- ", 100_000);
        var scalar = Assert.IsType<ScalarValue>((await Engine.InstantQuery(Storage(), even + "7", 0).ExecAsync(default)).Value);
        Assert.Equal(7, scalar.V);
        scalar = Assert.IsType<ScalarValue>((await Engine.InstantQuery(Storage(), "-" + even + "7", 0).ExecAsync(default)).Value);
        Assert.Equal(-7, scalar.V);
        var vector = Assert.IsType<VectorValue>((await Engine.InstantQuery(Storage(), even + "up", 600_000).ExecAsync(default)).Value);
        Assert.Equal([1.0, 2, 3], vector.Samples.Select(s => s.F).Order());
        // Two minuses still drop the metric name, as -(-up) does.
        Assert.All(vector.Samples, s => Assert.False(s.Metric.Has("__name__")));
        vector = Assert.IsType<VectorValue>((await Engine.InstantQuery(Storage(), "-" + even + "up", 600_000).ExecAsync(default)).Value);
        Assert.Equal([-3.0, -2, -1], vector.Samples.Select(s => s.F).Order());
        Assert.Equal("--up", PromQLParser.ParseExpr(even + "up").ToString());
    }

    [Fact]
    public async Task A_50000_term_chain_parses_prints_and_evaluates_without_recursion()
    {
        string scalars = string.Join("+", Enumerable.Repeat("1", 50_000));
        var expr = PromQLParser.ParseExpr(scalars);
        Assert.Equal(PromValueType.Scalar, expr.Type);
        Assert.Equal(string.Join(" + ", Enumerable.Repeat("1", 50_000)), expr.ToString());
        var scalar = Assert.IsType<ScalarValue>((await Engine.InstantQuery(Storage(), scalars, 0).ExecAsync(default)).Value);
        Assert.Equal(50_000, scalar.V);

        string vectors = string.Join(" + ", Enumerable.Repeat("up", 50_000));
        var range = Assert.IsType<MatrixValue>((await Engine.RangeQuery(Storage(), vectors, 0, 600_000, 60_000).ExecAsync(default)).Value);
        Assert.Equal(3, range.Series.Count);
        Assert.Equal(150_000, range.Series.Single(s => s.Metric.Get("job") == "j2").Points[^1].F);

        string mixed = string.Join(" or ", Enumerable.Range(0, 20_000).Select(i => $"up{{job=\"j{i % 3}\"}} * 2"));
        var vector = Assert.IsType<VectorValue>((await Engine.InstantQuery(Storage(), mixed, 600_000).ExecAsync(default)).Value);
        Assert.Equal(3, vector.Samples.Count);
    }

    [Fact]
    public void A_deeply_nested_match_selector_is_a_parse_error()
    {
        string selector = Repeat("(", 30_000) + "up" + Repeat(")", 30_000);
        var e = Assert.Throws<ParseException>(() => PromQLParser.ParseMetricSelector(selector));
        Assert.Contains("--query.max-nesting-depth", e.Message);
    }

    [Fact]
    public void The_nesting_limit_is_a_setting()
    {
        Assert.Throws<ParseException>(() => PromQLParser.ParseExpr("abs(abs(abs(up)))", maxNestingDepth: 2));
        Assert.IsType<Call>(PromQLParser.ParseExpr("abs(abs(up))", maxNestingDepth: 2));
        var engine = new PromQLEngine(new EngineOptions { MaxNestingDepth = 2 });
        Assert.Throws<ParseException>(() => engine.InstantQuery(Storage(), "((((1))))", 0));
    }
}
