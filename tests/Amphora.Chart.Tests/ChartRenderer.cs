using System.Diagnostics;
using Amphora.EndToEnd.Tests.Harness;
using Amphora.Testing;
using YamlDotNet.RepresentationModel;

namespace Amphora.Chart.Tests;

/// <summary>
/// Renders <c>charts/amphora</c> with the chart-render tool (a <c>helm template</c> stand-in: Go's text/template, sprig
/// and the values schema), built once per test run from its source folder into a temporary directory.
/// </summary>
public static class ChartRenderer
{
    public static string ChartDir => Path.Combine(RepoPaths.Root, "charts", "amphora");

    private static readonly SemaphoreSlim BuildLock = new(1, 1);
    private static string? _binary;

    /// <summary>The outcome of one rendering: the exit code, the YAML (stdout) and the error text.</summary>
    public sealed record Rendering(int ExitCode, string Yaml, string Errors)
    {
        /// <summary>Every rendered object, in order.</summary>
        public IReadOnlyList<RenderedObject> Objects { get; } = ExitCode == 0 ? Parse(Yaml) : [];
    }

    /// <summary>Renders the chart with the given values files (under <c>charts/amphora/ci/</c>) and <c>--set</c> pairs.</summary>
    public static async Task<Rendering> RenderAsync(string[]? valuesFiles = null, string[]? sets = null, string release = "amphora",
        string ns = "obs", bool includeCrds = true, string? chartDir = null)
    {
        string binary = await BinaryAsync();
        var args = new List<string> { "--check", "--name", release, "--namespace", ns };
        if (includeCrds) args.Add("--include-crds");
        foreach (var f in valuesFiles ?? []) { args.Add("-f"); args.Add(Path.Combine(ChartDir, "ci", f)); }
        foreach (var s in sets ?? []) { args.Add("--set"); args.Add(s); }
        args.Add(chartDir ?? ChartDir);
        var (code, stdout, stderr) = await RunAsync(binary, args);
        return new Rendering(code, stdout, stderr);
    }

    private static async Task<string> BinaryAsync()
    {
        string source = SharedAssets.ChartRender();
        await BuildLock.WaitAsync();
        try
        {
            if (_binary is not null) return _binary;
            string output = Path.Combine(Path.GetTempPath(), $"amphora-chart-render-{Environment.ProcessId}", "chart-render");
            var (code, stdout, stderr) = await RunAsync("bash", [Path.Combine(source, "build.sh"), output]);
            if (code != 0 || !File.Exists(output))
                throw new InvalidOperationException($"building chart-render failed ({code}): {stdout}\n{stderr}");
            return _binary = output;
        }
        finally
        {
            BuildLock.Release();
        }
    }

    public static async Task<(int Code, string Stdout, string Stderr)> RunAsync(string file, IEnumerable<string> args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout, await stderr);
    }

    private static List<RenderedObject> Parse(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        var list = new List<RenderedObject>();
        foreach (var doc in stream.Documents)
            if (doc.RootNode is YamlMappingNode map && map.Children.Count > 0) list.Add(new RenderedObject(map));
        return list;
    }
}

/// <summary>One rendered Kubernetes object, with small typed accessors over its YAML.</summary>
public sealed class RenderedObject(YamlMappingNode node)
{
    public YamlMappingNode Node { get; } = node;
    public string Kind => Scalar(Node, "kind");
    public string ApiVersion => Scalar(Node, "apiVersion");
    public string Name => Scalar((YamlMappingNode)Node["metadata"], "name");

    public YamlNode? Path(params string[] keys)
    {
        YamlNode? n = Node;
        foreach (var k in keys)
        {
            if (n is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode(k), out n)) return null;
        }
        return n;
    }

    /// <summary>The pod template's containers of a Deployment or StatefulSet.</summary>
    public IEnumerable<(string Name, List<string> Args)> Containers()
    {
        if (Path("spec", "template", "spec", "containers") is not YamlSequenceNode seq) yield break;
        foreach (var c in seq.Children.OfType<YamlMappingNode>())
        {
            var args = c.Children.TryGetValue(new YamlScalarNode("args"), out var a) && a is YamlSequenceNode s
                ? s.Children.Select(x => ((YamlScalarNode)x).Value ?? "").ToList()
                : [];
            yield return (Scalar(c, "name"), args);
        }
    }

    /// <summary>The environment variables with a plain value of the pod template's single container, by name.</summary>
    public Dictionary<string, string> Env()
    {
        var env = new Dictionary<string, string>();
        if (Path("spec", "template", "spec", "containers") is not YamlSequenceNode { Children: [YamlMappingNode c] }) return env;
        if (!c.Children.TryGetValue(new YamlScalarNode("env"), out var e) || e is not YamlSequenceNode list) return env;
        foreach (var v in list.Children.OfType<YamlMappingNode>())
            if (v.Children.TryGetValue(new YamlScalarNode("value"), out var value) && value is YamlScalarNode plain)
                env[Scalar(v, "name")] = plain.Value ?? "";
        return env;
    }

    public int Replicas => Path("spec", "replicas") is YamlScalarNode s ? int.Parse(s.Value!, System.Globalization.CultureInfo.InvariantCulture) : 1;

    /// <summary>The object serialised back to YAML, for the API server.</summary>
    public string ToYaml()
    {
        var stream = new YamlStream(new YamlDocument(Node));
        using var w = new StringWriter();
        stream.Save(w, assignAnchors: false);
        return w.ToString();
    }

    private static string Scalar(YamlMappingNode m, string key) =>
        m.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode s ? s.Value ?? "" : "";

    public override string ToString() => $"{Kind}/{Name}";
}
