namespace Amphora.Server.Config;

// --target=operator: the Kubernetes operator's settings.
public sealed partial class AmphoraConfig
{
    public string? OperatorKubeconfig { get; set; }
    public string OperatorAmphoraUrl { get; set; } = "";
    public string? OperatorPublicUrl { get; set; }
    public string? OperatorRemoteWriteUrl { get; set; }
    public string OperatorAdminKeyFile { get; set; } = "";
    public string? OperatorNamespace { get; set; }
    public string OperatorLeaseNamespace { get; set; } = "default";
    public string OperatorLeaseName { get; set; } = "amphora-operator";
    public string? OperatorIdentity { get; set; }
    public TimeSpan OperatorLeaseDuration { get; set; } = TimeSpan.FromSeconds(15);
    public TimeSpan OperatorBackoffBase { get; set; } = TimeSpan.FromSeconds(1);
    public TimeSpan OperatorBackoffMax { get; set; } = TimeSpan.FromMinutes(5);
    public string OperatorCollectorImage { get; set; } = "quay.io/prometheus/prometheus:v2.53.0";

    private void ValidateOperator(List<string> errors)
    {
        if (!Uri.TryCreate(OperatorAmphoraUrl, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https"))
            errors.Add($"--target=operator needs --operator.amphora-url, the http(s) URL of Amphora's control plane (got \"{OperatorAmphoraUrl}\")");
        foreach (var (flag, value) in new[] { ("--operator.public-url", OperatorPublicUrl), ("--operator.remote-write-url", OperatorRemoteWriteUrl) })
        {
            if (value is not null && !(Uri.TryCreate(value, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
                errors.Add($"invalid {flag} \"{value}\": an http(s) URL");
        }
        if (OperatorAdminKeyFile.Length == 0)
            errors.Add("--target=operator needs --operator.admin-key-file: a JSON file {\"accessKeyId\", \"secretAccessKey\"} of an admin key (Amphora's --auth.admin-key-file)");
        else if (!File.Exists(OperatorAdminKeyFile))
            errors.Add($"--operator.admin-key-file \"{OperatorAdminKeyFile}\" does not exist");
        if (OperatorKubeconfig is not null && !File.Exists(OperatorKubeconfig))
            errors.Add($"--operator.kubeconfig \"{OperatorKubeconfig}\" does not exist");
        if (OperatorLeaseDuration < TimeSpan.FromSeconds(2)) errors.Add("--operator.lease-duration must be at least 2s");
        if (OperatorBackoffBase <= TimeSpan.Zero || OperatorBackoffMax < OperatorBackoffBase)
            errors.Add("--operator.backoff-base must be positive and at most --operator.backoff-max");
    }
}
