using Amphora.PromQL.Engine;

namespace Amphora.Ruler.Templates;

/// <summary>
/// Expands an alerting rule's label and annotation templates as Prometheus does: the text is prefixed with the definitions
/// of <c>$labels</c>, <c>$externalLabels</c>, <c>$externalURL</c> and <c>$value</c>, and a template that fails gives
/// <c>&lt;error expanding template: ...&gt;</c> with Go's error text instead of its output.
/// </summary>
public sealed class TemplateExpander(string name, Uri externalUrl, long timeMs, Func<string, CancellationToken, Task<QueryValue>> query)
{
    public const string Definitions = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

    public long TimeMs { get; } = timeMs;

    public async Task<string> ExpandAsync(string text, object? data, CancellationToken ct)
    {
        if (!text.Contains("{{", StringComparison.Ordinal)) return text;
        string source = Definitions + text;
        try
        {
            ListNode root;
            Dictionary<string, ListNode> defines;
            try
            {
                (root, defines) = TemplateParser.Parse(name, source);
            }
            catch (TemplateException e)
            {
                return $"<error expanding template: error parsing template {name}: {e.Message}>";
            }
            var exec = new TemplateExecutor(name, source, defines, new TemplateFunctions(externalUrl, query));
            return await exec.RunAsync(root, data, ct);
        }
        catch (TemplateExecutionException e)
        {
            return $"<error expanding template: error executing template {name}: {e.Message}>";
        }
    }
}
