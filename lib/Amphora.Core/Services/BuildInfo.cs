using System.Reflection;

namespace Amphora.Services;

/// <summary>
/// What this build is: the version and the git commit the SDK stamped into the informational version
/// (<c>1.0.0+&lt;commit&gt;</c>), and the .NET runtime it runs on. Shown by <c>amphora --version</c>, logged at start and
/// served by <c>/api/v1/status/buildinfo</c>.
/// </summary>
public static class BuildInfo
{
    private static readonly string Informational = typeof(BuildInfo).Assembly
        .GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";

    /// <summary>The release version, without the commit.</summary>
    public static string Version { get; } = Informational.Split('+')[0];

    /// <summary>The full commit id the build was made from, or "" when it was not built from a git checkout.</summary>
    public static string Revision { get; } = Informational.Contains('+') ? Informational[(Informational.IndexOf('+') + 1)..] : "";

    /// <summary>The .NET runtime version, e.g. 10.0.1.</summary>
    public static string Runtime => Environment.Version.ToString();

    /// <summary>One line: <c>amphora 1.0.0 (commit 432ccc52afca, .NET 10.0.1)</c>.</summary>
    public static string Line =>
        $"amphora {Version} (commit {(Revision.Length == 0 ? "unknown" : Revision[..Math.Min(12, Revision.Length)])}, .NET {Runtime})";
}
