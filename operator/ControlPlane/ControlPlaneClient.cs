using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Amphora.Operator.ControlPlane;

/// <summary>
/// A typed client of Amphora's AMP-style control plane (<c>/workspaces</c>, keys, configuration, tags, rule groups
/// namespaces and the Alertmanager definition), authenticated with the admin key. Every failure is a
/// <see cref="ControlPlaneException"/> carrying AMP's error type; transport failures stay <see cref="HttpRequestException"/>.
/// The credential is re-read from its file on every call so a rotated Secret takes effect without a restart.
/// </summary>
public sealed partial class ControlPlaneClient(HttpClient http, Func<AdminCredentials> credentials)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static AdminCredentials ReadCredentials(string path)
    {
        var creds = JsonSerializer.Deserialize<AdminCredentials>(File.ReadAllBytes(path), Json);
        if (creds is null || creds.AccessKeyId.Length == 0 || creds.SecretAccessKey.Length == 0)
            throw new InvalidDataException($"the admin key file {path} must be JSON {{\"accessKeyId\": ..., \"secretAccessKey\": ...}}");
        return creds;
    }

    /// <summary>CreateWorkspace with a client token: a retry with the same token returns the first workspace.</summary>
    public async Task<WorkspaceDescription> CreateWorkspaceAsync(string clientToken, CancellationToken ct)
    {
        var body = await SendAsync(HttpMethod.Post, "/workspaces", new JsonObject { ["clientToken"] = clientToken }, ct);
        return body.Deserialize<WorkspaceDescription>(Json)!;
    }

    public async Task<WorkspaceDescription> DescribeWorkspaceAsync(string id, CancellationToken ct)
    {
        var body = await SendAsync(HttpMethod.Get, $"/workspaces/{Esc(id)}", null, ct);
        return body["workspace"].Deserialize<WorkspaceDescription>(Json)!;
    }

    public Task UpdateAliasAsync(string id, string? alias, CancellationToken ct) =>
        SendAsync(HttpMethod.Post, $"/workspaces/{Esc(id)}/alias", new JsonObject { ["alias"] = alias }, ct);

    public async Task<WorkspaceConfigurationBody> DescribeConfigurationAsync(string id, CancellationToken ct)
    {
        var body = await SendAsync(HttpMethod.Get, $"/workspaces/{Esc(id)}/configuration", null, ct);
        return body["workspaceConfiguration"].Deserialize<WorkspaceConfigurationBody>(Json)!;
    }

    public Task UpdateConfigurationAsync(string id, WorkspaceConfigurationBody config, CancellationToken ct) =>
        SendAsync(HttpMethod.Patch, $"/workspaces/{Esc(id)}/configuration", JsonSerializer.SerializeToNode(config, Json), ct);

    /// <summary>DeleteWorkspace; a workspace that is already gone counts as deleted.</summary>
    public async Task DeleteWorkspaceAsync(string id, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, $"/workspaces/{Esc(id)}", null, ct);
        }
        catch (ControlPlaneException e) when (e.IsNotFound)
        {
        }
    }

    public Task TagAsync(string arn, IReadOnlyDictionary<string, string> tags, CancellationToken ct)
    {
        var o = new JsonObject();
        foreach (var (k, v) in tags) o[k] = v;
        return SendAsync(HttpMethod.Post, $"/tags/{Uri.EscapeDataString(arn)}", new JsonObject { ["tags"] = o }, ct);
    }

    public Task UntagAsync(string arn, IEnumerable<string> keys, CancellationToken ct)
    {
        string query = string.Join('&', keys.Select(k => "tagKeys=" + Uri.EscapeDataString(k)));
        return SendAsync(HttpMethod.Delete, $"/tags/{Uri.EscapeDataString(arn)}?{query}", null, ct);
    }

    public async Task<AccessKeyBody> CreateKeyAsync(string workspaceId, IReadOnlyList<string> actions, string description, CancellationToken ct)
    {
        var a = new JsonArray();
        foreach (var x in actions) a.Add(x);
        var body = await SendAsync(HttpMethod.Post, $"/workspaces/{Esc(workspaceId)}/keys",
            new JsonObject { ["actions"] = a, ["description"] = description }, ct);
        return body.Deserialize<AccessKeyBody>(Json)!;
    }

    public async Task<List<AccessKeyBody>> ListKeysAsync(string workspaceId, CancellationToken ct)
    {
        var body = await SendAsync(HttpMethod.Get, $"/workspaces/{Esc(workspaceId)}/keys", null, ct);
        return body["accessKeys"].Deserialize<List<AccessKeyBody>>(Json) ?? [];
    }

    /// <summary>DeleteAccessKey; a key that is already gone counts as deleted.</summary>
    public async Task DeleteKeyAsync(string workspaceId, string keyId, CancellationToken ct)
    {
        try
        {
            await SendAsync(HttpMethod.Delete, $"/workspaces/{Esc(workspaceId)}/keys/{Esc(keyId)}", null, ct);
        }
        catch (ControlPlaneException e) when (e.IsNotFound)
        {
        }
    }

    private static string Esc(string s) => Uri.EscapeDataString(s);

    private async Task<JsonNode> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken ct)
    {
        using var request = new HttpRequestMessage(method, path);
        var c = credentials();
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(Encoding.UTF8.GetBytes($"{c.AccessKeyId}:{c.SecretAccessKey}")));
        if (body is not null) request.Content = JsonContent.Create(body);
        using var response = await http.SendAsync(request, ct);
        string text = await response.Content.ReadAsStringAsync(ct);
        if (!response.IsSuccessStatusCode)
        {
            string? type = response.Headers.TryGetValues("x-amzn-ErrorType", out var v) ? v.FirstOrDefault() : null;
            string message = text;
            try
            {
                if (JsonNode.Parse(text) is JsonObject o && o["message"] is JsonValue m) message = m.ToString();
            }
            catch (JsonException)
            {
            }
            throw new ControlPlaneException((int)response.StatusCode, type, message.Length == 0 ? response.ReasonPhrase ?? "" : message);
        }
        return text.Length == 0 ? new JsonObject() : JsonNode.Parse(text) ?? new JsonObject();
    }
}
