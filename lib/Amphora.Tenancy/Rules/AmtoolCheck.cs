using System.Diagnostics;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Amphora.Tenancy.Rules;

/// <summary>
/// Checks an Alertmanager definition in AMP's form (<c>alertmanager_config: |</c> the Alertmanager configuration,
/// <c>template_files:</c> a mapping of file names to template texts) with the real Alertmanager's <c>amtool check-config</c>:
/// the configuration and its templates are written to a fresh temporary directory (so <c>templates:</c> entries naming a
/// template file resolve beside it), amtool runs there with a timeout, and the directory is removed. No lock is held; the
/// caller stores the definition only after this returns. A refused configuration is a 400 with amtool's message; without
/// amtool on this component the check is refused with 503 naming the tool and its package, and nothing is stored.
/// </summary>
public sealed class AmtoolCheck(string? amtoolPath = null, TimeSpan? timeout = null)
{
    public const string ConfigFileName = "alertmanager.yml";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(30);

    private readonly TimeSpan _timeout = timeout ?? DefaultTimeout;

    /// <summary>The parts of an AMP Alertmanager definition.</summary>
    public sealed record Definition(string AlertmanagerConfig, IReadOnlyDictionary<string, string> TemplateFiles);

    /// <summary>Reads AMP's definition YAML (400 naming the line when it is not one) and has amtool check it.</summary>
    public async Task<Definition> CheckAsync(byte[]? data, CancellationToken ct)
    {
        var definition = Parse(RuleValidation.DataText(data, "Alertmanager definition"));
        string amtool = Locate();
        string dir = Path.Combine(Path.GetTempPath(), "amphora-amtool-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            await File.WriteAllTextAsync(Path.Combine(dir, ConfigFileName), definition.AlertmanagerConfig, ct).ConfigureAwait(false);
            foreach (var (name, text) in definition.TemplateFiles)
                await File.WriteAllTextAsync(Path.Combine(dir, name), text, ct).ConfigureAwait(false);
            var (exitCode, output) = await RunAsync(amtool, dir, ct).ConfigureAwait(false);
            if (exitCode != 0)
                throw TenancyException.Validation("data: alertmanager_config: amtool check-config refused it: " + Summary(output, dir));
            return definition;
        }
        finally
        {
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }

    /// <summary>AMP's wrapper: a mapping with <c>alertmanager_config</c> (a string, required) and <c>template_files</c>
    /// (file name → text, optional), nothing else.</summary>
    public static Definition Parse(string text)
    {
        YamlMappingNode root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(text));
            if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode m)
                throw Invalid(1, "an Alertmanager definition is one YAML mapping with alertmanager_config and optional template_files");
            root = m;
        }
        catch (YamlException e)
        {
            throw Invalid((int)e.Start.Line, "invalid YAML: " + (e.InnerException?.Message ?? e.Message));
        }
        string? config = null;
        var templates = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (k, v) in root.Children)
        {
            string key = k is YamlScalarNode s ? s.Value ?? "" : "";
            switch (key)
            {
                case "alertmanager_config":
                    config = v is YamlScalarNode c ? c.Value : throw Invalid(Line(v), "alertmanager_config: must be a string holding the Alertmanager configuration (alertmanager_config: |)");
                    break;
                case "template_files":
                    if (v is not YamlMappingNode files) throw Invalid(Line(v), "template_files: must be a mapping of file names to template texts");
                    foreach (var (fk, fv) in files.Children)
                    {
                        string name = fk is YamlScalarNode n ? n.Value ?? "" : "";
                        if (TemplateFileName(name) is { } problem) throw Invalid(Line(fk), "template_files: " + problem);
                        templates[name] = fv is YamlScalarNode t ? t.Value ?? "" : throw Invalid(Line(fv), $"template_files: {name}: must be a string");
                    }
                    break;
                default:
                    throw Invalid(Line(k), $"field {key} is not allowed in an Alertmanager definition (allowed: alertmanager_config, template_files)");
            }
        }
        if (string.IsNullOrWhiteSpace(config)) throw Invalid(Line(root), "alertmanager_config: the Alertmanager configuration is required");
        CheckReferences(config);
        return new Definition(config, templates);
    }

    /// <summary>
    /// The configuration's <c>templates:</c> may name only template files of the definition (a name or a glob, no
    /// directory): amtool and the Alertmanager read what they name, and a path elsewhere would read this component's files.
    /// No setting may name a file (<see cref="CheckFileSettings"/>).
    /// </summary>
    private static void CheckReferences(string config)
    {
        YamlNode? root;
        try
        {
            var stream = new YamlStream();
            stream.Load(new StringReader(config));
            root = stream.Documents.Count == 0 ? null : stream.Documents[0].RootNode;
        }
        catch (YamlException e)
        {
            throw Invalid((int)e.Start.Line, "alertmanager_config: invalid YAML: " + (e.InnerException?.Message ?? e.Message), inConfig: true);
        }
        if (root is not null) CheckFileSettings(root, "");
        if (root is not YamlMappingNode m || !m.Children.TryGetValue(new YamlScalarNode("templates"), out var node)) return;
        if (node is not YamlSequenceNode list) throw Invalid(Line(node), "alertmanager_config: templates: must be a list of template file names", inConfig: true);
        foreach (var entry in list)
        {
            string name = entry is YamlScalarNode s ? s.Value ?? "" : "";
            if (TemplateFileName(name.Replace('*', 'x').Replace('?', 'x')) is not null)
                throw Invalid(Line(entry), $"alertmanager_config: templates: \"{name}\" must name template_files of this definition (a file name or a glob, no directory)", inConfig: true);
        }
    }

    /// <summary>
    /// Refuses every setting that names a file to read (<c>password_file</c>, <c>bearer_token_file</c>,
    /// <c>credentials_file</c>, <c>ca_file</c>, <c>cert_file</c>, <c>key_file</c>, <c>client_secret_file</c>,
    /// <c>api_key_file</c>, <c>api_url_file</c>, ...: in the Alertmanager's configuration they all end in <c>_file</c>): the
    /// workspace's Alertmanager runs on this component's machine, and a tenant must not make it read the server's files. The
    /// inline forms (<c>password</c>, <c>bearer_token</c>, <c>credentials</c>, <c>client_secret</c>, ...) stay allowed; a
    /// TLS client certificate cannot be given inline to Alertmanager 0.25.
    /// </summary>
    private static void CheckFileSettings(YamlNode node, string path)
    {
        switch (node)
        {
            case YamlMappingNode map:
                foreach (var (k, v) in map.Children)
                {
                    string key = k is YamlScalarNode s ? s.Value ?? "" : "";
                    string at = path.Length == 0 ? key : path + "." + key;
                    if (key.EndsWith("_file", StringComparison.Ordinal) || key.EndsWith("_files", StringComparison.Ordinal))
                        throw Invalid(Line(k), $"alertmanager_config: {at}: settings that read a file are not allowed (the workspace's " +
                            "Alertmanager must not read this server's files); give the value inline instead", inConfig: true);
                    if (key == "sigv4" && SigV4Problem(v) is { } problem)
                        throw Invalid(Line(k), $"alertmanager_config: {at}: {problem}", inConfig: true);
                    CheckFileSettings(v, at);
                }
                break;
            case YamlSequenceNode list:
                int i = 0;
                foreach (var item in list) CheckFileSettings(item, $"{path}[{i++}]");
                break;
        }
    }

    /// <summary>
    /// A sigv4 block must carry its own keys: without them (or with <c>profile</c> or <c>role_arn</c>) AWS's default credential
    /// chain would sign the tenant's notifications with whatever identity this machine has.
    /// </summary>
    private static string? SigV4Problem(YamlNode sigv4)
    {
        if (sigv4 is not YamlMappingNode map) return null;
        bool Has(string name) => map.Children.TryGetValue(new YamlScalarNode(name), out var n) && n is YamlScalarNode { Value.Length: > 0 };
        if (Has("profile")) return "sigv4.profile is not allowed (it reads this server's AWS profiles); give access_key and secret_key inline";
        if (Has("role_arn")) return "sigv4.role_arn is not allowed (the role would be assumed with this server's identity); give access_key and secret_key inline";
        if (!Has("access_key") || !Has("secret_key"))
            return "sigv4 needs access_key and secret_key inline (without them this server's own AWS credentials would sign the requests)";
        return null;
    }

    private static string? TemplateFileName(string name)
    {
        if (name.Length is 0 or > 255) return "a template file name must be 1 to 255 characters";
        if (name is "." or ".." || name == ConfigFileName) return $"\"{name}\" cannot be a template file name";
        foreach (char c in name)
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '.' or '_'))
                return $"\"{name}\": a template file name may contain only ASCII letters, digits, '-', '.' and '_'";
        return null;
    }

    /// <summary>The amtool to run: the configured path, else the first on the PATH; 503 when there is none.</summary>
    private string Locate()
    {
        if (amtoolPath is not null)
            return File.Exists(amtoolPath) ? amtoolPath : throw Missing($"{amtoolPath} does not exist");
        foreach (string dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, "amtool");
            if (File.Exists(candidate)) return candidate;
        }
        throw Missing("it is not on the PATH");
    }

    private static TenancyException Missing(string why) => new(TenancyErrorKind.ServiceUnavailable,
        $"cannot check the Alertmanager definition: amtool, the Alertmanager's checker (Debian package prometheus-alertmanager), is not installed on this component ({why}); nothing was stored");

    private async Task<(int ExitCode, string Output)> RunAsync(string amtool, string dir, CancellationToken ct)
    {
        var psi = new ProcessStartInfo(amtool)
        {
            WorkingDirectory = dir,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add("check-config");
        psi.ArgumentList.Add(ConfigFileName);
        Process process;
        try
        {
            process = Process.Start(psi) ?? throw Missing("it could not be started");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw Missing(e.Message);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(ct);
            var stderr = process.StandardError.ReadToEndAsync(ct);
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
            deadline.CancelAfter(_timeout);
            try
            {
                await process.WaitForExitAsync(deadline.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                if (ct.IsCancellationRequested) throw;
                throw new TenancyException(TenancyErrorKind.ServiceUnavailable,
                    $"cannot check the Alertmanager definition: amtool check-config did not finish in {_timeout.TotalSeconds:0}s; nothing was stored");
            }
            return (process.ExitCode, (await stdout.ConfigureAwait(false)) + (await stderr.ConfigureAwait(false)));
        }
    }

    /// <summary>amtool's reason (<c>Checking 'alertmanager.yml'  FAILED: reason</c>), without the temporary directory.</summary>
    private static string Summary(string output, string dir)
    {
        output = output.Replace(dir + Path.DirectorySeparatorChar, "", StringComparison.Ordinal);
        int failed = output.IndexOf("FAILED:", StringComparison.Ordinal);
        if (failed >= 0)
        {
            int end = output.IndexOf('\n', failed);
            return output[(failed + "FAILED:".Length)..(end < 0 ? output.Length : end)].Trim();
        }
        return string.Join(' ', output.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
    }

    private static int Line(YamlNode n) => (int)n.Start.Line;

    /// <param name="inConfig">The line is one of the <c>alertmanager_config</c> text, not of the definition.</param>
    private static TenancyException Invalid(int line, string message, bool inConfig = false) =>
        TenancyException.Validation($"data: invalid Alertmanager definition: {(inConfig ? "alertmanager_config " : "")}line {line}: {message}");
}
