using System.Diagnostics;
using System.Net;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Foundation;

/// <summary>/ready and /metrics of a running amphora: the exposition is valid for promtool and counts what happened.</summary>
public sealed class OperabilityTests(AmphoraFixture amphora) : IClassFixture<AmphoraFixture>
{
    [Fact]
    public async Task Metrics_count_received_and_rejected_samples_by_workspace_and_reason_and_requests_by_route()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        using var writer = amphora.Writer();
        Assert.Equal(HttpStatusCode.BadRequest, (await writer.PushAsync("ops-metrics", new WriteRequestBuilder()
            .Series("__name__=\"ops_ok\"", (now, 1))
            .Series("job=\"no-name\"", (now, 2), (now + 1, 3)))).Status);

        using var http = new HttpClient { BaseAddress = amphora.Process.BaseAddress };
        string metrics = await http.GetStringAsync("/metrics");
        Assert.Contains("amphora_distributor_received_samples_total{workspace=\"ops-metrics\"} 3", metrics);
        Assert.Contains("amphora_distributor_discarded_samples_total{reason=\"err-amphora-missing-metric-name\",workspace=\"ops-metrics\"} 2", metrics);
        Assert.Contains("amphora_ingester_active_series{workspace=\"ops-metrics\"} 1", metrics);
        Assert.Contains("amphora_http_requests_total{method=\"POST\",route=\"/api/v1/push\",status=\"400\"}", metrics);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/ready")).StatusCode);

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
