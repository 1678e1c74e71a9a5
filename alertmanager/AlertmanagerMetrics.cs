using System.Diagnostics.Metrics;

namespace Amphora.Alertmanager;

/// <summary>The supervisor's meters; every counter exists at zero from the start.</summary>
internal static class AlertmanagerMetrics
{
    private static readonly Meter Meter = new("Amphora.Alertmanager");

    /// <summary>Processes that ended or did not start, by reason: <c>exited</c> (it ran and died), <c>start_failed</c>.</summary>
    public static readonly Counter<long> Failures = Meter.CreateCounter<long>("amphora_alertmanager_failures",
        description: "Workspace Alertmanager processes that exited (reason exited) or did not become ready (reason start_failed); each is restarted with backoff.");

    /// <summary>Reloads of a changed definition, by result (<c>ok</c>, <c>failed</c>).</summary>
    public static readonly Counter<long> Reloads = Meter.CreateCounter<long>("amphora_alertmanager_reloads",
        description: "Reloads of a workspace's changed Alertmanager definition, by result (ok, failed).");

    public static readonly KeyValuePair<string, object?> Exited = new("reason", "exited");
    public static readonly KeyValuePair<string, object?> StartFailed = new("reason", "start_failed");
    public static readonly KeyValuePair<string, object?> Ok = new("result", "ok");
    public static readonly KeyValuePair<string, object?> Failed = new("result", "failed");

    static AlertmanagerMetrics()
    {
        Failures.Add(0, Exited);
        Failures.Add(0, StartFailed);
        Reloads.Add(0, Ok);
        Reloads.Add(0, Failed);
    }

    /// <summary>Registers the gauge of running processes (called once, by the supervisor).</summary>
    public static void ObserveRunning(Func<int> running) =>
        Meter.CreateObservableGauge("amphora_alertmanager_processes", running,
            description: "Workspace Alertmanager processes running and ready.");
}
