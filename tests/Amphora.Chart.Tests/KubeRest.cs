using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;

namespace Amphora.Chart.Tests;

/// <summary>
/// The Kubernetes REST API as a client applying a rendered chart uses it: each object's resource found through discovery,
/// created from its YAML (server-side dry-run first), with the credential of whoever the test says it is.
/// </summary>
public sealed class KubeRest : IDisposable
{
    private readonly HttpClient _http;
    private readonly Dictionary<string, (string Plural, bool Namespaced)> _resources = new();

    public KubeRest(Uri server, X509Certificate2 ca, string token)
    {
        var trusted = X509CertificateLoader.LoadCertificate(ca.RawData);
        var handler = new HttpClientHandler
        {
            ServerCertificateCustomValidationCallback = (_, cert, chain, _) =>
            {
                if (cert is null || chain is null) return false;
                chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
                chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
                chain.ChainPolicy.CustomTrustStore.Add(trusted);
                return chain.Build(cert);
            },
        };
        _http = new HttpClient(handler) { BaseAddress = server, Timeout = TimeSpan.FromSeconds(30) };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public sealed record Answer(HttpStatusCode Status, string Body)
    {
        public bool Ok => (int)Status is >= 200 and < 300;
        public override string ToString() => $"{(int)Status} {Body}";
    }

    /// <summary>Creates the object (YAML); with <paramref name="dryRun"/> the server validates and admits it but stores nothing.</summary>
    public async Task<Answer> CreateAsync(RenderedObject obj, string? ns, bool dryRun)
    {
        string path = await CollectionPathAsync(obj.ApiVersion, obj.Kind, ns) + (dryRun ? "?dryRun=All&fieldValidation=Strict" : "?fieldValidation=Strict");
        var content = new StringContent(obj.ToYaml(), Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/yaml");
        using var r = await _http.PostAsync(path, content);
        return new Answer(r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    public async Task<Answer> SendAsync(HttpMethod method, string path, JsonNode? body = null)
    {
        using var req = new HttpRequestMessage(method, path);
        if (body is not null) req.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        using var r = await _http.SendAsync(req);
        return new Answer(r.StatusCode, await r.Content.ReadAsStringAsync());
    }

    /// <summary>The collection URL of a kind, from the API server's discovery documents.</summary>
    public async Task<string> CollectionPathAsync(string apiVersion, string kind, string? ns)
    {
        string key = $"{apiVersion}/{kind}";
        if (!_resources.TryGetValue(key, out var resource))
        {
            string discovery = apiVersion.Contains('/') ? $"/apis/{apiVersion}" : $"/api/{apiVersion}";
            var doc = JsonNode.Parse(await _http.GetStringAsync(discovery))!;
            foreach (var r in doc["resources"]!.AsArray())
            {
                string name = (string)r!["name"]!;
                if (!name.Contains('/')) _resources[$"{apiVersion}/{(string)r["kind"]!}"] = (name, (bool)r["namespaced"]!);
            }
            resource = _resources.TryGetValue(key, out var found) ? found
                : throw new InvalidOperationException($"the API server serves no {kind} in {apiVersion}");
        }
        string prefix = apiVersion.Contains('/') ? $"/apis/{apiVersion}" : $"/api/{apiVersion}";
        return resource.Namespaced ? $"{prefix}/namespaces/{ns}/{resource.Plural}" : $"{prefix}/{resource.Plural}";
    }

    public void Dispose() => _http.Dispose();
}
