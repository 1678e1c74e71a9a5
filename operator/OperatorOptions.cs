namespace Amphora.Operator;

/// <summary>The operator's settings (<c>--operator.*</c>).</summary>
public sealed record OperatorOptions
{
    /// <summary>Kubeconfig file; empty: the in-cluster service account (or KUBECONFIG / ~/.kube/config outside a cluster).</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>Base URL of Amphora's control plane the operator calls.</summary>
    public required Uri AmphoraUrl { get; init; }

    /// <summary>Base URL written into status and Secrets for clients (Prometheus, Grafana); default: what Amphora reports.</summary>
    public Uri? PublicUrl { get; init; }

    /// <summary>Base URL of remote write (the distributors) when it is not <see cref="PublicUrl"/>'s host; null: the same base.</summary>
    public Uri? RemoteWriteUrl { get; init; }

    /// <summary>JSON file <c>{"accessKeyId", "secretAccessKey"}</c> of an admin key (aps:* on every workspace).</summary>
    public required string AdminKeyFile { get; init; }

    /// <summary>Only watch this namespace; null: every namespace.</summary>
    public string? WatchNamespace { get; init; }

    public string LeaseNamespace { get; init; } = "default";
    public string LeaseName { get; init; } = "amphora-operator";
    public required string Identity { get; init; }
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>First retry delay of a failing object; doubles per failure up to <see cref="MaxBackoff"/>.</summary>
    public TimeSpan BaseBackoff { get; init; } = TimeSpan.FromSeconds(1);
    public TimeSpan MaxBackoff { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>The Prometheus image a Scraper's collector runs unless its spec names one.</summary>
    public string CollectorImage { get; init; } = "quay.io/prometheus/prometheus:v2.53.0";

    /// <summary>amtool for validating Alertmanager configurations; null: looked up on PATH.</summary>
    public string? AmtoolPath { get; init; }
}
