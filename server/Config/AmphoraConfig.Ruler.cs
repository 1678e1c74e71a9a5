namespace Amphora.Server.Config;

// --target=ruler (and the ruler inside --target=all): rule evaluation and alert delivery.
public sealed partial class AmphoraConfig
{
    public TimeSpan RulerEvaluationInterval { get; set; } = TimeSpan.FromMinutes(1);
    public TimeSpan RulerSyncInterval { get; set; } = TimeSpan.FromSeconds(5);
    public TimeSpan RulerForGracePeriod { get; set; } = TimeSpan.FromMinutes(10);
    public TimeSpan RulerForOutageTolerance { get; set; } = TimeSpan.FromHours(1);
    public TimeSpan RulerResendDelay { get; set; } = TimeSpan.FromMinutes(1);
    public string? RulerAlertmanagerUrl { get; set; }
    public string? RulerExternalUrl { get; set; }
    public string RulerName { get; set; } = "";

    /// <summary>This ruler among --ruler.members: its --ruler.name, else its --listen address.</summary>
    public string RulerInstance => RulerName.Length > 0 ? RulerName : Listen;
    public string RulerMembers { get; set; } = "";

    private void ValidateRuler(List<string> errors)
    {
        foreach (var (flag, value) in new[] { ("--ruler.evaluation-interval", RulerEvaluationInterval), ("--ruler.sync-interval", RulerSyncInterval),
                     ("--ruler.resend-delay", RulerResendDelay) })
            if (value <= TimeSpan.Zero) errors.Add($"{flag} must be positive");
        if (RulerForGracePeriod < TimeSpan.Zero) errors.Add("--ruler.for-grace-period must not be negative");
        if (RulerForOutageTolerance < TimeSpan.Zero) errors.Add("--ruler.for-outage-tolerance must not be negative");
        foreach (var (flag, value) in new[] { ("--ruler.alertmanager-url", RulerAlertmanagerUrl), ("--ruler.external-url", RulerExternalUrl) })
            if (value is not null && !(Uri.TryCreate(value, UriKind.Absolute, out var u) && u.Scheme is "http" or "https"))
                errors.Add($"invalid {flag} \"{value}\": an http(s) URL");
        if (RulerMembers.Length > 0 && !RulerMembers.Split(',', StringSplitOptions.TrimEntries).Contains(RulerInstance))
            errors.Add($"--ruler.members ({RulerMembers}) must include this ruler's address ({RulerInstance}: --ruler.name, else --listen)");
    }
}
