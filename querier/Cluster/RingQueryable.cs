using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.Model;
using Amphora.Ring;
using Grpc.Core;
using Amphora.Storage;
using IQueryable = Amphora.Storage.IQueryable;
using MetricMetadata = Amphora.Storage.MetricMetadata;
using LabelMatcher = Amphora.Model.LabelMatcher;
using InstanceState = Amphora.Ring.InstanceState;
using ExemplarSeries = Amphora.Model.ExemplarSeries;
using Exemplar = Amphora.Model.Exemplar;

namespace Amphora.Querier.Cluster;

/// <summary>
/// Reads a workspace from the ingesters of the ring (selects from all but one while all are healthy, as ReplicaStreams
/// explains) and merges the replicas: a series held by two or three ingesters is
/// returned once, its chunks identical in every replica kept once and the others merged sample by sample
/// (<see cref="ReplicaStreams"/>). Up to RF − quorum unreachable ingesters are tolerated (every series still has a quorum
/// of replicas among the others); more fail the query as unavailable.
/// </summary>
public sealed class RingQueryable(RingClient ring, TimeSpan timeout) : IWorkspaceQueryable, IWorkspaceMetadata, IWorkspaceExemplars
{
    public IQueryable ForWorkspace(string workspace) => new Workspace(ring, workspace, timeout);

    public async ValueTask<IReadOnlyDictionary<string, IReadOnlyList<MetricMetadata>>> MetadataAsync(string workspace, string? metric,
        int limit, int limitPerMetric, CancellationToken ct = default)
    {
        var responses = await FanOutAsync(ring, (client, token) => client.MetadataAsync(new MetadataRequest
        {
            Workspace = workspace, Metric = metric ?? "", Limit = -1, LimitPerMetric = limitPerMetric,
        }, timeout, token), ct);
        var merged = new SortedDictionary<string, List<MetricMetadata>>(StringComparer.Ordinal);
        foreach (var r in responses)
            foreach (var m in r.Metadata)
            {
                var entry = new MetricMetadata(m.MetricFamilyName, m.Type, m.Help, m.Unit);
                if (!merged.TryGetValue(m.MetricFamilyName, out var list)) merged[m.MetricFamilyName] = list = new List<MetricMetadata>();
                if (!list.Contains(entry)) list.Add(entry);
            }
        IEnumerable<KeyValuePair<string, List<MetricMetadata>>> families = merged;
        if (limit >= 0) families = families.Take(limit);
        return families.ToDictionary(kv => kv.Key,
            kv => (IReadOnlyList<MetricMetadata>)(limitPerMetric > 0 ? kv.Value.Take(limitPerMetric).ToList() : kv.Value), StringComparer.Ordinal);
    }

    /// <summary>
    /// The exemplars every ingester holds for the matching series, merged: a series once, an exemplar its replicas share
    /// (same time, value and labels) once, oldest first.
    /// </summary>
    public async ValueTask<IReadOnlyList<ExemplarSeries>> SelectExemplarsAsync(string workspace, long start, long end,
        IReadOnlyList<IReadOnlyList<LabelMatcher>> matcherSets, CancellationToken ct = default)
    {
        var request = new ExemplarsRequest { Workspace = workspace, StartMs = start, EndMs = end };
        ProtoConvert.AddMatcherSets(request.MatcherSets, matcherSets);
        var responses = await FanOutAsync(ring, (client, token) => client.QueryExemplarsAsync(request, timeout, token), ct);
        var merged = new SortedDictionary<Labels, HashSet<Exemplar>>();
        foreach (var r in responses)
            foreach (var s in r.Series)
            {
                var labels = ProtoConvert.ToLabels(s.SeriesLabels);
                if (!merged.TryGetValue(labels, out var set)) merged[labels] = set = [];
                foreach (var e in s.Exemplars) set.Add(ProtoConvert.ToExemplar(e));
            }
        return merged.Select(kv => new ExemplarSeries(kv.Key, kv.Value.OrderBy(e => e.T).ThenBy(e => e.Value).ToList())).ToList();
    }

    /// <summary>Calls every healthy ingester; tolerates as many failures as the replication allows.</summary>
    internal static async Task<List<T>> FanOutAsync<T>(RingClient ring, Func<IngesterClient, CancellationToken, Task<T>> call, CancellationToken ct)
    {
        var (targets, unreachable, tolerated, total, rf, leftOut) = Targets(ring);
        var results = await Task.WhenAll(targets.Select(async i =>
        {
            try
            {
                return (Ok: true, Value: await call(ring.Client(i), ct), Error: "");
            }
            catch (RpcException) when (ct.IsCancellationRequested)
            {
                // The query's deadline or the client's disconnect, not the ingester's fault: the caller maps it.
                throw new OperationCanceledException(ct);
            }
            catch (RpcException e)
            {
                return (Ok: false, Value: default(T)!, Error: $"{i.Name}: {e.StatusCode}: {e.Status.Detail}");
            }
        }));
        int failed = unreachable + results.Count(r => !r.Ok);
        if (failed > tolerated) throw Unavailable(failed, total, tolerated, rf, leftOut.Concat(results.Where(r => !r.Ok).Select(r => r.Error)));
        return results.Where(r => r.Ok).Select(r => r.Value).ToList();
    }

    /// <summary>The ingesters a read calls (healthy, active or leaving), how many of the ring's it leaves out, and how many
    /// may fail with every series still covered by a quorum of replicas.</summary>
    internal static (List<RingInstance> Targets, int Unreachable, int Tolerated, int Total, int ReplicationFactor, List<string> LeftOut) Targets(RingClient ring)
    {
        var current = ring.Current;
        var targets = current.Instances.Where(i => i.Healthy && i.State is InstanceState.Active or InstanceState.Leaving).ToList();
        // Why each other member is not asked, for the error a read without enough replicas returns.
        var leftOut = current.Instances.Where(i => !targets.Contains(i))
            .Select(i => $"{i.Name}: {(i.Healthy ? $"not serving reads (state {i.State})" : "unreachable at the last ring poll")}").ToList();
        return (targets, current.Instances.Count - targets.Count, current.ReplicationFactor - current.WriteQuorum, current.Instances.Count,
            current.ReplicationFactor, leftOut);
    }

    internal static IngestersUnavailableException Unavailable(int failed, int total, int tolerated, int replicationFactor, IEnumerable<string> errors) =>
        new($"{failed} of {total} ingesters did not answer, more than the {tolerated} the replication factor {replicationFactor} tolerates: " +
            string.Join("; ", errors));

    private sealed class Workspace(RingClient ring, string workspace, TimeSpan timeout) : IQueryable
    {
        public IQuerier Querier(long minT, long maxT) => new RingQuerier(ring, workspace, minT, maxT, timeout);
    }

    private sealed class RingQuerier(RingClient ring, string workspace, long minT, long maxT, TimeSpan timeout) : IQuerier
    {
        public async ValueTask<ISeriesSet> SelectAsync(bool sorted, SelectHints? hints, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var request = new QueryRequest { Workspace = workspace, StartMs = Math.Max(minT, hints?.Start ?? minT), EndMs = Math.Min(maxT, hints?.End ?? maxT) };
            ProtoConvert.AddMatchers(request.Matchers, matchers);
            return await ReplicaStreams.SelectAsync(ring, request, timeout, ct);
        }

        public async ValueTask<IReadOnlyList<string>> LabelValuesAsync(string name, IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var request = new LabelValuesRequest { Workspace = workspace, Name = name, StartMs = minT, EndMs = maxT };
            ProtoConvert.AddMatchers(request.Matchers, matchers);
            var all = await FanOutAsync(ring, (client, token) => client.LabelValuesAsync(request, timeout, token), ct);
            return all.SelectMany(r => r.Values).Distinct().Order(StringComparer.Ordinal).ToList();
        }

        public async ValueTask<IReadOnlyList<string>> LabelNamesAsync(IReadOnlyList<LabelMatcher> matchers, CancellationToken ct = default)
        {
            var request = new LabelNamesRequest { Workspace = workspace, StartMs = minT, EndMs = maxT };
            ProtoConvert.AddMatchers(request.Matchers, matchers);
            var all = await FanOutAsync(ring, (client, token) => client.LabelNamesAsync(request, timeout, token), ct);
            return all.SelectMany(r => r.Names).Distinct().Order(StringComparer.Ordinal).ToList();
        }

        public void Dispose() { }
    }
}

/// <summary>Too many ingesters failed to answer for the replicas to cover every series (503 unavailable).</summary>
public sealed class IngestersUnavailableException(string message) : StorageUnavailableException(message);
