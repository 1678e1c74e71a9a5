using System.Diagnostics;
using System.Xml.Linq;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>
/// A new user's clone: the repository cloned into a temporary folder with no <c>../shared</c> beside it builds with the test
/// command's build (<c>dotnet build Cluster.sln -c Release</c>), and the tests that need shared assets (trait
/// <c>SharedAssets</c>) report themselves skipped with the reason, never failed, even when the outer run requires the assets.
/// Costs one more solution build; the figures are printed.
/// </summary>
public sealed class FreshCloneTests(ITestOutputHelper output)
{
    /// <summary>The variables a clone of a new user does not have; the outer run's values must not leak into it.</summary>
    private static readonly string[] AssetVariables =
        ["AMPHORA_REQUIRE_SHARED_ASSETS", "AMPHORA_PROMQL_TESTDATA", "KUBEBUILDER_ASSETS", "AMPHORA_CHART_RENDER"];

    [Fact]
    public async Task A_clone_without_shared_beside_it_builds_and_reports_the_shared_asset_tests_as_skipped_with_reasons()
    {
        string parent = RepoPaths.NewTempDir("amphora-clone");
        try
        {
            string clone = Path.Combine(parent, "amphora");
            Assert.False(Directory.Exists(Path.Combine(parent, "shared")));
            var clock = Stopwatch.StartNew();
            await RunAsync(parent, "git", "clone", "--quiet", RepoPaths.Root, clone);
            output.WriteLine($"clone: {clock.Elapsed.TotalSeconds:F1} s");

            clock.Restart();
            await RunAsync(clone, "dotnet", "build", "Cluster.sln", "-c", "Release", "-nologo", "-v", "quiet", "-nodeReuse:false");
            output.WriteLine($"build: {clock.Elapsed.TotalSeconds:F1} s");

            clock.Restart();
            string results = Path.Combine(parent, "results");
            await RunAsync(clone, "dotnet", "test", "Cluster.sln", "-c", "Release", "--no-build", "-nologo",
                "--filter", "SharedAssets=promql-testdata|SharedAssets=kubernetes|SharedAssets=chart-render", "--logger", "trx", "--results-directory", results);
            output.WriteLine($"test: {clock.Elapsed.TotalSeconds:F1} s");

            var outcomes = Directory.GetFiles(results, "*.trx").SelectMany(ReadResults).ToList();
            foreach (var o in outcomes) output.WriteLine($"{o.Outcome} {o.Name}: {o.Message}");
            Assert.NotEmpty(outcomes);
            Assert.Contains(outcomes, o => o.Name.EndsWith("PromqlScriptTests.Tier_one_conformance_scripts_pass_except_the_known_failures", StringComparison.Ordinal));
            Assert.All(outcomes, o =>
            {
                Assert.Equal("NotExecuted", o.Outcome);
                Assert.Matches("(AMPHORA_PROMQL_TESTDATA|KUBEBUILDER_ASSETS|AMPHORA_CHART_RENDER) is unset and .*shared.* does not exist\\. Set ", o.Message);
            });
        }
        finally
        {
            try { Directory.Delete(parent, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    private sealed record TestResult(string Name, string Outcome, string Message);

    private static IEnumerable<TestResult> ReadResults(string trx)
    {
        XNamespace ns = "http://microsoft.com/schemas/VisualStudio/TeamTest/2010";
        foreach (var r in XDocument.Load(trx).Descendants(ns + "UnitTestResult"))
            yield return new TestResult((string?)r.Attribute("testName") ?? "", (string?)r.Attribute("outcome") ?? "",
                r.Descendants(ns + "Message").FirstOrDefault()?.Value ?? "");
    }

    /// <summary>Runs a command to completion (bounded), failing with its output when it exits non-zero.</summary>
    private static async Task RunAsync(string workingDirectory, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = workingDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var v in AssetVariables) psi.Environment.Remove(v);
        // The outer dotnet test's MSBuild and test-host settings would steer the inner build.
        foreach (var key in psi.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)
                     || k.StartsWith("VSTEST", StringComparison.OrdinalIgnoreCase) || k.StartsWith("TESTINGPLATFORM", StringComparison.OrdinalIgnoreCase)).ToList())
            psi.Environment.Remove(key);
        psi.Environment["MSBUILDDISABLENODEREUSE"] = "1";
        psi.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        psi.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromMinutes(30));
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {string.Join(' ', args)} took over 30 minutes:\n{await stdout}\n{await stderr}");
        }
        string text = await stdout + await stderr;
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)} exited with {process.ExitCode}:\n{text}");
    }
}
