using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.Ring;
using Grpc.Core;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using System.Diagnostics.Metrics;
using MetricMetadata = Amphora.Storage.MetricMetadata;

namespace Amphora.Distributor;

/// <summary>Some series did not reach a write quorum of ingesters: the request must be retried (5xx).</summary>
public sealed class QuorumNotReachedException(string message) : Exception(message);

/// <summary>
/// Pushes to the ingesters that own each series on the ring: the request is split per ingester, the batches are sent in
/// parallel (with retries and a circuit breaker per ingester), and the push succeeds as soon as every series reached a write
/// quorum (2 of 3): a slow or hung replica does not hold the write up; its push finishes in the background within its
/// deadline. Refusals (out of order, limits) are taken from the replicas that answered.
/// </summary>
public sealed class RingPush : IIngesterPush
{
    private readonly RingClient _ring;
    private readonly TimeSpan _timeout;
    private readonly Dictionary<string, ResiliencePipeline> _pipelines = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _background;

    private static readonly Meter Meter = new("Amphora.Distributor");
    private static readonly UpDownCounter<long> BackgroundPushes = Meter.CreateUpDownCounter<long>("amphora_distributor_background_pushes",
        description: "Pushes to a replica still running after their write was answered (its series had reached their quorum).");
    private static readonly Counter<long> BackgroundPushesDone = Meter.CreateCounter<long>("amphora_distributor_background_pushes_completed",
        description: "Pushes finished in the background, by outcome (ok, failed).");

    /// <param name="maxBackgroundPushes">How many replica pushes may go on after their write was answered; beyond, a write
    /// waits for all its replicas.</param>
    public RingPush(RingClient ring, TimeSpan timeout, int maxBackgroundPushes = DefaultMaxBackgroundPushes)
    {
        _ring = ring;
        _timeout = timeout;
        MaxBackgroundPushes = maxBackgroundPushes;
        _background = new SemaphoreSlim(maxBackgroundPushes);
    }

    public const int DefaultMaxBackgroundPushes = 1000;

    public int MaxBackgroundPushes { get; }

    public bool StoresHistograms => true;

    private ResiliencePipeline PipelineFor(string instance)
    {
        lock (_pipelines)
        {
            if (_pipelines.TryGetValue(instance, out var p)) return p;
            var transient = new PredicateBuilder().Handle<RpcException>(e => e.StatusCode is StatusCode.Unavailable or StatusCode.DeadlineExceeded);
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

        // Every batch starts now and runs to its own deadline, whatever becomes of the request: a write is answered once every
        // series reached its quorum, and the other replicas' pushes finish in the background.
        // Each series' message is built once and shared by the requests of all its replicas (a message is only read while it
        // is serialized), so replication costs one encoding per replica, not one set of objects per replica.
        var messages = new Series[series.Count];
        for (int i = 0; i < series.Count; i++) messages[i] = ToMessage(series[i]);
        var pending = perInstance.Select(pair => SendAsync(ring, workspace, pair.Key, pair.Value, messages, metadata)).ToList();
        var succeeded = new int[series.Count];
        var failed = new int[series.Count];
        int atQuorum = 0;
        var outcome = new PushOutcome();
        var rejectionTaken = new bool[series.Count];
        var acceptedTaken = new bool[series.Count];
        var errors = new List<string>();
        try
        {
            // Metadata alone waits for every ingester; series wait for their quorum only.
            while (pending.Count > 0 && (series.Count == 0 || atQuorum < series.Count))
            {
                var done = await Task.WhenAny(pending).ConfigureAwait(false);
                pending.Remove(done);
                var r = await done.ConfigureAwait(false);
                if (r.Response is not null && Unaccounted(r.Response, r.Indexes, series) is { } missing)
                    r = (r.Instance, r.Indexes, null, $"{ring.Instances[r.Instance].Name}: {missing}");
                if (r.Response is null)
                {
                    errors.Add(r.Error!);
                    foreach (int index in r.Indexes)
                        if (ownersOf[index].Length - ++failed[index] < quorum) throw NoQuorum(series, ownersOf, succeeded, index, quorum, errors);
                    continue;
                }
                var rejectedHere = new Dictionary<int, int>();
                foreach (var rej in r.Response.Rejections)
                {
                    int index = r.Indexes[rej.SeriesIndex];
                    rejectedHere[index] = rejectedHere.GetValueOrDefault(index) + 1;
                    if (rejectionTaken[index]) continue;
                    var status = (Amphora.Storage.AppendStatus)(int)rej.Status;
                    var labels = series[index].Labels;
                    if (rej.Histogram) outcome.RejectedHistograms++;
                    if (rej.Reason.Length > 0) outcome.Reject(rej.Reason, $"{rej.Message}. series: '{SeriesValidator.Describe(labels)}'");
                    else if (rej.Message.Length > 0) // an ingester of an earlier version names the limit in the message only
                        outcome.Reject(SampleRejections.Reason(status), $"{rej.Message}. series: '{SeriesValidator.Describe(labels)}'");
                    else outcome.Reject(SampleRejections.Reason(status), SampleRejections.Message(status, labels, rej.TimestampMs, rej.Histogram));
                }
                foreach (int index in r.Indexes)
                {
                    if (++succeeded[index] == quorum) atQuorum++;
                    if (rejectedHere.ContainsKey(index)) rejectionTaken[index] = true;
                    if (!acceptedTaken[index])
                    {
                        acceptedTaken[index] = true;
                        outcome.Accepted += SampleCount(series[index]) - rejectedHere.GetValueOrDefault(index);
                        outcome.Exemplars += series[index].Exemplars.Length;
                    }
                }
            }
            for (int i = 0; i < series.Count; i++)
                if (succeeded[i] < quorum) throw NoQuorum(series, ownersOf, succeeded, i, quorum, errors);
        }
        finally
        {
            foreach (var rest in pending) await ContinueInBackgroundAsync(rest).ConfigureAwait(false);
        }
        return outcome;
    }

    /// <summary>Sends one ingester its batch with retries and its circuit breaker; a failure is a value, not an exception.</summary>
    private async Task<(int Instance, List<int> Indexes, PushResponse? Response, string? Error)> SendAsync(HashRing ring, string workspace,
        int instanceIndex, List<int> indexes, Series[] messages, IReadOnlyList<MetricMetadata> metadata)
    {
        var instance = ring.Instances[instanceIndex];
        var request = new PushRequest { Workspace = workspace };
        foreach (int i in indexes) request.Series.Add(messages[i]);
        foreach (var m in metadata)
            request.Metadata.Add(new Cluster.Protocol.MetricMetadata { MetricFamilyName = m.MetricFamilyName, Type = m.Type, Help = m.Help, Unit = m.Unit });
        try
        {
            var response = await PipelineFor(instance.Name).ExecuteAsync(
                async token => await _ring.Client(instance).PushAsync(request, _timeout, token), CancellationToken.None).ConfigureAwait(false);
            return (instanceIndex, indexes, response, null);
        }
        catch (Exception e)
        {
            // Any failure of one replica is that replica's (a value the quorum counts), never the write's: a push that
            // finishes in the background must not fault unobserved, and one awaited must not replace the answer.
            return (instanceIndex, indexes, null, $"{instance.Name}: {e.Message}");
        }
    }

    private static Series ToMessage(ValidSeries series)
    {
        var s = new Series();
        ProtoConvert.AddLabels(s.Labels, series.Labels);
        for (int k = 0; k < series.Timestamps.Length; k++)
            s.Samples.Add(new Sample { TimestampMs = series.Timestamps[k], Value = series.Values[k], StartTimestampMs = series.StartTimestampAt(k) });
        foreach (var (t, h) in series.Histograms) s.Histograms.Add(ProtoConvert.ToProto(t, h));
        foreach (var (t, h) in series.FloatHistograms) s.FloatHistograms.Add(ProtoConvert.ToProto(t, h));
        foreach (var e in series.Exemplars) s.Exemplars.Add(ProtoConvert.ToProto(e));
        return s;
    }

    private static long SampleCount(ValidSeries s) => s.Timestamps.Length + s.Histograms.Length + s.FloatHistograms.Length;

    /// <summary>
    /// Why a replica's answer does not account for every sample it was sent (accepted plus refused), or null when it does: an
    /// ingester of an earlier version skips the native histogram fields it does not know, and its answer must not count
    /// towards a quorum for samples it never stored.
    /// </summary>
    private static string? Unaccounted(PushResponse response, List<int> indexes, IReadOnlyList<ValidSeries> series)
    {
        long sent = 0;
        foreach (int i in indexes) sent += SampleCount(series[i]);
        long answered = response.SamplesAccepted + response.Rejections.Count;
        return answered >= sent ? null
            : $"the ingester accounted for {answered} of the {sent} samples sent (accepted or refused); an ingester that does not " +
              "store native histograms (an earlier version) leaves them out, so its answer does not count towards the write quorum";
    }

    /// <summary>Leaves a replica's push to finish in the background when a slot is free (at most
    /// <see cref="MaxBackgroundPushes"/> at once); otherwise the write waits for it, so memory stays bounded.</summary>
    private async Task ContinueInBackgroundAsync(Task<(int Instance, List<int> Indexes, PushResponse? Response, string? Error)> push)
    {
        if (push.IsCompleted || !_background.Wait(0))
        {
            await push.ConfigureAwait(false);
            return;
        }
        BackgroundPushes.Add(1);
        _ = push.ContinueWith(static (t, state) =>
        {
            var self = (RingPush)state!;
            self._background.Release();
            BackgroundPushes.Add(-1);
            BackgroundPushesDone.Add(1, new KeyValuePair<string, object?>("outcome", t.Result.Response is null ? "failed" : "ok"));
        }, this, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
    }

    private static QuorumNotReachedException NoQuorum(IReadOnlyList<ValidSeries> series, int[][] ownersOf, int[] succeeded, int i, int quorum,
        List<string> errors) =>
        new($"series '{SeriesValidator.Describe(series[i].Labels)}' reached {succeeded[i]} of {ownersOf[i].Length} ingesters, fewer than the write quorum of {quorum}: {string.Join("; ", errors)}");
}
