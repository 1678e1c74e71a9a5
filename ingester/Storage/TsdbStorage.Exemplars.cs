using System.Collections.Concurrent;
using Amphora.Model;
using Amphora.Storage;

namespace Amphora.Ingester.Storage;

/// <summary>Each workspace's exemplars, in memory (<see cref="ExemplarStore"/>, at most <see cref="TsdbOptions.MaxExemplarsPerWorkspace"/>),
/// logged in the WAL with their samples (record type 8) so a restart restores them.</summary>
public sealed partial class TsdbStorage : IWorkspaceExemplars
{
    private readonly ConcurrentDictionary<string, ExemplarStore> _exemplars = new(StringComparer.Ordinal);

    private static readonly System.Diagnostics.Metrics.Counter<long> ExemplarsAppended = Meter.CreateCounter<long>(
        "amphora_ingester_exemplars_appended", description: "Exemplars offered to the exemplar storage, by outcome (added, duplicate, out_of_order, labels_too_long, disabled).");

    private ExemplarStore ExemplarsOf(string workspace) =>
        _exemplars.GetOrAdd(workspace, _ => new ExemplarStore(Options.MaxExemplarsPerWorkspace));

    /// <summary>Whether a commit should log the exemplar: the store would keep it as things stand (a resend, an older one, one
    /// with labels too long, or any while exemplars are off, would not). Replay offers logged exemplars to the store again, so
    /// one that another request overtakes before this commit applies is refused then as it is now.</summary>
    internal bool WouldKeepExemplar(string workspace, Labels series, Exemplar exemplar) =>
        Options.MaxExemplarsPerWorkspace > 0 &&
        (_exemplars.TryGetValue(workspace, out var store)
            ? store.Check(series, exemplar)
            : ExemplarLimits.Check(exemplar.Labels) is null ? ExemplarAddResult.Added : ExemplarAddResult.LabelsTooLong) == ExemplarAddResult.Added;

    /// <summary>An exemplar read back from the WAL at replay (not counted as offered: it was counted when it arrived).</summary>
    private void RestoreExemplar(string workspace, Labels series, Exemplar exemplar)
    {
        if (Options.MaxExemplarsPerWorkspace > 0) ExemplarsOf(workspace).Add(series, exemplar);
    }

    /// <summary>Keeps an exemplar of a series whose samples were just committed; exemplars never fail a write, as in Prometheus.</summary>
    internal ExemplarAddResult? AddExemplar(string workspace, Labels series, Exemplar exemplar)
    {
        if (Options.MaxExemplarsPerWorkspace <= 0)
        {
            ExemplarsAppended.Add(1, new KeyValuePair<string, object?>("result", "disabled"));
            return null;
        }
        var result = ExemplarsOf(workspace).Add(series, exemplar);
        ExemplarsAppended.Add(1, new KeyValuePair<string, object?>("result", result switch
        {
            ExemplarAddResult.Added => "added",
            ExemplarAddResult.Duplicate => "duplicate",
            ExemplarAddResult.OutOfOrder => "out_of_order",
            _ => "labels_too_long",
        }));
        return result;
    }

    public ValueTask<IReadOnlyList<ExemplarSeries>> SelectExemplarsAsync(string workspace, long start, long end,
        IReadOnlyList<IReadOnlyList<LabelMatcher>> matcherSets, CancellationToken ct = default) =>
        ValueTask.FromResult<IReadOnlyList<ExemplarSeries>>(_exemplars.TryGetValue(workspace, out var store)
            ? store.Select(start, end, matcherSets)
            : []);

    private void DropExemplars(string workspace) => _exemplars.TryRemove(workspace, out _);
}
