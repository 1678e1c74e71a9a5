using System.Diagnostics.Metrics;
using Amphora.Ring;
using Grpc.Core;
using Amphora.Services;
using Microsoft.Extensions.Logging;

namespace Amphora.Cluster;

/// <summary>
/// The ring as a distributor or querier sees it: the configured members, each polled over gRPC for its state and health
/// every few seconds, published as an immutable <see cref="HashRing"/>. A member whose poll fails stays in the ring as
/// unhealthy (writes to it fail and count against the quorum; reads skip it).
/// </summary>
public sealed partial class RingClient : ServiceBase
{
    private static readonly Meter Meter = new("Amphora.Ring");
    private readonly IReadOnlyList<RingInstance> _configured;
    private readonly Dictionary<string, IngesterClient> _clients = new(StringComparer.Ordinal);
    private readonly int _replicationFactor;
    private readonly TimeSpan _interval;
    private readonly ILogger _logger;
    private volatile HashRing _ring;

    /// <param name="transport">TLS, client certificate and cluster secret for the calls; null is h2c without credentials.</param>
    public RingClient(IReadOnlyList<RingInstance> members, int replicationFactor, TimeSpan pollInterval, ILogger<RingClient> logger,
        ClusterTransport? transport = null)
    {
        _configured = members;
        _replicationFactor = replicationFactor;
        _interval = pollInterval;
        _logger = logger;
        foreach (var m in members)
            _clients[m.Name] = (transport ?? ClusterTransport.Plaintext).Client(m.Address, IngesterClient.MaxMessageSize);
        _ring = new HashRing(members, replicationFactor);
        Meter.CreateObservableGauge("amphora_ring_members", () => _ring.Instances.GroupBy(i => (i.State, i.Healthy))
            .Select(g => new Measurement<int>(g.Count(), new("state", g.Key.State.ToString().ToUpperInvariant()), new("healthy", g.Key.Healthy))),
            description: "Ring members by reported state and health.");
    }

    public override string Name => "ring";
    public HashRing Current => _ring;
    public IngesterClient Client(RingInstance instance) => _clients[instance.Name];

    protected override Task StartingAsync(CancellationToken ct) => PollAsync(ct);

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_interval);
        while (await timer.WaitForNextTickAsync(stopping)) await PollAsync(stopping);
    }

    /// <summary>Asks every member for its state; updates the ring when anything changed.</summary>
    public async Task PollAsync(CancellationToken ct)
    {
        var polled = await Task.WhenAll(_configured.Select(async m =>
        {
            try
            {
                var state = await _clients[m.Name].StateAsync(TimeSpan.FromSeconds(2), ct);
                var s = state.State switch
                {
                    Protocol.InstanceState.Active => InstanceState.Active,
                    Protocol.InstanceState.Joining => InstanceState.Joining,
                    Protocol.InstanceState.Leaving => InstanceState.Leaving,
                    _ => InstanceState.Unknown,
                };
                if (state.Instance != m.Name) LogNameMismatch(m.Address, m.Name, state.Instance);
                // Logged once, on the poll that finds an unhealthy member answering again.
                if (_ring.Instances.FirstOrDefault(i => i.Name == m.Name) is { Healthy: false }) LogRecovered(m.Name, m.Address, s);
                return m with { State = s, Healthy = true };
            }
            catch (RpcException e) when (!ct.IsCancellationRequested)
            {
                // An unreachable member keeps its last known state (its tokens stay) but is marked unhealthy.
                var previous = _ring.Instances.FirstOrDefault(i => i.Name == m.Name) ?? m;
                if (previous.Healthy) LogUnhealthy(m.Name, m.Address, $"{e.StatusCode}: {e.Status.Detail}");
                return previous with { Healthy = false };
            }
        }));
        var current = _ring.Instances;
        if (!polled.SequenceEqual(current)) _ring = new HashRing(polled, _replicationFactor);
    }

    protected override Task StoppingAsync(CancellationToken ct)
    {
        foreach (var c in _clients.Values) c.Dispose();
        return Task.CompletedTask;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "ring member {Name} at {Address} is unreachable: {Reason}")]
    private partial void LogUnhealthy(string name, string address, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "ring member {Name} at {Address} is reachable again (state {State})")]
    private partial void LogRecovered(string name, string address, InstanceState state);

    [LoggerMessage(Level = LogLevel.Warning, Message = "ring member at {Address} is configured as {Configured} but calls itself {Actual}; tokens follow the configured name")]
    private partial void LogNameMismatch(string address, string configured, string actual);
}
