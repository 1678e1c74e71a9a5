using Amphora.Model;

namespace Amphora.Storage;

/// <summary>
/// Several sources of one workspace's data queried as one (an ingester's head and its blocks, or the ingesters and the blocks
/// in the bucket): series with the same labels are merged, samples at the same timestamp returned once.
/// </summary>
public sealed class MergeWorkspaceQueryable(params IWorkspaceQueryable[] sources) : IWorkspaceQueryable
{
    public IQueryable ForWorkspace(string workspace) => new MergeQueryable(sources.Select(s => s.ForWorkspace(workspace)).ToArray());
}

public sealed class MergeQueryable(params IQueryable[] sources) : IQueryable
{
    public IQuerier Querier(long minT, long maxT) =>
        sources.Length == 1 ? sources[0].Querier(minT, maxT) : new MergeQuerier(sources.Select(s => s.Querier(minT, maxT)).ToArray());
}

public sealed class MergeQuerier(IQuerier[] queriers) : IQuerier
{
    public async ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        var tasks = queriers.Select(q => q.SelectAsync(true, hints, matchers, ct).AsTask()).ToArray();
        return MergeSeriesSet.Of(await Task.WhenAll(tasks));
    }

    public async ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        var all = await Task.WhenAll(queriers.Select(q => q.LabelValuesAsync(name, matchers, ct).AsTask()));
        return all.SelectMany(v => v).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    public async ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
    {
        var all = await Task.WhenAll(queriers.Select(q => q.LabelNamesAsync(matchers, ct).AsTask()));
        return all.SelectMany(v => v).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
    }

    public void Dispose()
    {
        foreach (var q in queriers) q.Dispose();
    }
}
