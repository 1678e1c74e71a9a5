using static Amphora.Server.Config.ValueParsers;

namespace Amphora.Server.Config;

/// <summary>The options of <c>--target=operator</c>, listed after the others in <c>--help</c>.</summary>
public static class OperatorFlags
{
    public static readonly IReadOnlyList<OptionSpec> All =
    [
        new("operator.kubeconfig", "", "Kubeconfig the operator uses; empty: the in-cluster service account (outside a cluster: KUBECONFIG or ~/.kube/config).",
            (c, v) => c.OperatorKubeconfig = v.Length == 0 ? null : v),
        new("operator.amphora-url", "", "URL of Amphora's control plane the operator calls (any component serving /workspaces).",
            (c, v) => c.OperatorAmphoraUrl = v),
        new("operator.public-url", "", "Base URL written into Workspace status and key Secrets for Prometheus and Grafana; empty: what Amphora reports.",
            (c, v) => c.OperatorPublicUrl = v.Length == 0 ? null : v),
        new("operator.remote-write-url", "", "Base URL of remote write in Workspace status, key Secrets and collectors, when writes go to other hosts than queries (the distributors); empty: beside the Prometheus endpoint.",
            (c, v) => c.OperatorRemoteWriteUrl = v.Length == 0 ? null : v),
        new("operator.admin-key-file", "", "JSON file {\"accessKeyId\", \"secretAccessKey\"} of an admin key (Amphora's --auth.admin-key-file, or bootstrap-credentials.json); re-read on every call.",
            (c, v) => c.OperatorAdminKeyFile = v),
        new("operator.namespace", "", "Watch only this namespace; empty: every namespace.",
            (c, v) => c.OperatorNamespace = v.Length == 0 ? null : v),
        new("operator.lease-namespace", "default", "Namespace of the Lease replicas elect a leader on (use the operator's own).",
            (c, v) => c.OperatorLeaseNamespace = v),
        new("operator.lease-name", "amphora-operator", "Name of that Lease.", (c, v) => c.OperatorLeaseName = v),
        new("operator.identity", "", "This replica's identity in the Lease and in Events; empty: POD_NAME, else the host name and process id.",
            (c, v) => c.OperatorIdentity = v.Length == 0 ? null : v),
        new("operator.lease-duration", "15s", "How long a Lease holder that stops renewing keeps it before another replica takes over.",
            (c, v) => c.OperatorLeaseDuration = Duration(v)),
        new("operator.backoff-base", "1s", "First retry delay of a resource whose reconcile failed; doubles per failure.",
            (c, v) => c.OperatorBackoffBase = Duration(v)),
        new("operator.backoff-max", "5m", "Longest retry delay of a failing resource.", (c, v) => c.OperatorBackoffMax = Duration(v)),
        new("operator.collector-image", "quay.io/prometheus/prometheus:v2.53.0", "Prometheus image a Scraper's collector runs unless its spec names one.",
            (c, v) => c.OperatorCollectorImage = v),
    ];
}
