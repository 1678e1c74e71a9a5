using System.Diagnostics.Metrics;
using System.Threading.Channels;
using Amphora.Services;
using Microsoft.Extensions.Logging;

namespace Amphora.Ruler.Alerts;

/// <summary>
/// Sends alerts to the workspaces' Alertmanagers off the evaluation path: groups enqueue (never blocking, the oldest batch is
/// dropped and counted when the queue is full) and one loop posts each batch through the <see cref="IAlertSink"/>. A failed
/// send is counted and logged; the alert goes again at its next resend, as with Prometheus's notifier.
/// </summary>
public sealed partial class AlertNotifier : ServiceBase
{
    public const int QueueCapacity = 10_000;

    private readonly IAlertSink _sink;
    private readonly ILogger _logger;
    private readonly Channel<(string Workspace, IReadOnlyList<PostableAlert> Alerts)> _queue;
    private static readonly Meter Meter = new("Amphora.Ruler");
    private static readonly Counter<long> Sent = Meter.CreateCounter<long>("amphora_ruler_alerts_sent",
        description: "Alerts posted to a workspace's Alertmanager, by workspace.");
    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("amphora_ruler_alerts_send_errors",
        description: "Alerts whose post to a workspace's Alertmanager failed, by workspace.");
    private static readonly Counter<long> Dropped = Meter.CreateCounter<long>("amphora_ruler_alerts_dropped",
        description: "Alerts dropped because the notification queue was full, by workspace.");

    public AlertNotifier(IAlertSink sink, ILogger logger)
    {
        _sink = sink;
        _logger = logger;
        _queue = Channel.CreateBounded<(string, IReadOnlyList<PostableAlert>)>(
            new BoundedChannelOptions(QueueCapacity) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true },
            dropped => Dropped.Add(dropped.Item2.Count, new KeyValuePair<string, object?>("workspace", dropped.Item1)));
    }

    public override string Name => "ruler-notifier";

    public void Enqueue(string workspace, IReadOnlyList<PostableAlert> alerts) => _queue.Writer.TryWrite((workspace, alerts));

    protected override async Task RunningAsync(CancellationToken stopping)
    {
        await foreach (var (workspace, alerts) in _queue.Reader.ReadAllAsync(stopping).ConfigureAwait(false))
        {
            var tag = new KeyValuePair<string, object?>("workspace", workspace);
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stopping);
                timeout.CancelAfter(TimeSpan.FromSeconds(10));
                await _sink.SendAsync(workspace, alerts, timeout.Token).ConfigureAwait(false);
                Sent.Add(alerts.Count, tag);
            }
            catch (Exception e) when (!stopping.IsCancellationRequested)
            {
                Errors.Add(alerts.Count, tag);
                LogSendFailed(_logger, alerts.Count, workspace, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "sending {Count} alerts of workspace {Workspace} failed: {Reason}")]
    private static partial void LogSendFailed(ILogger logger, int count, string workspace, string reason);
}
