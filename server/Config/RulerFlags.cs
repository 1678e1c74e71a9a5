using static Amphora.Server.Config.ValueParsers;

namespace Amphora.Server.Config;

/// <summary>The options of the ruler (<c>--target=ruler</c>, and inside <c>--target=all</c>).</summary>
public static class RulerFlags
{
    public static readonly IReadOnlyList<OptionSpec> All =
    [
        new("ruler.evaluation-interval", "1m", "Interval of a rule group that sets none (Prometheus's global evaluation_interval).",
            (c, v) => c.RulerEvaluationInterval = Duration(v)),
        new("ruler.sync-interval", "5s", "How often the ruler looks for new, changed and removed rule groups in the tenancy state it syncs.",
            (c, v) => c.RulerSyncInterval = Duration(v)),
        new("ruler.for-grace-period", "10m", "Least time a restored alert waits before it fires again; alerts whose for is shorter are not restored (Prometheus's --rules.alert.for-grace-period).",
            (c, v) => c.RulerForGracePeriod = Duration(v)),
        new("ruler.for-outage-tolerance", "1h", "Longest outage after which pending and firing alerts are still restored from ALERTS_FOR_STATE (Prometheus's --rules.alert.for-outage-tolerance).",
            (c, v) => c.RulerForOutageTolerance = Duration(v)),
        new("ruler.resend-delay", "1m", "How often a firing alert is sent to the Alertmanager again.",
            (c, v) => c.RulerResendDelay = Duration(v)),
        new("ruler.alertmanager-url", "", "Base URL of Amphora's Alertmanager route; alerts go to {url}/workspaces/{id}/alertmanager/api/v2/alerts with basic auth of --auth.admin-key-file's key. Empty: alerts are evaluated but not sent.",
            (c, v) => c.RulerAlertmanagerUrl = v.Length == 0 ? null : v),
        new("ruler.external-url", "", "URL alerts link back to (generatorURL, $externalURL); empty: http://<--listen>.",
            (c, v) => c.RulerExternalUrl = v.Length == 0 ? null : v),
        new("ruler.name", "", "This ruler's host:port among --ruler.members, as the other rulers reach its HTTP listener; empty: --listen.",
            (c, v) => c.RulerName = v),
        new("ruler.members", "", "Every ruler replica's host:port, comma-separated: each rule group is evaluated by exactly one (a stable hash of workspace, namespace and group), and each replica asks the others for theirs to answer /api/v1/rules and /api/v1/alerts (with --auth.admin-key-file's key). Empty: just this one.",
            (c, v) => c.RulerMembers = v),
    ];
}
