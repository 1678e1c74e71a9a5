using System.Diagnostics;
using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>/ready and /metrics of a running amphora: the exposition is valid for promtool and counts what happened.</summary>
public sealed class OperabilityTests(AmphoraFixture amphora) : IClassFixture<AmphoraFixture>
{
    [Fact]
    public async Task Public_metrics_count_samples_by_reason_and_requests_by_route_without_naming_any_workspace()
    {
        string metrics = await PushOneGoodOneBadAndScrapeAsync(amphora.Process, "ops-metrics-public");
        Assert.DoesNotContain("ops-metrics-public", metrics);
        Assert.DoesNotContain("workspace=", metrics);
        Assert.Matches("amphora_distributor_discarded_samples_total\\{reason=\"err-amphora-missing-metric-name\"\\} [1-9]", metrics);
        Assert.Matches("amphora_ingester_active_series [1-9]", metrics);
        await LintAsync(metrics);
    }

    [Fact]
    public async Task With_metrics_per_workspace_series_are_labelled_with_their_workspace()
    {
        using var process = AmphoraProcess.Start(extraArgs: "--metrics.per-workspace");
        await process.WaitReadyAsync();
        try
        {
            string metrics = await PushOneGoodOneBadAndScrapeAsync(process, "ops-metrics");
            Assert.Contains("amphora_distributor_received_samples_total{workspace=\"ops-metrics\"} 3", metrics);
            Assert.Contains("amphora_distributor_discarded_samples_total{reason=\"err-amphora-missing-metric-name\",workspace=\"ops-metrics\"} 2", metrics);
            Assert.Contains("amphora_ingester_active_series{workspace=\"ops-metrics\"} 1", metrics);
            await LintAsync(metrics);
        }
        finally
        {
            await process.TerminateAsync(TimeSpan.FromSeconds(30));
        }
    }

    /// <summary>One series stored, one refused (2 samples without a metric name); returns /metrics after /ready.</summary>
    private static async Task<string> PushOneGoodOneBadAndScrapeAsync(AmphoraProcess process, string workspace)
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var writer = new RemoteWriteClient(process.BaseAddress);
        Assert.Equal(HttpStatusCode.BadRequest, (await writer.PushAsync(workspace, new WriteRequestBuilder()
            .Series("__name__=\"ops_ok\"", (now, 1))
            .Series("job=\"no-name\"", (now, 2), (now + 1, 3)))).Status);

        using var http = new HttpClient { BaseAddress = process.BaseAddress };
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("amphora_http_requests_total{method=\"POST\",route=\"/api/v1/push\",status=\"400\"}", metrics);
        return metrics;
    }

    private static async Task LintAsync(string metrics)
    {
        // Debian's promtool lints the exposition format.
        var psi = new ProcessStartInfo(RepoPaths.RequireProgram("promtool", "prometheus"), ["check", "metrics"])
        {
            RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
        };
        using var promtool = Process.Start(psi)!;
        await promtool.StandardInput.WriteAsync(metrics);
        promtool.StandardInput.Close();
        string problems = await promtool.StandardOutput.ReadToEndAsync() + await promtool.StandardError.ReadToEndAsync();
        await promtool.WaitForExitAsync();
        Assert.True(promtool.ExitCode == 0, "promtool check metrics: " + problems);
    }
}
