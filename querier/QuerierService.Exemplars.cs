using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;
using Amphora.Querier.Api;
using Amphora.Storage;

namespace Amphora.Querier;

/// <summary>The exemplars API (<c>/api/v1/query_exemplars</c>).</summary>
public sealed partial class QuerierService
{
    /// <summary>Where exemplars are read; without it the API answers an empty list (nothing stores them).</summary>
    public IWorkspaceExemplars? Exemplars { get; init; }

    /// <summary>
    /// The exemplars of every series a selector of <paramref name="query"/> selects, in [start, end], as Prometheus answers
    /// them: the query is only parsed (a parse error is bad_data on <c>query</c>), each vector selector's matchers select
    /// series, and a query without selectors answers an empty list. Bounded and stopped as <see cref="SeriesAsync"/>.
    /// </summary>
    public Task<IReadOnlyList<ExemplarSeries>> QueryExemplarsAsync(string workspace, string query, long start, long end, CancellationToken ct) =>
        WithTimeoutAsync(workspace, "the exemplars request", () => Selectors(query), async (sets, token) =>
            sets.Count == 0 || Exemplars is null
                ? (IReadOnlyList<ExemplarSeries>)[]
                : await Exemplars.SelectExemplarsAsync(workspace, start, end, sets, token), ct);

    private List<IReadOnlyList<LabelMatcher>> Selectors(string query)
    {
        Expr expr;
        try
        {
            expr = PromQLParser.ParseExpr(query, _options.MaxNestingDepth);
        }
        catch (ParseException e)
        {
            throw ApiException.InvalidParam("query", e.Message);
        }
        return PromQLEngine.Walk(expr).OfType<VectorSelector>().Select(v => v.Matchers).ToList();
    }
}
