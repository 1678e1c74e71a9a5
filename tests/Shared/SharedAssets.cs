using System.Diagnostics;

namespace Amphora.Testing;

/// <summary>
/// Finds the test assets that only the folder <c>../shared</c> beside the repository holds (the PromQL conformance scripts,
/// the Kubernetes API server assets, the chart renderer), so that a fresh clone without that folder still builds and
/// passes: a test that needs a missing asset reports itself <b>skipped</b> with the reason and how to get it.
/// <para>
/// Lookup order for each asset: its environment variable (<see cref="PromqlTestDataVariable"/>,
/// <see cref="KubebuilderAssetsVariable"/>, <see cref="ChartRenderVariable"/>), then <c>../shared/...</c> next to the
/// directory that holds <c>Cluster.sln</c>. When <see cref="RequireVariable"/> is <c>1</c> (CI sets it in <c>.ci/run</c>),
/// a missing asset fails the test instead of skipping it, so CI always runs these tests.
/// </para>
/// <para>
/// Usage: mark the test <c>[SkippableFact]</c> (package Xunit.SkippableFact) and call the accessor first, e.g.
/// <c>string dir = SharedAssets.PromqlTestData();</c>. Outside a test method (a fixture's constructor), call
/// <see cref="Find(Asset)"/> and skip from the test with <c>Skip.If(found.Path is null, found.Reason)</c>; see the note
/// "shared assets". Thread-safe; results are computed once per process.
/// </para>
/// </summary>
public static class SharedAssets
{
    /// <summary>Set to <c>1</c> to turn a missing shared asset into a test failure (CI does).</summary>
    public const string RequireVariable = "AMPHORA_REQUIRE_SHARED_ASSETS";
    public const string PromqlTestDataVariable = "AMPHORA_PROMQL_TESTDATA";
    public const string KubebuilderAssetsVariable = "KUBEBUILDER_ASSETS";
    public const string ChartRenderVariable = "AMPHORA_CHART_RENDER";

    /// <summary>One asset: its variable, its folder under ../shared, a file that proves it is there, and how to get it.</summary>
    public sealed record Asset(string Variable, string SharedFolder, string MarkerFile, string HowToGet);

    /// <summary>The outcome of a lookup: the directory, or null and the reason it is missing.</summary>
    public sealed record Found(string? Path, string Reason);

    public static readonly Asset PromqlScripts = new(PromqlTestDataVariable, "promql-testdata", "functions.test",
        "Set AMPHORA_PROMQL_TESTDATA to a folder holding Prometheus's PromQL test scripts (prometheus/prometheus " +
        "v3.14.0, promql/promqltest/testdata), or put them in ../shared/promql-testdata beside the repository.");

    public static readonly Asset KubernetesApiServer = new(KubebuilderAssetsVariable, "kubernetes", "kube-apiserver",
        "Set KUBEBUILDER_ASSETS to a folder with kube-apiserver and etcd (the envtest layout; ./test.sh sets it from " +
        "../shared/kubernetes/assets.sh, which needs `apt-get install etcd-server`).");

    public static readonly Asset ChartRenderer = new(ChartRenderVariable, "tools/chart-render", "build.sh",
        "Set AMPHORA_CHART_RENDER to the chart-render tool's folder (main.go and build.sh; building it needs golang-go), " +
        "or put it in ../shared/tools/chart-render beside the repository.");

    /// <summary>The PromQL conformance scripts' directory, or skips (fails under CI) the calling test.</summary>
    public static string PromqlTestData() => Require(PromqlScripts);

    /// <summary>
    /// The envtest assets directory (kube-apiserver, etcd, optionally kubectl). Without <c>KUBEBUILDER_ASSETS</c> it runs
    /// <c>../shared/kubernetes/assets.sh</c> (which unpacks into the user's cache) when that folder exists.
    /// </summary>
    public static string KubebuilderAssets() => Require(KubernetesApiServer);

    /// <summary>The chart-render tool's source folder (with <c>build.sh</c>), or skips (fails under CI) the calling test.</summary>
    public static string ChartRender() => Require(ChartRenderer);

    /// <summary>True when a missing asset must fail rather than skip.</summary>
    public static bool Required => Environment.GetEnvironmentVariable(RequireVariable) == "1";

    /// <summary>Returns the asset's directory, or throws Xunit's SkipException (or a failure when <see cref="Required"/>).</summary>
    public static string Require(Asset asset)
    {
        var found = Find(asset);
        if (found.Path is not null) return found.Path;
        if (Required) throw new InvalidOperationException($"{found.Reason} ({RequireVariable}=1 makes this a failure.)");
        throw new Xunit.SkipException(found.Reason);
    }

    private static readonly Dictionary<Asset, Found> Cache = new();

    /// <summary>Looks the asset up once per process; never throws.</summary>
    public static Found Find(Asset asset)
    {
        lock (Cache)
        {
            if (!Cache.TryGetValue(asset, out var found)) Cache[asset] = found = Lookup(asset);
            return found;
        }
    }

    private static Found Lookup(Asset asset)
    {
        string? fromVariable = Environment.GetEnvironmentVariable(asset.Variable);
        if (!string.IsNullOrEmpty(fromVariable))
        {
            return File.Exists(Path.Combine(fromVariable, asset.MarkerFile))
                ? new Found(Path.GetFullPath(fromVariable), $"from {asset.Variable}")
                : new Found(null, $"{asset.Variable}={fromVariable} has no {asset.MarkerFile}. {asset.HowToGet}");
        }
        string? root = RepositoryRoot();
        string shared = root is null ? "../shared" : Path.GetFullPath(Path.Combine(root, "..", "shared", asset.SharedFolder));
        if (root is null || !Directory.Exists(shared))
            return new Found(null, $"{asset.Variable} is unset and {shared} does not exist. {asset.HowToGet}");
        if (asset == KubernetesApiServer) return UnpackKubernetesAssets(shared, asset);
        return File.Exists(Path.Combine(shared, asset.MarkerFile))
            ? new Found(shared, "from ../shared")
            : new Found(null, $"{shared} has no {asset.MarkerFile}. {asset.HowToGet}");
    }

    /// <summary>The folder holding Cluster.sln above the test assembly, or null.</summary>
    public static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Cluster.sln"))) return dir.FullName;
        return null;
    }

    private static Found UnpackKubernetesAssets(string shared, Asset asset)
    {
        string script = Path.Combine(shared, "assets.sh");
        if (!File.Exists(script)) return new Found(null, $"{script} does not exist. {asset.HowToGet}");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add(script);
        var stderr = new System.Text.StringBuilder();
        using var process = new Process { StartInfo = start };
        process.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        process.Start();
        process.BeginErrorReadLine();
        string stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        string dir = stdout.Trim().Split('\n').LastOrDefault()?.Trim() ?? "";
        if (process.ExitCode != 0 || !File.Exists(Path.Combine(dir, "kube-apiserver")))
            return new Found(null, $"{script} failed ({process.ExitCode}): {stderr.ToString().Trim()} {asset.HowToGet}");
        if (!File.Exists(Path.Combine(dir, "etcd")))
            return new Found(null, $"{dir} has no etcd: {stderr.ToString().Trim()} {asset.HowToGet}");
        return new Found(dir, "from ../shared/kubernetes/assets.sh");
    }
}
