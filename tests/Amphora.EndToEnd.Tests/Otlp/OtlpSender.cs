using System.Diagnostics;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Otlp;

/// <summary>Runs the OpenTelemetry JS sender and reads what a query answers.</summary>
public static class OtlpSender
{
    private static readonly string SenderDir = Path.Combine(RepoPaths.Root, "tests", "Amphora.EndToEnd.Tests", "Otlp", "sender");

    /// <summary>An instant query now, each series as <c>name{a="b", ...} value</c>, sorted.</summary>
    public static async Task<List<string>> QueryAsync(Uri baseAddress, string workspace, string query)
    {
        using var api = new PromApiClient(baseAddress, "/prometheus/api/v1", workspace);
        var response = await api.QueryAsync(query);
        Assert.True(response.Status == System.Net.HttpStatusCode.OK, response.Body);
        var lines = new List<string>();
        foreach (var r in response.Json.GetProperty("data").GetProperty("result").EnumerateArray())
        {
            string name = "";
            var labels = new List<string>();
            foreach (var l in r.GetProperty("metric").EnumerateObject())
            {
                if (l.Name == "__name__") name = l.Value.GetString()!;
                else labels.Add($"{l.Name}=\"{l.Value.GetString()}\"");
            }
            labels.Sort(StringComparer.Ordinal);
            lines.Add($"{name}{{{string.Join(", ", labels)}}} {r.GetProperty("value")[1].GetString()}");
        }
        lines.Sort(StringComparer.Ordinal);
        return lines;
    }

    /// <summary>Runs send-metrics.js (the real exporter from npm) against the amphora; returns its output.</summary>
    public static async Task<(string Stdout, string Stderr)> SendAsync(Uri baseAddress, string path, string workspace, string protocol, string prefix,
        string temporality = "cumulative")
    {
        if (!Directory.Exists(Path.Combine(SenderDir, "node_modules", "@opentelemetry", "exporter-metrics-otlp-proto")))
            throw new InvalidOperationException($"the OpenTelemetry JS exporter is not installed: run npm ci in {SenderDir} (test.sh does)");
        var psi = new ProcessStartInfo("node", [Path.Combine(SenderDir, "send-metrics.js"), new Uri(baseAddress, path).ToString(),
            protocol, prefix, temporality])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = SenderDir,
        };
        if (path.StartsWith("/otlp/", StringComparison.Ordinal)) psi.Environment["OTLP_ORG_ID"] = workspace;
        using var node = Process.Start(psi) ?? throw new InvalidOperationException("node did not start");
        var stdout = node.StandardOutput.ReadToEndAsync();
        var stderr = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await node.WaitForExitAsync(timeout.Token);
        return (await stdout, await stderr);
    }
}
