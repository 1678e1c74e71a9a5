namespace Amphora.Alertmanager;

/// <summary>How the supervisor runs the workspaces' Alertmanager processes.</summary>
public sealed class AlertmanagerOptions
{
    /// <summary>The Prometheus Alertmanager executable (<c>--alertmanager.binary</c>).</summary>
    public required string Binary { get; init; }

    /// <summary>Where each workspace's directory is: <c>&lt;data-dir&gt;/alertmanager</c>; a workspace's config, templates and
    /// <c>data/</c> (its <c>--storage.path</c>: silences and the notification log) are in <c>&lt;Root&gt;/&lt;workspace&gt;/</c>.</summary>
    public required string Root { get; init; }

    /// <summary>Amphora's public base URL; a workspace's Alertmanager is told it lives at
    /// <c>{base}/workspaces/{id}/alertmanager/</c> (its <c>--web.external-url</c>, the links in notifications).</summary>
    public required string PublicBaseUrl { get; init; }

    /// <summary>How often the wanted processes are compared with the running ones (a change of the shared state also
    /// wakes the supervisor).</summary>
    public TimeSpan ReconcileInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long a started process may take to answer <c>/-/ready</c> before the start counts as failed.</summary>
    public TimeSpan ReadyTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>First delay before a process that exited or failed to start is started again; doubles per failure.</summary>
    public TimeSpan RestartBackoff { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest delay between restarts.</summary>
    public TimeSpan MaxRestartBackoff { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Largest request body passed to a workspace's Alertmanager (413 beyond).</summary>
    public long MaxRequestBodyBytes { get; init; } = 4L << 20;
}
