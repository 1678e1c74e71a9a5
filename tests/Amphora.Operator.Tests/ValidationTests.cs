using Amphora.Operator.Kube;
using Amphora.Operator.Validation;
using Xunit;

namespace Amphora.Operator.Tests;

/// <summary>The checks that need no API server: rule files, scrape configurations, the work queue's backoff.</summary>
public sealed class ValidationTests
{
    [Theory]
    [InlineData("groups:\n  - name: g\n    rules:\n      - record: a\n        expr: sum(\n", 5, "group \"g\", rule 1 (record \"a\"): could not parse expression:")]
    [InlineData("groups:\n  - name: g\n    rules: []\n  - name: g\n    rules: []\n", 4, "the group name is repeated")]
    [InlineData("groups:\n  - name: g\n    interval: often\n    rules: []\n", 3, "interval: \"often\" is not a valid duration")]
    [InlineData("groups:\n  - name: g\n    rules:\n      - expr: up\n", 4, "one of 'record' or 'alert' must be set")]
    [InlineData("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        for: later\n", 6, "for: \"later\" is not a valid duration")]
    [InlineData("groups:\n  - name: g\n    rules:\n      - record: 1bad\n        expr: up\n", 4, "not a valid metric name")]
    [InlineData("groups:\n  - name: g\n    rulez: []\n", 3, "field rulez is not allowed")]
    [InlineData("groups:\n  - name: g\n    rules: [\n", 4, "invalid YAML")]
    [InlineData("groups:\n  - name: g\n    rules:\n      - alert: A\n        expr: up\n        labels: {0bad: x}\n", 6, "invalid label name \"0bad\"")]
    public void A_broken_rule_file_is_reported_at_its_line(string file, int line, string message)
    {
        var problem = RuleFileValidator.Validate(file);
        Assert.NotNull(problem);
        Assert.Equal(line, problem.Line);
        Assert.Contains(message, problem.Message);
    }

    [Fact]
    public void A_valid_rule_file_passes() =>
        Assert.Null(RuleFileValidator.Validate(
            "groups:\n  - name: g\n    interval: 1m\n    rules:\n      - record: job:up:sum\n        expr: sum by (job) (up)\n" +
            "      - alert: Down\n        expr: up == 0\n        for: 5m\n        labels: {severity: page}\n        annotations: {summary: x}\n"));

    [Theory]
    [InlineData("route:\n  receiver: r\nreceivers:\n  - name: r\n")]
    [InlineData("  # indented first line: an explicit indentation keeps it\nroute: {receiver: r}\r\nreceivers: [{name: r}]")]
    [InlineData("global:\n  resolve_timeout: 5m\n\nroute:\n  receiver: 'a: b'\n")]
    public void An_Alertmanager_configuration_is_sent_as_AMP_s_definition_and_comes_back_as_written(string config)
    {
        var stream = new YamlDotNet.RepresentationModel.YamlStream();
        stream.Load(new StringReader(Amphora.Operator.ControlPlane.ControlPlaneClient.AmpDefinition(config)));
        var root = (YamlDotNet.RepresentationModel.YamlMappingNode)stream.Documents[0].RootNode;
        Assert.Single(root.Children);
        var value = (YamlDotNet.RepresentationModel.YamlScalarNode)root.Children[new YamlDotNet.RepresentationModel.YamlScalarNode("alertmanager_config")];
        Assert.Equal(config.ReplaceLineEndings("\n").TrimEnd('\n') + "\n", value.Value);
    }

    [Fact]
    public void The_collector_configuration_adds_remote_write_with_the_mounted_key_and_a_default_interval()
    {
        var (config, problem) = ScrapeConfigBuilder.Build("scrape_configs:\n  - job_name: n\n    static_configs: [{targets: ['a:1']}]\n",
            "http://amphora/workspaces/ws-1/api/v1/remote_write", "15s");
        Assert.Null(problem);
        Assert.Contains("scrape_interval: 15s", config);
        Assert.Contains("url: http://amphora/workspaces/ws-1/api/v1/remote_write", config);
        Assert.Contains($"credentials_file: {ScrapeConfigBuilder.CredentialsFile}", config);
    }

    [Theory]
    [InlineData("scrape_configs:\n  - job_name: a\nremote_write: []\n", 3, "remote_write is set by the operator")]
    [InlineData("scrape_configs:\n  - job_name: a\n  - job_name: a\n", 3, "used twice")]
    [InlineData("scrape_configs:\n  - static_configs: []\n", 2, "job_name is required")]
    [InlineData("global: {}\nrule_files: [x]\nscrape_configs:\n  - job_name: a\n", 2, "not supported by Prometheus in agent mode")]
    [InlineData("scrape_configs: []\n", 1, "at least one scrape configuration")]
    [InlineData("scrape_configs:\n  - job_name: [\n", 3, "invalid YAML")]
    public void A_scrape_configuration_the_collector_cannot_run_is_reported_at_its_line(string text, int line, string message)
    {
        var (config, problem) = ScrapeConfigBuilder.Build(text, "http://x/", null);
        Assert.Null(config);
        Assert.NotNull(problem);
        Assert.Equal(line, problem.Line);
        Assert.Contains(message, problem.Message);
    }

    [Fact]
    public async Task The_work_queue_backs_off_exponentially_per_key_and_forgets_on_success()
    {
        var queue = new WorkQueue(TimeSpan.FromMilliseconds(10), TimeSpan.FromMilliseconds(80));
        Assert.Equal([10, 20, 40, 80, 80], Enumerable.Range(0, 5).Select(_ => queue.AddWithBackoff("a").TotalMilliseconds));
        queue.Forget("a");
        Assert.Equal(10, queue.AddWithBackoff("a").TotalMilliseconds);
        Assert.Equal(10, queue.AddWithBackoff("b").TotalMilliseconds);

        // Queued many times, handed out once; added while processing, handed out again after Done.
        queue.Add("c");
        queue.Add("c");
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        var taken = new List<string>();
        for (int i = 0; i < 3; i++) taken.Add(await queue.TakeAsync(cts.Token));
        Assert.Equal(["a", "b", "c"], taken.Order());
        queue.Add("c");
        queue.Done("c");
        Assert.Equal("c", await queue.TakeAsync(cts.Token));
    }
}
