using System.Net;
using System.Text.Json;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>Calls the Prometheus HTTP API of either system and returns status, raw body and parsed JSON.</summary>
public sealed class PromApiClient(Uri baseAddress, string apiPrefix = "/api/v1", string? orgId = null) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };

    public sealed record Response(HttpStatusCode Status, string Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }

    public async Task<Response> GetAsync(string path, params (string Name, string Value)[] query)
    {
        string qs = string.Join('&', query.Select(q => $"{Uri.EscapeDataString(q.Name)}={Uri.EscapeDataString(q.Value)}"));
        using var req = new HttpRequestMessage(HttpMethod.Get, $"{apiPrefix}/{path}" + (qs.Length > 0 ? "?" + qs : ""));
        if (orgId is not null) req.Headers.Add("X-Scope-OrgID", orgId);
        using var resp = await _http.SendAsync(req);
        return new Response(resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    public async Task<Response> PostFormAsync(string path, params (string Name, string Value)[] form)
    {
        using var req = new HttpRequestMessage(HttpMethod.Post, $"{apiPrefix}/{path}")
        {
            Content = new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))),
        };
        if (orgId is not null) req.Headers.Add("X-Scope-OrgID", orgId);
        using var resp = await _http.SendAsync(req);
        return new Response(resp.StatusCode, await resp.Content.ReadAsStringAsync());
    }

    public Task<Response> QueryAsync(string query, long? timeMs = null) =>
        timeMs is null ? GetAsync("query", ("query", query)) : GetAsync("query", ("query", query), ("time", FormatTime(timeMs.Value)));

    public static string FormatTime(long ms) => (ms / 1000.0).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);

    public void Dispose() => _http.Dispose();
}
