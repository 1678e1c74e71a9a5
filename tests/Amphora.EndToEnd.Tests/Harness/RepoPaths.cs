namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>Finds the repository root (the folder holding Cluster.sln) and the built amphora executable.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("Cluster.sln not found above " + AppContext.BaseDirectory);
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    /// <summary>The amphora.dll built by the server project in the same configuration as these tests.</summary>
    public static string AmphoraDll
    {
        get
        {
            string path = Path.Combine(Root, "server", "bin", Configuration, "net10.0", "amphora.dll");
            return File.Exists(path) ? path : throw new InvalidOperationException($"amphora is not built: {path} is missing (dotnet build server -c {Configuration})");
        }
    }

    /// <summary>The path of a program installed on the machine, or a failure that says how to install it.</summary>
    public static string RequireProgram(string name, string debianPackage)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        throw new InvalidOperationException($"{name} is not installed; run ./test.sh (it installs Debian's {debianPackage}) or apt-get install {debianPackage}");
    }

    public static string NewTempDir(string prefix)
    {
        string dir = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)]);
        Directory.CreateDirectory(dir);
        return dir;
    }
}
