namespace Amphora.Tenancy.Rules;

/// <summary>Where the Prometheus Alertmanager executable is: <c>--alertmanager.binary</c>, else the PATH.</summary>
public static class AlertmanagerBinary
{
    public const string Option = "--alertmanager.binary";

    /// <summary>The names it has on the PATH: upstream's and Debian's (package prometheus-alertmanager).</summary>
    public static readonly IReadOnlyList<string> Names = ["alertmanager", "prometheus-alertmanager"];

    /// <summary>The first of <see cref="Names"/> found in a directory of the PATH, or null.</summary>
    public static string? OnPath()
    {
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
            foreach (string name in Names)
            {
                string candidate = Path.Combine(dir, name);
                if (File.Exists(candidate)) return candidate;
            }
        return null;
    }

    /// <summary>Why a definition cannot be created or changed on a component without the binary (503; nothing stored).</summary>
    public static TenancyException Missing() => new(TenancyErrorKind.ServiceUnavailable,
        $"cannot run an Alertmanager definition: this deployment has no Alertmanager binary; set {Option} to the Prometheus " +
        "Alertmanager executable (Debian package prometheus-alertmanager) or put alertmanager on the PATH; nothing was stored");
}
