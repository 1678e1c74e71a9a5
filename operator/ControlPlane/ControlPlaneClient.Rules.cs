using System.Text;
using System.Text.Json.Nodes;

namespace Amphora.Operator.ControlPlane;

// Rule groups namespaces and the Alertmanager definition, on AMP's routes. An Amphora whose control plane does not serve
// them answers 404 without AMP's error type; callers see ControlPlaneException.IsUnsupported and report it.
public sealed partial class ControlPlaneClient
{
    /// <summary>PutRuleGroupsNamespace, or CreateRuleGroupsNamespace when the namespace does not exist yet.</summary>
    public async Task PutRuleGroupsNamespaceAsync(string workspaceId, string name, string data, CancellationToken ct)
    {
        string blob = Convert.ToBase64String(Encoding.UTF8.GetBytes(data));
        try
        {
            await SendAsync(HttpMethod.Put, $"/workspaces/{Esc(workspaceId)}/rulegroupsnamespaces/{Esc(name)}", new JsonObject { ["data"] = blob }, ct);
        }
        catch (ControlPlaneException e) when (e.IsNotFound)
        {
            await SendAsync(HttpMethod.Post, $"/workspaces/{Esc(workspaceId)}/rulegroupsnamespaces",
                new JsonObject { ["name"] = name, ["data"] = blob }, ct);
        }
    }

    public async Task DeleteRuleGroupsNamespaceAsync(string workspaceId, string name, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, $"/workspaces/{Esc(workspaceId)}/rulegroupsnamespaces/{Esc(name)}", null, ct);
        }
        catch (ControlPlaneException e) when (e.IsNotFound || e.IsUnsupported)
        {
        }
    }

    /// <summary>PutAlertManagerDefinition, or CreateAlertManagerDefinition when the workspace has none yet. <paramref name="config"/>
    /// is an Alertmanager configuration (alertmanager.yml); it is sent in AMP's definition form (<see cref="AmpDefinition"/>).</summary>
    public async Task PutAlertManagerDefinitionAsync(string workspaceId, string config, CancellationToken ct)
    {
        var body = new JsonObject { ["data"] = Convert.ToBase64String(Encoding.UTF8.GetBytes(AmpDefinition(config))) };
        try
        {
            await SendAsync(HttpMethod.Put, $"/workspaces/{Esc(workspaceId)}/alertmanager/definition", body, ct);
        }
        catch (ControlPlaneException e) when (e.IsNotFound)
        {
            await SendAsync(HttpMethod.Post, $"/workspaces/{Esc(workspaceId)}/alertmanager/definition", body.DeepClone(), ct);
        }
    }

    /// <summary>
    /// AMP's Alertmanager definition YAML holding <paramref name="config"/> as its <c>alertmanager_config</c>: a literal block
    /// with an explicit indentation of two, so the text comes back as written whatever its own indentation (line endings as
    /// \n, one final newline).
    /// </summary>
    public static string AmpDefinition(string config)
    {
        var sb = new StringBuilder("alertmanager_config: |2\n");
        foreach (string line in config.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n')) sb.Append("  ").Append(line).Append('\n');
        return sb.ToString();
    }

    public async Task DeleteAlertManagerDefinitionAsync(string workspaceId, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, $"/workspaces/{Esc(workspaceId)}/alertmanager/definition", null, ct);
        }
        catch (ControlPlaneException e) when (e.IsNotFound || e.IsUnsupported)
        {
        }
    }
}
