using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.Ring;
using Amphora.Rpc;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using MetricMetadata = Amphora.Storage.MetricMetadata;

namespace Amphora.Distributor;

/// <summary>Some series did not reach a write quorum of ingesters: the request must be retried (5xx).</summary>
public sealed class QuorumNotReachedException(string message) : Exception(message);

/// <summary>
/// Pushes to the ingesters that own each series on the ring: the request is split per ingester, the batches are sent in
/// parallel (with retries and a circuit breaker per ingester), and the push succeeds only when every series reached a write
/// quorum (2 of 3). Refusals (out of order, limits) are taken from the replicas that answered.
/// </summary>
public sealed class RingPush : IIngesterPush
{
    private readonly RingClient _ring;
    private readonly TimeSpan _timeout;
    private readonly Dictionary<string, ResiliencePipeline> _pipelines = new(StringComparer.Ordinal);

    public RingPush(RingClient ring, TimeSpan timeout)
    {
        _ring = ring;
        _timeout = timeout;
    }

    private ResiliencePipeline PipelineFor(string instance)
    {
        lock (_pipelines)
        {
            if (_pipelines.TryGetValue(instance, out var p)) return p;
            var transient = new PredicateBuilder().Handle<RpcException>(e => e.Status is StatusCode.Unavailable or StatusCode.DeadlineExceeded);
            p = new ResiliencePipelineBuilder()
                .AddRetry(new RetryStrategyOptions { ShouldHandle = transient, MaxRetryAttempts = 2, Delay = TimeSpan.FromMilliseconds(50), BackoffType = DelayBackoffType.Exponential })
                .AddCircuitBreaker(new CircuitBreakerStrategyOptions
                {
                    ShouldHandle = transient, FailureRatio = 0.5, MinimumThroughput = 10,
                    SamplingDuration = TimeSpan.FromSeconds(10), BreakDuration = TimeSpan.FromSeconds(5),
                })
                .Build();
            _pipelines[instance] = p;
            return p;
        }
    }

    public async Task<PushOutcome> PushAsync(string workspace, IReadOnlyList<ValidSeries> series, IReadOnlyList<MetricMetadata> metadata,
        CancellationToken ct)
    {
        var ring = _ring.Current;
        int quorum = ring.WriteQuorum;
        var perInstance = new Dictionary<int, List<int>>();
        var owners = new List<int>();
        var ownersOf = new int[series.Count][];
        for (int i = 0; i < series.Count; i++)
        {
            ring.Get(HashRing.SeriesKey(workspace, series[i].Labels), owners);
            if (owners.Count < quorum)
                throw new QuorumNotReachedException($"only {owners.Count} active ingesters own the series; a write needs {quorum}");
            ownersOf[i] = owners.ToArray();
            foreach (int o in owners)
            {
                if (!perInstance.TryGetValue(o, out var list)) perInstance[o] = list = new List<int>();
                list.Add(i);
            }
        }
        if (series.Count == 0 && metadata.Count > 0)
            foreach (var i in Enumerable.Range(0, ring.Instances.Count)) perInstance[i] = new List<int>();

        var results = await Task.WhenAll(perInstance.Select(async pair =>
        {
            var instance = ring.Instances[pair.Key];
            var request = new PushRequest { Workspace = workspace };
            foreach (int i in pair.Value)
            {
                var s = new Series();
                ProtoConvert.AddLabels(s.Labels, series[i].Labels);
                for (int k = 0; k < series[i].Timestamps.Length; k++)
                    s.Samples.Add(new Sample { TimestampMs = series[i].Timestamps[k], Value = series[i].Values[k] });
                request.Series.Add(s);
            }
            foreach (var m in metadata)
                request.Metadata.Add(new Cluster.Protocol.MetricMetadata { MetricFamilyName = m.MetricFamilyName, Type = m.Type, Help = m.Help, Unit = m.Unit });
            try
            {
                var response = await PipelineFor(instance.Name).ExecuteAsync(
                    async token => await _ring.Client(instance).PushAsync(request, _timeout, token), ct);
                return (Instance: pair.Key, Indexes: pair.Value, Response: (PushResponse?)response, Error: (string?)null);
            }
            catch (Exception e) when (e is RpcException or BrokenCircuitException)
            {
                return (Instance: pair.Key, Indexes: pair.Value, Response: null, Error: $"{instance.Name}: {e.Message}");
            }
        }));

        var succeeded = new int[series.Count];
        var outcome = new PushOutcome();
        var rejectionTaken = new bool[series.Count];
        var acceptedTaken = new bool[series.Count];
        foreach (var r in results)
        {
            if (r.Response is null) continue;
            var rejectedHere = new Dictionary<int, int>();
            foreach (var rej in r.Response.Rejections)
            {
                int index = r.Indexes[rej.SeriesIndex];
                rejectedHere[index] = rejectedHere.GetValueOrDefault(index) + 1;
                if (rejectionTaken[index]) continue;
                var status = (Amphora.Storage.AppendStatus)(int)rej.Status;
                var labels = series[index].Labels;
                if (rej.Reason.Length > 0) outcome.Reject(rej.Reason, $"{rej.Message}. series: '{SeriesValidator.Describe(labels)}'");
                else outcome.Reject(SampleRejections.Reason(status), SampleRejections.Message(status, labels, rej.TimestampMs));
            }
            foreach (int index in r.Indexes)
            {
                succeeded[index]++;
                if (rejectedHere.ContainsKey(index)) rejectionTaken[index] = true;
                if (!acceptedTaken[index])
                {
                    acceptedTaken[index] = true;
                    outcome.Accepted += series[index].Timestamps.Length - rejectedHere.GetValueOrDefault(index);
                }
            }
        }
        for (int i = 0; i < series.Count; i++)
        {
            if (succeeded[i] >= quorum) continue;
            var errors = results.Where(r => r.Error is not null).Select(r => r.Error);
            throw new QuorumNotReachedException(
                $"series '{SeriesValidator.Describe(series[i].Labels)}' reached {succeeded[i]} of {ownersOf[i].Length} ingesters, fewer than the write quorum of {quorum}: {string.Join("; ", errors)}");
        }
        return outcome;
    }
}
