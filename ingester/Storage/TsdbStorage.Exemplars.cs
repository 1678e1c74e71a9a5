using System.Collections.Concurrent;
using Amphora.Model;
using Amphora.Storage;

namespace Amphora.Ingester.Storage;

/// <summary>Each workspace's exemplars, in memory (<see cref="ExemplarStore"/>, at most <see cref="TsdbOptions.MaxExemplarsPerWorkspace"/>).</summary>
public sealed partial class TsdbStorage : IWorkspaceExemplars
{
    private readonly ConcurrentDictionary<string, ExemplarStore> _exemplars = new(StringComparer.Ordinal);

    private static readonly System.Diagnostics.Metrics.Counter<long> ExemplarsAppended = Meter.CreateCounter<long>(
        "amphora_ingester_exemplars_appended", description: "Exemplars offered to the exemplar storage, by outcome (added, duplicate, out_of_order, labels_too_long, disabled).");

    /// <summary>Keeps an exemplar of a series whose samples were just committed; exemplars never fail a write, as in Prometheus.</summary>
    internal ExemplarAddResult? AddExemplar(string workspace, Labels series, Exemplar exemplar)
    {
        if (Options.MaxExemplarsPerWorkspace <= 0)
        {
            ExemplarsAppended.Add(1, new KeyValuePair<string, object?>("result", "disabled"));
            return null;
        }
        var result = _exemplars.GetOrAdd(workspace, _ => new ExemplarStore(Options.MaxExemplarsPerWorkspace)).Add(series, exemplar);
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
