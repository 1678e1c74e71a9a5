using System.Net.Http.Headers;
using System.Text.Json;

namespace Amphora.Ruler.Api;

/// <summary>The groups and alerts the other ruler replicas reported, and a warning for each replica that did not answer.</summary>
public sealed record PeerAnswers(IReadOnlyList<JsonElement> Groups, IReadOnlyList<JsonElement> Alerts, IReadOnlyList<string> Warnings);

/// <summary>
/// The other ruler replicas, asked (in parallel, over HTTP, with the admin key) for the groups they evaluate, so that any
/// replica answers <c>/api/v1/rules</c> and <c>/api/v1/alerts</c> for all of a workspace's groups. A replica that does not
/// answer within the timeout is left out and named in the response's <c>warnings</c>, as Prometheus reports partial answers.
/// </summary>
public sealed class RulerPeers(HttpClient http, IReadOnlyList<Uri> peers, Func<AuthenticationHeaderValue?> authorization)
{
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    public async Task<PeerAnswers> FetchAsync(string workspace, string endpoint, string? type, CancellationToken ct)
    {
        var answers = await Task.WhenAll(peers.Select(p => FetchOneAsync(p, workspace, endpoint, type, ct)));
        var groups = new List<JsonElement>();
        var alerts = new List<JsonElement>();
        var warnings = new List<string>();
        foreach (var (data, warning) in answers)
        {
            if (warning is not null) { warnings.Add(warning); continue; }
            if (data.TryGetProperty("groups", out var g)) groups.AddRange(g.EnumerateArray());
            if (data.TryGetProperty("alerts", out var a)) alerts.AddRange(a.EnumerateArray());
        }
        return new PeerAnswers(groups, alerts, warnings);
    }

    private async Task<(JsonElement Data, string? Warning)> FetchOneAsync(Uri peer, string workspace, string endpoint, string? type, CancellationToken ct)
    {
        string url = peer.ToString().TrimEnd('/') + $"/workspaces/{Uri.EscapeDataString(workspace)}/api/v1/{endpoint}" +
                     (type is null ? "" : "?type=" + Uri.EscapeDataString(type));
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(Timeout);
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add(RulerApi.LocalOnlyHeader, "true");
            request.Headers.Authorization = authorization();
            using var response = await http.SendAsync(request, timeout.Token).ConfigureAwait(false);
            string body = await response.Content.ReadAsStringAsync(timeout.Token).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode) return (default, $"ruler {peer.Authority} answered {(int)response.StatusCode}: {Truncate(body)}");
            using var doc = JsonDocument.Parse(body);
            return (doc.RootElement.GetProperty("data").Clone(), null);
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or KeyNotFoundException or InvalidOperationException ||
                                  e is OperationCanceledException && !ct.IsCancellationRequested)
        {
            return (default, $"ruler {peer.Authority} did not answer: {e.Message}");
        }
    }

    private static string Truncate(string s) => s.Length > 200 ? s[..200] : s;
}
