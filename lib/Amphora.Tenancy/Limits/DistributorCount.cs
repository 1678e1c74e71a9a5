using System.Diagnostics.Metrics;
using System.Text.Json;
using Amphora.Bucket;
using Amphora.Services;
using Amphora.Tenancy.State;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Amphora.Tenancy.Limits;

/// <summary>
/// How many distributors serve the cluster, counted through the bucket they share, so that each takes its share of a
/// workspace's ingestion rate (the "global" strategy). Every interval a distributor writes a heartbeat object
/// <c>tenancy/distributors/&lt;instance&gt;.json</c> (<c>instance</c>, <c>heartbeatAt</c>), then counts the heartbeats no older
/// than <see cref="LiveFor"/>, itself always included; it removes its own object when it stops and any object older than
/// <see cref="ForgetAfter"/>. While the bucket is unreachable it keeps the last count. Reads of <see cref="Count"/> take no
/// lock; the I/O happens on the service's own loop only.
/// </summary>
public sealed partial class DistributorCount : ServiceBase
{
    public const string Dir = TenancyStore.Prefix + TenancyLayout.DistributorsDir;

    private readonly IBucket _bucket;
    private readonly string _object;
    private readonly TimeSpan _interval;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Meter _meter = new("Amphora.Tenancy");
    private volatile int _count = 1;
    private bool _failing;

    /// <param name="instance">This distributor's name, unique in the cluster (a pod name; host and port locally).</param>
    public DistributorCount(IBucket bucket, string instance, TimeSpan interval, TimeProvider? time = null, ILogger? logger = null)
    {
        if (instance.Length == 0 || instance.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_')))
            throw new ArgumentException($"the distributor name \"{instance}\" must be ASCII letters, digits, '-', '.' or '_'", nameof(instance));
        _bucket = bucket;
        Instance = instance;
        _object = Dir + instance + ".json";
        _interval = interval;
        _time = time ?? TimeProvider.System;
        _logger = logger ?? NullLogger.Instance;
        _meter.CreateObservableGauge("amphora_distributor_instances", () => _count,
            description: "Distributors this one counts in the cluster (heartbeats in the bucket); each admits its share of a workspace's ingestion rate.");
    }

    public override string Name => "distributor-count";

    public string Instance { get; }

    /// <summary>The distributors alive, this one included (at least 1).</summary>
    public int Count => _count;

    /// <summary>A heartbeat this recent counts: three intervals, so one missed write or some clock skew does not drop a peer.</summary>
    public TimeSpan LiveFor => _interval * 3;

    /// <summary>A heartbeat this old is removed by whichever distributor sees it (its writer is gone).</summary>
    public TimeSpan ForgetAfter => _interval * 30;

    protected override Task StartingAsync(CancellationToken ct) => RefreshAsync(ct);

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        using var timer = new PeriodicTimer(_interval, _time);
        while (await timer.WaitForNextTickAsync(stopping).ConfigureAwait(false))
            await RefreshAsync(stopping).ConfigureAwait(false);
    }

    protected override async Task StoppingAsync(CancellationToken ct)
    {
        try
        {
            await _bucket.DeleteAsync(_object, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogFailed(_logger, _object, e.Message);
        }
        _meter.Dispose();
    }

    /// <summary>Writes this distributor's heartbeat and counts the live ones. Bucket errors are logged once and keep the count.</summary>
    public async Task RefreshAsync(CancellationToken ct)
    {
        try
        {
            var now = _time.GetUtcNow();
            byte[] heartbeat = JsonSerializer.SerializeToUtf8Bytes(new Heartbeat(Instance, now), TenancyLayout.Json);
            await _bucket.UploadAsync(_object, new MemoryStream(heartbeat), ct).ConfigureAwait(false);
            int live = 1;
            foreach (string name in await _bucket.ListAsync(Dir, recursive: false, ct).ConfigureAwait(false))
            {
                if (name == _object || !name.EndsWith(".json", StringComparison.Ordinal)) continue;
                DateTimeOffset? at = await HeartbeatAtAsync(name, ct).ConfigureAwait(false);
                if (at is null) continue;
                if (now - at.Value <= LiveFor) live++;
                else if (now - at.Value > ForgetAfter) await _bucket.DeleteAsync(name, ct).ConfigureAwait(false);
            }
            if (live != _count) LogCount(_logger, live);
            _count = live;
            if (_failing) LogRecovered(_logger, live);
            _failing = false;
        }
        catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            if (!_failing) LogFailed(_logger, Dir, e.Message);
            _failing = true;
        }
    }

    private async Task<DateTimeOffset?> HeartbeatAtAsync(string name, CancellationToken ct)
    {
        try
        {
            return JsonSerializer.Deserialize<Heartbeat>(await _bucket.GetAsync(name, ct).ConfigureAwait(false), TenancyLayout.Json)?.HeartbeatAt;
        }
        catch (ObjectNotFoundException)
        {
            return null; // removed since the listing: its distributor stopped
        }
        catch (JsonException)
        {
            return DateTimeOffset.MinValue; // not a heartbeat of this version: old enough to be removed
        }
    }

    private sealed record Heartbeat(string Instance, DateTimeOffset HeartbeatAt);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Count} distributors are serving; each admits its share of a workspace's ingestion rate")]
    private static partial void LogCount(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "cannot count the distributors through the bucket at {Name}: {Reason}; keeping the last count")]
    private static partial void LogFailed(ILogger logger, string name, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "counting the distributors through the bucket again: {Count} are serving")]
    private static partial void LogRecovered(ILogger logger, int count);
}
