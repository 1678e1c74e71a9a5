using System.Text;
using YamlDotNet.RepresentationModel;

namespace Amphora.Server.Config;

/// <summary>Thrown for a configuration a user must fix; the message says what and how.</summary>
public sealed class ConfigException(string message) : Exception(message);

/// <summary>
/// Builds an <see cref="AmphoraConfig"/>: defaults, then the YAML file named by <c>--config</c>, then the command-line flags.
/// Unknown flags and unknown YAML keys are errors naming the key.
/// </summary>
public static class ConfigLoader
{
    public static AmphoraConfig Load(IReadOnlyList<string> args, out bool helpRequested)
    {
        helpRequested = false;
        var flags = new List<(OptionSpec Spec, string Value)>();
        for (int i = 0; i < args.Count; i++)
        {
            string arg = args[i];
            if (arg is "--help" or "-h" or "help") { helpRequested = true; continue; }
            if (!arg.StartsWith("--", StringComparison.Ordinal))
                throw new ConfigException($"unexpected argument \"{arg}\"; options look like --name=value (see --help)");
            string name = arg[2..];
            string? value = null;
            int eq = name.IndexOf('=');
            if (eq >= 0) { value = name[(eq + 1)..]; name = name[..eq]; }
            var spec = Options.Find(name) ?? throw new ConfigException($"unknown option --{name} (see --help for the list)");
            if (value is null)
            {
                if (spec.IsSwitch) value = "true";
                else if (i + 1 < args.Count) value = args[++i];
                else throw new ConfigException($"option --{name} needs a value");
            }
            flags.Add((spec, value));
        }

        var config = new AmphoraConfig();
        var configFile = flags.LastOrDefault(f => f.Spec.Flag == "config").Value;
        if (!string.IsNullOrEmpty(configFile))
        {
            if (!File.Exists(configFile)) throw new ConfigException($"--config: file \"{configFile}\" does not exist");
            ApplyYaml(config, File.ReadAllText(configFile, Encoding.UTF8), configFile);
        }
        foreach (var (spec, value) in flags)
            ApplyOne(config, spec, value, $"--{spec.Flag}");
        return config;
    }

    public static void ApplyYaml(AmphoraConfig config, string yaml, string source)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new ConfigException($"{source}: invalid YAML at line {e.Start.Line}: {e.Message}");
        }
        if (stream.Documents.Count == 0) return;
        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            if (stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" }) return;
            throw new ConfigException($"{source}: the top level must be a mapping of option names to values");
        }
        Walk(config, root, "", source);
    }

    private static void Walk(AmphoraConfig config, YamlMappingNode node, string prefix, string source)
    {
        foreach (var (keyNode, valueNode) in node.Children)
        {
            string key = ((YamlScalarNode)keyNode).Value ?? "";
            string path = prefix.Length == 0 ? key : prefix + "." + key;
            switch (valueNode)
            {
                case YamlMappingNode child:
                    if (!Options.All.Any(o => o.YamlPath.StartsWith(path + ".", StringComparison.Ordinal)))
                        throw new ConfigException($"{source}: unknown configuration key \"{path}\" (line {keyNode.Start.Line})");
                    Walk(config, child, path, source);
                    break;
                case YamlScalarNode scalar:
                    var spec = Options.FindByYamlPath(path)
                        ?? throw new ConfigException($"{source}: unknown configuration key \"{path}\" (line {keyNode.Start.Line})");
                    ApplyOne(config, spec, scalar.Value ?? "", $"{source}: key \"{path}\"");
                    break;
                default:
                    throw new ConfigException($"{source}: key \"{path}\" must be a single value (line {keyNode.Start.Line})");
            }
        }
    }

    private static void ApplyOne(AmphoraConfig config, OptionSpec spec, string value, string where)
    {
        try
        {
            spec.Apply(config, value);
        }
        catch (FormatException e)
        {
            throw new ConfigException($"{where}: {e.Message}");
        }
    }

    /// <summary>The text of <c>--help</c>: every option with its default and a sentence of help.</summary>
    public static string HelpText()
    {
        var sb = new StringBuilder();
        sb.AppendLine("amphora: a Prometheus-compatible metrics service (remote write in, PromQL out).");
        sb.AppendLine();
        sb.AppendLine("Usage: amphora [--option=value ...]      run the service (--target=all by default)");
        sb.AppendLine("       amphora keys create|list|disable|enable|delete ...   manage access keys in --data-dir (amphora keys --help)");
        sb.AppendLine("       amphora --version                 print the version, the commit and the .NET version");
        sb.AppendLine("Every option can also be set in the YAML file given by --config: dots nest, dashes become underscores");
        sb.AppendLine("(--wal.fsync=batch is `wal: {fsync: batch}`, --data-dir is `data_dir`). Flags override the file.");
        sb.AppendLine();
        sb.AppendLine("Options:");
        foreach (var o in Options.All)
        {
            string def = o.Default.Length == 0 ? "" : $" (default: {o.Default})";
            sb.AppendLine($"  --{o.Flag}");
            sb.AppendLine($"      {o.Help}{def}");
        }
        return sb.ToString();
    }
}
