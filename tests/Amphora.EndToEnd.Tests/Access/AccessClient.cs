using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amphora.EndToEnd.Tests.Harness;

namespace Amphora.EndToEnd.Tests.Access;

/// <summary>An access key as the control plane returns it.</summary>
public sealed record Key(string Id, string Secret)
{
    public AuthenticationHeaderValue Basic => new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Id}:{Secret}")));
}

/// <summary>Calls amphora with an access key (or none): the control plane and the data plane.</summary>
public sealed class AccessClient(Uri baseAddress) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public static Key BootstrapKey(string dataDir)
    {
        var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(dataDir, "bootstrap-credentials.json"))).RootElement;
        return new Key(json.GetProperty("accessKeyId").GetString()!, json.GetProperty("secretAccessKey").GetString()!);
    }

    public async Task<(HttpStatusCode Status, string Body)> SendAsync(HttpMethod method, string path, Key? key, HttpContent? content = null)
    {
        using var request = new HttpRequestMessage(method, path) { Content = content };
        if (key is not null) request.Headers.Authorization = key.Basic;
        using var response = await _http.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Creates a workspace and waits until it is ACTIVE; returns its id.</summary>
    public async Task<string> CreateWorkspaceAsync(Key admin, string alias)
    {
        var (status, body) = await SendAsync(HttpMethod.Post, "/workspaces", admin, Json(new JsonObject { ["alias"] = alias }));
        if (status != HttpStatusCode.Accepted) throw new InvalidOperationException($"create workspace: {status} {body}");
        string id = JsonDocument.Parse(body).RootElement.GetProperty("workspaceId").GetString()!;
        for (int i = 0; i < 100; i++)
        {
            var (s, b) = await SendAsync(HttpMethod.Get, $"/workspaces/{id}", admin);
            if (s == HttpStatusCode.OK && b.Contains("\"ACTIVE\"")) return id;
            await Task.Delay(100);
        }
        throw new TimeoutException($"workspace {id} did not become ACTIVE");
    }

    public async Task<Key> CreateKeyAsync(Key admin, string workspace, params string[] actions)
    {
        var array = new JsonArray();
        foreach (var a in actions) array.Add(a);
        var (status, body) = await SendAsync(HttpMethod.Post, $"/workspaces/{workspace}/keys", admin, Json(new JsonObject { ["actions"] = array }));
        if ((int)status is < 200 or >= 300) throw new InvalidOperationException($"create key: {status} {body}");
        var json = JsonDocument.Parse(body).RootElement;
        return new Key(json.GetProperty("accessKeyId").GetString()!, json.GetProperty("secretAccessKey").GetString()!);
    }

    public Task<(HttpStatusCode, string)> PushAsync(string workspace, Key? key, WriteRequestBuilder request)
    {
        var content = new ByteArrayContent(IronSnappy.Snappy.Encode(request.Encode()));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
        content.Headers.ContentEncoding.Add("snappy");
        return SendAsync(HttpMethod.Post, $"/workspaces/{workspace}/api/v1/remote_write", key, content);
    }

    private static StringContent Json(JsonNode node) => new(node.ToJsonString(), Encoding.UTF8, "application/json");

    public void Dispose() => _http.Dispose();
}
