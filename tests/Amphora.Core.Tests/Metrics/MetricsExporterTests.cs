using System.Diagnostics.Metrics;
using Amphora.Metrics;
using Xunit;

namespace Amphora.Core.Tests.Metrics;

/// <summary>The exposition with and without the workspace label, and observable instruments per scrape.</summary>
public sealed class MetricsExporterTests
{
    private static readonly KeyValuePair<string, object?> Reason = new("reason", "too-old");

    private static KeyValuePair<string, object?> Ws(string id) => new(MetricsExporter.WorkspaceLabel, id);

    [Fact]
    public void Without_the_workspace_label_series_add_up_and_no_workspace_id_is_written()
    {
        using var exporter = new MetricsExporter(workspaceLabel: false);
        using var meter = new Meter("Amphora.Test." + Guid.NewGuid().ToString("N"));
        var samples = meter.CreateCounter<long>("amphora_test_samples");
        var latency = meter.CreateHistogram<double>("amphora_test_latency_seconds");
        var active = new Dictionary<string, long> { ["tenant-a"] = 3, ["tenant-b"] = 4 };
        meter.CreateObservableGauge("amphora_test_active_series",
            () => active.Select(kv => new Measurement<long>(kv.Value, Ws(kv.Key))));
        meter.CreateObservableGauge("amphora_test_last_success_timestamp_seconds",
            () => new[] { new Measurement<long>(1700000500, Ws("tenant-a")), new Measurement<long>(1700000100, Ws("tenant-b")) },
            unit: null, description: null,
            tags: [new KeyValuePair<string, object?>(MetricsExporter.AcrossWorkspacesTag, MetricsExporter.AcrossWorkspacesMin)]);

        samples.Add(5, Ws("tenant-a"), Reason);
        samples.Add(7, Ws("tenant-b"), Reason);
        latency.Record(0.02, Ws("tenant-a"));
        latency.Record(3, Ws("tenant-b"));

        string text = exporter.Scrape();
        Assert.DoesNotContain("tenant-", text);
        Assert.DoesNotContain("workspace=", text);
        Assert.Contains("amphora_test_samples_total{reason=\"too-old\"} 12\n", text);
        Assert.Contains("amphora_test_latency_seconds_count 2\n", text);
        Assert.Contains("amphora_test_latency_seconds_bucket{le=\"0.025\"} 1\n", text);
        Assert.Contains("amphora_test_active_series 7\n", text);
        Assert.Contains("amphora_test_last_success_timestamp_seconds 1700000100\n", text);

        // The next scrape observes again: the gauge is replaced, not added to the last scrape's figure.
        active["tenant-a"] = 10;
        Assert.Contains("amphora_test_active_series 14\n", exporter.Scrape());
    }

    [Fact]
    public void With_the_workspace_label_each_workspace_keeps_its_series_and_an_unobserved_one_disappears()
    {
        using var exporter = new MetricsExporter(workspaceLabel: true);
        using var meter = new Meter("Amphora.Test." + Guid.NewGuid().ToString("N"));
        var samples = meter.CreateCounter<long>("amphora_test_samples");
        var active = new Dictionary<string, long> { ["tenant-a"] = 3, ["tenant-b"] = 4 };
        meter.CreateObservableGauge("amphora_test_active_series",
            () => active.Select(kv => new Measurement<long>(kv.Value, Ws(kv.Key))));
        samples.Add(5, Ws("tenant-a"));
        samples.Add(7, Ws("tenant-b"));

        string text = exporter.Scrape();
        Assert.Contains("amphora_test_samples_total{workspace=\"tenant-a\"} 5\n", text);
        Assert.Contains("amphora_test_samples_total{workspace=\"tenant-b\"} 7\n", text);
        Assert.Contains("amphora_test_active_series{workspace=\"tenant-b\"} 4\n", text);

        active.Remove("tenant-b");
        text = exporter.Scrape();
        Assert.Contains("amphora_test_active_series{workspace=\"tenant-a\"} 3\n", text);
        Assert.DoesNotContain("amphora_test_active_series{workspace=\"tenant-b\"}", text);
    }

    [Fact]
    public void A_histogram_with_bucket_advice_is_written_with_those_buckets()
    {
        using var exporter = new MetricsExporter();
        using var meter = new Meter("Amphora.Test." + Guid.NewGuid().ToString("N"));
        var batch = meter.CreateHistogram<long>("amphora_test_batch_size", unit: null, description: null, tags: null,
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = [1, 4, 16] });
        batch.Record(3);
        batch.Record(20);

        string text = exporter.Scrape();
        foreach (var (le, count) in new[] { ("1", 0), ("4", 1), ("16", 1), ("+Inf", 2) })
            Assert.Contains($"amphora_test_batch_size_bucket{{le=\"{le}\"}} {count}\n", text);
        Assert.DoesNotContain("amphora_test_batch_size_bucket{le=\"0.005\"}", text);
    }
}
