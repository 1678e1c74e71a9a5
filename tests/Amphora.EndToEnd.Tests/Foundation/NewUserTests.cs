using System.Diagnostics;
using System.Text.RegularExpressions;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>What a new user meets first: <c>--version</c>, <c>--help</c>, where the data goes, what the first start says.</summary>
public sealed class NewUserTests
{
    [Fact]
    public async Task Version_prints_the_version_the_commit_and_the_dotnet_version()
    {
        var (code, text) = await RunAsync(Environment.CurrentDirectory, "dotnet", RepoPaths.AmphoraDll, "--version");
        Assert.Equal(0, code);
        Assert.Matches(@"^amphora \d+\.\d+\.\d+\S* \(commit ([0-9a-f]{12}|unknown), \.NET 10\.\d+\.\d+\)\n$", text);
    }

    [Fact]
    public async Task Help_lists_the_keys_subcommand_and_version()
    {
        var (code, text) = await RunAsync(Environment.CurrentDirectory, "dotnet", RepoPaths.AmphoraDll, "--help");
        Assert.Equal(0, code);
        Assert.Contains("amphora keys create|list|disable|enable|delete", text);
        Assert.Contains("amphora --version", text);
        Assert.Contains("--log.instance", text);
    }

    [Fact]
    public void Data_folders_are_ignored_by_git_wherever_they_are()
    {
        foreach (string path in new[] { "data/x", "server/data/master.key", "some/nested/data/wal/00000000" })
        {
            var psi = new ProcessStartInfo("git", ["check-ignore", "-q", "--no-index", path]) { WorkingDirectory = RepoPaths.Root };
            using var git = Process.Start(psi)!;
            git.WaitForExit();
            Assert.True(git.ExitCode == 0, $"git does not ignore {path}");
        }
    }

    /// <summary>
    /// <c>dotnet run --project server</c> (the README's command) keeps its data in <c>./data</c> of the directory it was run
    /// in, not in the project folder, and its first start names that folder and the credentials file.
    /// </summary>
    [Fact]
    public async Task Dotnet_run_keeps_data_in_the_invoking_directory_and_the_first_start_says_where()
    {
        string cwd = RepoPaths.NewTempDir("amphora-cwd");
        bool projectDataBefore = Directory.Exists(Path.Combine(RepoPaths.Root, "server", "data"));
        int port = FreePort.Next();
        var run = new ChildProcess("dotnet", ["run", "--project", Path.Combine(RepoPaths.Root, "server"), "-c", Configuration, "--no-build",
            "--", $"--listen=127.0.0.1:{port}"], cwd);
        try
        {
            string data = Path.Combine(cwd, "data");
            await Eventually.HoldsAsync(() => Task.FromResult(run.Output.Contains("amphora ready", StringComparison.Ordinal) || run.HasExited),
                () => "amphora ready:\n" + run.Output, TimeSpan.FromSeconds(90));
            Assert.False(run.HasExited, run.Output);
            Assert.True(File.Exists(Path.Combine(data, "bootstrap-credentials.json")), run.Output);
            Assert.True(File.Exists(Path.Combine(data, "master.key")), run.Output);
            Assert.Equal(projectDataBefore, Directory.Exists(Path.Combine(RepoPaths.Root, "server", "data")));
            Assert.Matches($"info all/127\\.0\\.0\\.1:{port} amphora: amphora .* starting: target all, listening on 127\\.0\\.0\\.1:{port}, data in {Regex.Escape(data)}\n", run.Output + "\n");
            Assert.Contains($"They are also in {Path.Combine(data, "bootstrap-credentials.json")}", run.Output);
            // Log lines (they start with a timestamp) name the process; no Kestrel warning about HTTP/2 on a plain HTTP listener.
            var logLines = run.Output.Split('\n').Where(l => Regex.IsMatch(l, @"^\d{4}-\d\d-\d\dT")).ToList();
            Assert.NotEmpty(logLines);
            Assert.All(logLines, l => Assert.Contains($" all/127.0.0.1:{port} ", l));
            Assert.DoesNotContain("HTTP/2", run.Output);
        }
        finally
        {
            // Kills the whole tree while `dotnet run` still runs, so the amphora it started cannot outlive the test.
            run.Dispose();
            try { Directory.Delete(cwd, recursive: true); } catch (IOException) { }
        }
    }

#if DEBUG
    private const string Configuration = "Debug";
#else
    private const string Configuration = "Release";
#endif

    private static async Task<(int Code, string Text)> RunAsync(string cwd, string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await p.WaitForExitAsync(deadline.Token);
        return (p.ExitCode, await stdout + await stderr);
    }
}
