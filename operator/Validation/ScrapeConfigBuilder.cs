using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Amphora.Operator.Validation;

/// <summary>
/// Turns a Scraper's <c>scrapeConfig</c> into the collector's <c>prometheus.yml</c>: the user's <c>global</c> and
/// <c>scrape_configs</c>, plus a <c>remote_write</c> to the workspace authenticated with the write key's Secret mounted at
/// <see cref="WriteKeyDir"/>. What Prometheus in agent mode would refuse, or what the operator owns (remote_write), is a
/// <see cref="FileProblem"/> naming the line.
/// </summary>
public static class ScrapeConfigBuilder
{
    /// <summary>Where the collector's Deployment mounts the write key's Secret.</summary>
    public const string WriteKeyDir = "/etc/amphora/remote-write";
    public const string CredentialsFile = WriteKeyDir + "/bearerToken";

    private static readonly HashSet<string> TopLevel = ["global", "scrape_configs", "scrape_config_files", "storage", "tracing"];

    public static (string? Config, FileProblem? Problem) Build(string scrapeConfig, string remoteWriteUrl, string? defaultInterval)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(scrapeConfig));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode m)
                return (null, new FileProblem(1, "the scrape configuration must be a mapping with scrape_configs"));
            root = m;
        }
        catch (YamlException e)
        {
            return (null, new FileProblem((int)e.Start.Line, "invalid YAML: " + (e.InnerException?.Message ?? e.Message)));
        }
        foreach (var (k, _) in root.Children)
        {
            string key = (k as YamlScalarNode)?.Value ?? "";
            if (key == "remote_write")
                return (null, new FileProblem((int)k.Start.Line, "remote_write is set by the operator (to the workspace); remove it"));
            if (key is "rule_files" or "alerting" or "remote_read")
                return (null, new FileProblem((int)k.Start.Line, $"{key} is not supported by Prometheus in agent mode; use a RuleGroupsNamespace or AlertManagerDefinition"));
            if (!TopLevel.Contains(key))
                return (null, new FileProblem((int)k.Start.Line, $"field {key} is not a Prometheus configuration field"));
        }
        if (!root.Children.TryGetValue(new YamlScalarNode("scrape_configs"), out var sc) || sc is not YamlSequenceNode jobs || jobs.Children.Count == 0)
            return (null, new FileProblem((int)root.Start.Line, "scrape_configs: at least one scrape configuration is required"));
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var job in jobs)
        {
            if (job is not YamlMappingNode j)
                return (null, new FileProblem((int)job.Start.Line, "each entry of scrape_configs must be a mapping"));
            if (!j.Children.TryGetValue(new YamlScalarNode("job_name"), out var name) || name is not YamlScalarNode { Value.Length: > 0 } n)
                return (null, new FileProblem((int)j.Start.Line, "scrape_configs: job_name is required"));
            if (!names.Add(n.Value!))
                return (null, new FileProblem((int)n.Start.Line, $"scrape_configs: job_name \"{n.Value}\" is used twice"));
        }
        if (!root.Children.ContainsKey(new YamlScalarNode("global")) && defaultInterval is not null)
            root.Children.Insert(0, new YamlScalarNode("global"), new YamlMappingNode { { "scrape_interval", defaultInterval } });
        root.Add("remote_write", new YamlSequenceNode(new YamlMappingNode
        {
            { "url", remoteWriteUrl },
            { "authorization", new YamlMappingNode { { "type", "Bearer" }, { "credentials_file", CredentialsFile } } },
        }));
        var writer = new StringWriter();
        new YamlStream(new YamlDocument(root)).Save(writer, assignAnchors: false);
        string text = writer.ToString();
        if (text.EndsWith("...\n", StringComparison.Ordinal)) text = text[..^4];
        return (text, null);
    }
}
