using System.Net;
using System.Text;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Rules;

/// <summary>What the ruler tests share: a workspace with rules through the control plane, the same samples written to
/// Amphora and to a Prometheus, and a field-for-field comparison of two API answers.</summary>
internal static class RulerSupport
{
    /// <summary>Creates a workspace (with <c>--auth=none</c>) and waits until it is ACTIVE.</summary>
    public static async Task<string> CreateWorkspaceAsync(Uri amphora)
    {
        using var http = new HttpClient { BaseAddress = amphora };
        var created = await http.PostAsync("/workspaces", new StringContent("{\"alias\":\"rules\"}", Encoding.UTF8, "application/json"));
        string body = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.Accepted, $"create workspace: {(int)created.StatusCode} {body}");
        string id = JsonDocument.Parse(body).RootElement.GetProperty("workspaceId").GetString()!;
        await Eventually.BodyAsync(async () =>
        {
            var r = await http.GetAsync($"/workspaces/{id}");
            return (r.StatusCode, await r.Content.ReadAsStringAsync());
        }, "\"ACTIVE\"", TimeSpan.FromSeconds(30), "workspace ACTIVE");
        return id;
    }

    public static async Task PutRulesAsync(Uri amphora, string workspace, string name, string ruleFile)
    {
        using var http = new HttpClient { BaseAddress = amphora };
        string json = JsonSerializer.Serialize(new { name, data = Convert.ToBase64String(Encoding.UTF8.GetBytes(ruleFile)) });
        var r = await http.PostAsync($"/workspaces/{workspace}/rulegroupsnamespaces", new StringContent(json, Encoding.UTF8, "application/json"));
        Assert.True(r.StatusCode == HttpStatusCode.Accepted, $"create namespace: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
    }

    /// <summary>Remote-writes the series (sorted label text, as Prometheus sends them) to the path given.</summary>
    public static async Task WriteAsync(Uri baseAddress, string path, IEnumerable<(string Labels, (long T, double V)[] Samples)> series)
    {
        var request = new WriteRequestBuilder();
        foreach (var (labels, samples) in series) request.Series(labels, samples);
        using var client = new RemoteWriteClient(baseAddress);
        var result = await client.PostAsync(path, null, IronSnappy.Snappy.Encode(request.Encode()));
        Assert.True(result.Status is HttpStatusCode.NoContent or HttpStatusCode.OK, $"remote write to {baseAddress}{path}: {(int)result.Status} {result.Body}");
    }

    /// <summary>
    /// Null when <paramref name="actual"/> has <paramref name="expected"/>'s shape field for field: the same keys in the same
    /// order, the same kinds, the same array lengths and the same values, except for the keys in <paramref name="byNature"/>
    /// (times and durations, which differ between two processes by nature), whose values only need the same kind. Else where
    /// they first differ.
    /// </summary>
    public static string? Difference(JsonElement expected, JsonElement actual, ISet<string> byNature, string path = "$")
    {
        if (expected.ValueKind != actual.ValueKind) return $"{path}: {expected.ValueKind} {expected} vs {actual.ValueKind} {actual}";
        switch (expected.ValueKind)
        {
            case JsonValueKind.Object:
            {
                var e = expected.EnumerateObject().ToList();
                var a = actual.EnumerateObject().ToList();
                var ek = string.Join(",", e.Select(p => p.Name));
                var ak = string.Join(",", a.Select(p => p.Name));
                if (ek != ak) return $"{path}: keys {ek} vs {ak}";
                for (int i = 0; i < e.Count; i++)
                {
                    if (byNature.Contains(e[i].Name))
                    {
                        if (e[i].Value.ValueKind != a[i].Value.ValueKind) return $"{path}.{e[i].Name}: {e[i].Value.ValueKind} vs {a[i].Value.ValueKind}";
                        continue;
                    }
                    if (Difference(e[i].Value, a[i].Value, byNature, $"{path}.{e[i].Name}") is { } d) return d;
                }
                return null;
            }
            case JsonValueKind.Array:
            {
                if (expected.GetArrayLength() != actual.GetArrayLength()) return $"{path}: {expected.GetArrayLength()} vs {actual.GetArrayLength()} elements: {expected} vs {actual}";
                int i = 0;
                // Prometheus lists a rule's alerts in map order: alerts are compared sorted by their labels.
                var xs = expected.EnumerateArray().ToList();
                var ys = actual.EnumerateArray().ToList();
                if (path.EndsWith(".alerts", StringComparison.Ordinal))
                {
                    xs = xs.OrderBy(LabelsText, StringComparer.Ordinal).ToList();
                    ys = ys.OrderBy(LabelsText, StringComparer.Ordinal).ToList();
                }
                foreach (var (x, y) in xs.Zip(ys))
                    if (Difference(x, y, byNature, $"{path}[{i++}]") is { } d) return d;
                return null;
            }
            default:
                return expected.GetRawText() == actual.GetRawText() ? null : $"{path}: {expected.GetRawText()} vs {actual.GetRawText()}";
        }
    }

    private static string LabelsText(JsonElement alert) =>
        alert.ValueKind == JsonValueKind.Object && alert.TryGetProperty("labels", out var l) ? l.GetRawText() : alert.GetRawText();
}
