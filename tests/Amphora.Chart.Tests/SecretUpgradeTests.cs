using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;
using YamlDotNet.RepresentationModel;

namespace Amphora.Chart.Tests;

/// <summary>
/// The generated Secrets (master key, admin key, cluster secret) survive an upgrade: on <c>helm upgrade</c> the chart's
/// <c>lookup</c> returns the Secrets in the cluster and the templates must render their data unchanged. chart-render's
/// <c>lookup</c> returns nothing, as <c>helm template</c>'s does, so this test renders a copy of the chart whose lookups of
/// Secrets return the objects of a first rendering, as Helm's would after the install.
/// </summary>
[Trait("SharedAssets", "chart-render")]
public sealed class SecretUpgradeTests : IDisposable
{
    private static readonly string[] Generated = ["amphora-master-key", "amphora-admin-key", "amphora-cluster-secret"];
    private readonly string _copy = RepoPaths.NewTempDir("amphora-chart-upgrade");

    public void Dispose()
    {
        try { Directory.Delete(_copy, recursive: true); } catch (IOException) { }
    }

    [SkippableFact]
    public async Task An_upgrade_renders_the_generated_secrets_of_the_install_unchanged()
    {
        var install = await ChartRenderer.RenderAsync(includeCrds: false);
        Assert.True(install.ExitCode == 0, install.Errors);
        var installed = SecretData(install);
        Assert.Equal(Generated.Order(), installed.Keys.Order());

        // Rendered again without the installed Secrets (a second install), every value is new: the check below can fail.
        var again = SecretData(await ChartRenderer.RenderAsync(includeCrds: false));
        Assert.All(Generated, name => Assert.NotEqual(installed[name], again[name]));

        // The upgrade: lookup of each Secret returns the installed object.
        string live = JsonSerializer.Serialize(installed.ToDictionary(kv => kv.Key, kv => new { data = kv.Value }));
        CopyChart(ChartRenderer.ChartDir, _copy);
        string secrets = Path.Combine(_copy, "templates", "secrets.yaml");
        string template = File.ReadAllText(secrets);
        const string Lookup = "lookup \"v1\" \"Secret\" .Release.Namespace $name";
        Assert.Equal(3, template.Split(Lookup).Length - 1);
        File.WriteAllText(secrets, template.Replace(Lookup, $"index (fromJson `{live}`) $name", StringComparison.Ordinal));
        var upgrade = await ChartRenderer.RenderAsync(includeCrds: false, chartDir: _copy);
        Assert.True(upgrade.ExitCode == 0, upgrade.Errors);
        var upgraded = SecretData(upgrade);
        Assert.All(Generated, name => Assert.Equal(installed[name], upgraded[name]));
        // And Helm never deletes them (an uninstall keeps the keys the data was sealed with).
        Assert.All(upgrade.Objects.Where(o => o.Kind == "Secret" && Generated.Contains(o.Name)),
            o => Assert.Equal("keep", o.Path("metadata", "annotations", "helm.sh/resource-policy")?.ToString()));
    }

    private static Dictionary<string, Dictionary<string, string>> SecretData(ChartRenderer.Rendering rendering) =>
        rendering.Objects.Where(o => o.Kind == "Secret" && Generated.Contains(o.Name)).ToDictionary(o => o.Name,
            o => ((YamlMappingNode)o.Path("data")!).Children.ToDictionary(kv => kv.Key.ToString(), kv => kv.Value.ToString()));

    private static void CopyChart(string from, string to)
    {
        foreach (string dir in Directory.EnumerateDirectories(from, "*", SearchOption.AllDirectories))
            Directory.CreateDirectory(Path.Combine(to, Path.GetRelativePath(from, dir)));
        foreach (string file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
            File.Copy(file, Path.Combine(to, Path.GetRelativePath(from, file)));
    }
}
