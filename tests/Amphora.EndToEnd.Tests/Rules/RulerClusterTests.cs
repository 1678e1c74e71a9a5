using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Access;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Rules;

/// <summary>
/// Two <c>--target=ruler</c> replicas over one ingester: each rule group is evaluated by exactly one of them, recorded samples
/// go through the ring to the ingester (the querier reads them), and either replica answers <c>/api/v1/rules</c> for every
/// group, asking the other for its own (with the admin key). Rules read native histograms through the ring too. The AMP actions hold: <c>aps:ListRules</c> reads rules, a key
/// without it gets 403.
/// </summary>
public sealed class RulerClusterTests : IDisposable
{
    private readonly ProcessGroup _group = new("amphora-ruler-cluster");
    private readonly List<AmphoraProcess> _rulers = [];

    public void Dispose()
    {
        foreach (var r in _rulers)
        {
            if (!r.HasExited) r.TerminateAsync(TimeSpan.FromSeconds(20)).GetAwaiter().GetResult();
            r.Dispose();
        }
        _group.Dispose();
    }

    [Fact]
    public async Task Groups_spread_over_two_rulers_and_either_answers_for_all_of_them()
    {
        var (keys, admin) = _group.WriteSharedKeys();
        string[] common = [$"--blocks.filesystem.dir={Path.Combine(_group.Dir, "bucket")}", .. keys, "--tenancy.sync-interval=1s", "--ring.replication-factor=1"];
        int grpc = FreePort.Next();
        string[] ring = [$"--ring.members=ingester-0=127.0.0.1:{grpc}", "--ring.poll-interval=500ms"];
        var ingester = _group.Start([.. common, .. ring, "--target=ingester", "--ingester.name=ingester-0", $"--grpc.listen=127.0.0.1:{grpc}"]);
        await ingester.WaitReadyAsync();
        var distributor = _group.Start([.. common, .. ring, "--target=distributor"]);
        var querier = _group.Start([.. common, .. ring, "--target=querier"]);
        int[] ports = [FreePort.Next(), FreePort.Next()];
        string members = string.Join(",", ports.Select(p => $"127.0.0.1:{p}"));
        foreach (int port in ports)
            _rulers.Add(AmphoraProcess.Start(null, port, [.. common, .. ring, "--target=ruler", $"--ruler.members={members}", "--ruler.sync-interval=1s"]));
        await Task.WhenAll(_rulers.Select(r => r.WaitReadyAsync()).Append(distributor.WaitReadyAsync()).Append(querier.WaitReadyAsync()));

        using var control = new AccessClient(distributor.BaseAddress);
        string ws = await control.CreateWorkspaceAsync(admin, "rules");
        var writer = await control.CreateKeyAsync(admin, ws, "aps:RemoteWrite", "aps:QueryMetrics");
        var reader = await control.CreateKeyAsync(admin, ws, "aps:ListRules", "aps:ListAlerts");
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var histogram = Storage.NativeHistogramInteropTests.Counter(7);
        await Eventually.StatusAsync(() => control.PushAsync(ws, writer, new WriteRequestBuilder()
            .Series("__name__=\"up\",job=\"a\"", (now, 1)).Series("__name__=\"up\",job=\"b\"", (now, 1))
            .NativeHistograms("__name__=\"rpc_seconds\",job=\"a\"", (now, histogram, null))), HttpStatusCode.NoContent,
            TimeSpan.FromSeconds(15), "the write key works");
        // Group g1 also reads a native histogram through the ring (the ingester streams it to the ruler's querier as chunks).
        string file = "groups:\n" + string.Concat(Enumerable.Range(1, 8).Select(i =>
            $"  - name: g{i}\n    interval: 1s\n    rules:\n      - record: g{i}:up:sum\n        expr: sum(up)\n" +
            (i == 1 ? "      - record: rpc_seconds:count\n        expr: histogram_count(rpc_seconds)\n" : "")));
        var (created, body) = await control.SendAsync(HttpMethod.Post, $"/workspaces/{ws}/rulegroupsnamespaces", admin,
            new StringContent(JsonSerializer.Serialize(new { name = "spread", data = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(file)) }),
                System.Text.Encoding.UTF8, "application/json"));
        Assert.True(created == HttpStatusCode.Accepted, body);

        // Either ruler lists all 8 groups, every one evaluated and healthy.
        foreach (var ruler in _rulers)
        {
            using var client = new AccessClient(ruler.BaseAddress);
            string last = "";
            await Eventually.HoldsAsync(async () =>
            {
                var (status, rules) = await client.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/rules", reader);
                last = rules;
                if (status != HttpStatusCode.OK) return false;
                var groups = JsonDocument.Parse(rules).RootElement.GetProperty("data").GetProperty("groups").EnumerateArray().ToList();
                return groups.Count == 8 && groups.All(g => g.GetProperty("rules")[0].GetProperty("health").GetString() == "ok");
            }, () => $"8 healthy groups from {ruler.BaseAddress}: {last}", TimeSpan.FromSeconds(30));
            Assert.DoesNotContain("warnings", last);
        }

        // Each group is evaluated by exactly one replica, and both replicas evaluate some.
        var owned = new List<List<string>>();
        foreach (var ruler in _rulers)
        {
            using var http = new HttpClient { BaseAddress = ruler.BaseAddress };
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/workspaces/{ws}/api/v1/rules");
            request.Headers.Add("X-Amphora-Ruler-Local", "true");
            request.Headers.Authorization = reader.Basic;
            var local = JsonDocument.Parse(await (await http.SendAsync(request)).Content.ReadAsStringAsync()).RootElement;
            owned.Add(local.GetProperty("data").GetProperty("groups").EnumerateArray().Select(g => g.GetProperty("name").GetString()!).ToList());
        }
        Assert.All(owned, o => Assert.NotEmpty(o));
        Assert.Equal(Enumerable.Range(1, 8).Select(i => $"g{i}").Order(), owned.SelectMany(o => o).Order());

        // The recorded series went through the ring: the querier sees all 8.
        using var q = new AccessClient(querier.BaseAddress);
        await Eventually.BodyAsync(() => q.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query?query=count(%7B__name__%3D~%22g.%3Aup%3Asum%22%7D)", writer),
            "\"8\"", TimeSpan.FromSeconds(30), "8 recorded series through the querier");
        await Eventually.BodyAsync(() => q.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/query?query=rpc_seconds%3Acount", writer),
            $"\"{histogram.Count}\"", TimeSpan.FromSeconds(30), "the count of the native histogram, recorded by the ruler");

        // aps:ListRules is needed: the write key is refused and told which action it lacks.
        using var one = new AccessClient(_rulers[0].BaseAddress);
        var (denied, deniedBody) = await one.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/rules", writer);
        Assert.True(denied == HttpStatusCode.Forbidden && deniedBody.Contains("aps:ListRules"), $"{denied} {deniedBody}");
        var (alerts, alertsBody) = await one.SendAsync(HttpMethod.Get, $"/workspaces/{ws}/api/v1/alerts", reader);
        Assert.True(alerts == HttpStatusCode.OK && alertsBody == "{\"status\":\"success\",\"data\":{\"alerts\":[]}}", alertsBody);
    }
}
