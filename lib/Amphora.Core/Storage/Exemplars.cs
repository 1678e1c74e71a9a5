using Amphora.Model;

namespace Amphora.Storage;

/// <summary>Reads the exemplars a workspace has stored (Prometheus's exemplar querier).</summary>
public interface IWorkspaceExemplars
{
    /// <summary>
    /// Every series matching at least one of <paramref name="matcherSets"/> that has exemplars with timestamps in
    /// [<paramref name="start"/>, <paramref name="end"/>], with those exemplars oldest first; series in label order.
    /// </summary>
    ValueTask<IReadOnlyList<ExemplarSeries>> SelectExemplarsAsync(string workspace, long start, long end,
        IReadOnlyList<IReadOnlyList<LabelMatcher>> matcherSets, CancellationToken ct = default);
}
