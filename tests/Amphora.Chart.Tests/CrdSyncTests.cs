using Xunit;

namespace Amphora.Chart.Tests;

/// <summary>
/// The CRDs have one source, <c>crds/</c>: <c>charts/sync-crds.sh</c> copies them into the chart's <c>crds/</c> folder (Helm
/// installs that folder before the templates), and this test fails when the copy has drifted. Needs no shared asset.
/// </summary>
public sealed class CrdSyncTests
{
    [Fact]
    public void The_charts_CRDs_are_the_crds_folder_byte_for_byte()
    {
        string source = Path.Combine(Amphora.EndToEnd.Tests.Harness.RepoPaths.Root, "crds");
        string copy = Path.Combine(ChartRenderer.ChartDir, "crds");
        var sourceFiles = Directory.GetFiles(source, "*.yaml").Select(Path.GetFileName).Order().ToList();
        var copyFiles = Directory.GetFiles(copy, "*.yaml").Select(Path.GetFileName).Order().ToList();
        Assert.NotEmpty(sourceFiles);
        Assert.True(sourceFiles.SequenceEqual(copyFiles), "charts/amphora/crds differs from crds/: run charts/sync-crds.sh");
        foreach (var f in sourceFiles)
            Assert.True(File.ReadAllBytes(Path.Combine(source, f!)).SequenceEqual(File.ReadAllBytes(Path.Combine(copy, f!))),
                $"charts/amphora/crds/{f} differs from crds/{f}: run charts/sync-crds.sh");
    }
}
