using System.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Amphora.Operator.Validation;

/// <summary>
/// Checks an Alertmanager configuration with Alertmanager's own <c>amtool check-config</c> when it is installed (the
/// authority on what Alertmanager loads). Without amtool it checks what it can itself (YAML, a route with a receiver, the
/// receivers list) and says so in <see cref="Checker"/>.
/// </summary>
public sealed class AlertmanagerValidator(string? amtoolPath)
{
    private readonly string? _amtool = amtoolPath ?? FindOnPath("amtool");

    /// <summary>What checked the configuration, for the condition message.</summary>
    public string Checker => _amtool is null ? "a structural check (amtool not found)" : "amtool check-config";

    public async Task<FileProblem?> ValidateAsync(string text, CancellationToken ct)
    {
        var structural = Structural(text);
        if (structural is not null || _amtool is null) return structural;
        string dir = Path.Combine(Path.GetTempPath(), "amphora-operator-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "alertmanager.yml");
            await File.WriteAllTextAsync(file, text, ct);
            var psi = new ProcessStartInfo(_amtool) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            psi.ArgumentList.Add("check-config");
            psi.ArgumentList.Add(file);
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync(ct);
            var stderr = p.StandardError.ReadToEndAsync(ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(20));
            try
            {
                await p.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                p.Kill();
                return new FileProblem(0, "amtool check-config did not finish in 20s");
            }
            if (p.ExitCode == 0) return null;
            string output = ((await stdout) + (await stderr)).Replace(file, "alertmanager.yml", StringComparison.Ordinal).Trim();
            return new FileProblem(0, "amtool check-config: " + string.Join(' ', output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static FileProblem? Structural(string text)
    {
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode root)
                return new FileProblem(1, "an Alertmanager configuration must be a mapping");
            if (!root.Children.TryGetValue(new YamlScalarNode("route"), out var route) || route is not YamlMappingNode)
                return new FileProblem((int)root.Start.Line, "route: a route mapping is required");
            if (!root.Children.TryGetValue(new YamlScalarNode("receivers"), out var receivers) || receivers is not YamlSequenceNode)
                return new FileProblem((int)root.Start.Line, "receivers: a list of receivers is required");
            return null;
        }
        catch (YamlException e)
        {
            return new FileProblem((int)e.Start.Line, "invalid YAML: " + (e.InnerException?.Message ?? e.Message));
        }
    }

    private static string? FindOnPath(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
