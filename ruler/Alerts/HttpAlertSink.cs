using System.Net.Http.Headers;
using System.Text;
using Amphora.Querier.Api;

namespace Amphora.Ruler.Alerts;

/// <summary>
/// Posts alerts to Alertmanager's API v2 (<c>POST {base}/api/v2/alerts</c>, a JSON array of postable alerts: labels,
/// annotations, startsAt, endsAt, generatorURL). The base URL is resolved per workspace; a workspace without one is an error
/// naming it. Optional basic auth (the cluster's admin key, read at each send so a rotated key is used).
/// </summary>
public sealed class HttpAlertSink(HttpClient http, Func<string, Uri?> baseUrlFor, Func<AuthenticationHeaderValue?>? authorization = null) : IAlertSink
{
    /// <summary>The cluster's form: <c>{url}/workspaces/{id}/alertmanager</c>, the route Amphora serves each workspace's Alertmanager at.</summary>
    public static Func<string, Uri?> UnderWorkspaces(Uri url) => workspace =>
        new Uri(url.ToString().TrimEnd('/') + "/workspaces/" + Uri.EscapeDataString(workspace) + "/alertmanager");

    public static AuthenticationHeaderValue BasicAuth(string user, string password) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(user + ":" + password)));

    public async Task SendAsync(string workspace, IReadOnlyList<PostableAlert> alerts, CancellationToken ct)
    {
        var baseUrl = baseUrlFor(workspace) ?? throw new InvalidOperationException($"workspace {workspace} has no Alertmanager (no alertmanager definition, or --ruler.alertmanager-url unset)");
        using var request = new HttpRequestMessage(HttpMethod.Post, baseUrl.ToString().TrimEnd('/') + "/api/v2/alerts")
        {
            Content = new ReadOnlyMemoryContent(Body(alerts).WrittenMemory),
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = authorization?.Invoke();
        using var response = await http.SendAsync(request, ct).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
        {
            string text = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
            throw new HttpRequestException($"{baseUrl} answered {(int)response.StatusCode}: {(text.Length > 200 ? text[..200] : text)}");
        }
    }

    internal static PromJsonWriter Body(IReadOnlyList<PostableAlert> alerts)
    {
        var w = new PromJsonWriter().Raw('[');
        for (int i = 0; i < alerts.Count; i++)
        {
            var a = alerts[i];
            if (i > 0) w.Raw(',');
            w.Raw("{\"labels\":"u8).LabelsObject(a.Labels).Raw(",\"annotations\":"u8).LabelsObject(a.Annotations)
             .Raw(",\"startsAt\":"u8).String(RulerJson.Time(a.StartsAt)).Raw(",\"endsAt\":"u8).String(RulerJson.Time(a.EndsAt))
             .Raw(",\"generatorURL\":"u8).String(a.GeneratorUrl).Raw('}');
        }
        return w.Raw(']');
    }
}
