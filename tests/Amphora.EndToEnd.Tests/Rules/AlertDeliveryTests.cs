using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;
using Xunit;

namespace Amphora.EndToEnd.Tests.Rules;

/// <summary>
/// Alerts from an amphora process reach Debian's prometheus-alertmanager 0.25 (on loopback, with the route prefix
/// <c>/workspaces/{id}/alertmanager</c> Amphora serves it under, which <c>--ruler.alertmanager-url</c> posts to) and its webhook
/// receiver, served by this test: pending, then firing after <c>for</c> with the rendered annotations, then resolved.
/// The ruler restarted mid-<c>for</c> keeps the alerts' activeAt (restored from ALERTS_FOR_STATE).
/// </summary>
public sealed class AlertDeliveryTests : IAsyncLifetime
{
    private readonly string _dataDir = RepoPaths.NewTempDir("amphora-ruler-e2e");
    private readonly int _port = FreePort.Next();
    private readonly int _alertmanagerPort = FreePort.Next();
    private AmphoraProcess _amphora = null!;
    private ChildProcess _alertmanager = null!;
    private string _alertmanagerDir = "";
    private HttpListener _webhook = null!;
    private readonly ConcurrentQueue<JsonElement> _notifications = new();
    private string _workspace = "";

    private const string Rules = """
        groups:
          - name: rooms
            interval: 1s
            rules:
              - alert: Hot
                expr: temp > 20
                for: 3s
                labels:
                  severity: page
                annotations:
                  summary: 'Room {{ $labels.room }} is at {{ $value }} degrees'
                  detail: '{{ with query "count(temp > 20)" }}{{ . | first | value }} hot rooms{{ end }}'
              - alert: SlowlyHot
                expr: temp > 25
                for: 1h
        """;

    private string[] AmphoraArgs => ["--ruler.sync-interval=1s", "--ruler.for-grace-period=1s", "--ruler.resend-delay=1s",
        $"--ruler.alertmanager-url=http://127.0.0.1:{_alertmanagerPort}"];

    public async Task InitializeAsync()
    {
        _amphora = AmphoraProcess.Start(_dataDir, _port, AmphoraArgs);
        await _amphora.WaitReadyAsync();
        _workspace = await RulerSupport.CreateWorkspaceAsync(_amphora.BaseAddress);

        int webhookPort = FreePort.Next();
        _webhook = new HttpListener();
        _webhook.Prefixes.Add($"http://127.0.0.1:{webhookPort}/");
        _webhook.Start();
        _ = Task.Run(ServeWebhookAsync);

        _alertmanagerDir = RepoPaths.NewTempDir("alertmanager-e2e");
        await File.WriteAllTextAsync(Path.Combine(_alertmanagerDir, "alertmanager.yml"), $$"""
            route:
              receiver: test
              group_by: [alertname, room]
              group_wait: 0s
              group_interval: 1s
              repeat_interval: 1h
            receivers:
              - name: test
                webhook_configs:
                  - url: http://127.0.0.1:{{webhookPort}}/hook
                    send_resolved: true
            """);
        _alertmanager = new ChildProcess(RepoPaths.RequireProgram("prometheus-alertmanager", "prometheus-alertmanager"),
        [
            $"--config.file={Path.Combine(_alertmanagerDir, "alertmanager.yml")}", $"--storage.path={Path.Combine(_alertmanagerDir, "data")}",
            $"--web.listen-address=127.0.0.1:{_alertmanagerPort}", "--cluster.listen-address=", "--log.level=warn",
            $"--web.route-prefix=/workspaces/{_workspace}/alertmanager",
        ], _alertmanagerDir);
        using var http = new HttpClient();
        await Eventually.HoldsAsync(async () =>
        {
            try { return (await http.GetAsync($"http://127.0.0.1:{_alertmanagerPort}/workspaces/{_workspace}/alertmanager/-/ready")).IsSuccessStatusCode; }
            catch (HttpRequestException) { return false; }
        }, () => $"alertmanager ready: {_alertmanager.Output}", TimeSpan.FromSeconds(30));
    }

    private async Task ServeWebhookAsync()
    {
        while (_webhook.IsListening)
        {
            HttpListenerContext ctx;
            try { ctx = await _webhook.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException) { return; }
            using (var reader = new StreamReader(ctx.Request.InputStream))
                _notifications.Enqueue(JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.Clone());
            ctx.Response.StatusCode = 200;
            ctx.Response.Close();
        }
    }

    public async Task DisposeAsync()
    {
        _alertmanager.Dispose();
        _webhook.Close();
        await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        _amphora.Dispose();
        foreach (var dir in new[] { _alertmanagerDir, _dataDir })
            try { Directory.Delete(dir, recursive: true); } catch (IOException) { }
    }

    private async Task WriteTempAsync(string room, double value) =>
        await RulerSupport.WriteAsync(_amphora.BaseAddress, $"/workspaces/{_workspace}/api/v1/remote_write",
            [($"__name__=\"temp\",room=\"{room}\"", [(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), value)])]);

    private PromApiClient Api() => new(_amphora.BaseAddress, $"/workspaces/{_workspace}/api/v1");

    /// <summary>The alert of <paramref name="alertname"/> in /api/v1/alerts once it is in <paramref name="state"/>.</summary>
    private Task<JsonElement> AlertInStateAsync(string alertname, string state, TimeSpan timeout) =>
        AlertWhereAsync(alertname, a => a.GetProperty("state").GetString() == state, state, timeout);

    private Task<JsonElement> AlertWithActiveAtAsync(string alertname, long activeAtSeconds) =>
        AlertWhereAsync(alertname, a => DateTimeOffset.Parse(a.GetProperty("activeAt").GetString()!).ToUnixTimeSeconds() == activeAtSeconds,
            $"with activeAt {activeAtSeconds}", TimeSpan.FromSeconds(30));

    private async Task<JsonElement> AlertWhereAsync(string alertname, Func<JsonElement, bool> condition, string what, TimeSpan timeout)
    {
        using var api = Api();
        JsonElement found = default;
        string last = "";
        await Eventually.HoldsAsync(async () =>
        {
            var body = await api.GetAsync("alerts");
            last = body.Body;
            foreach (var a in body.Json.GetProperty("data").GetProperty("alerts").EnumerateArray())
                if (a.GetProperty("labels").GetProperty("alertname").GetString() == alertname && condition(a))
                {
                    found = a.Clone();
                    return true;
                }
            return false;
        }, () => $"{alertname} {what}: {last}", timeout);
        return found;
    }

    private async Task<JsonElement> NotificationAsync(string status, TimeSpan timeout)
    {
        JsonElement found = default;
        await Eventually.HoldsAsync(() =>
        {
            foreach (var n in _notifications)
                if (n.GetProperty("status").GetString() == status && n.GetProperty("commonLabels").GetProperty("alertname").GetString() == "Hot")
                {
                    found = n;
                    return Task.FromResult(true);
                }
            return Task.FromResult(false);
        }, () => $"a {status} notification of Hot; got {string.Join("\n", _notifications.Select(n => n.GetRawText()))}", timeout);
        return found;
    }

    [Fact]
    public async Task An_alert_goes_pending_fires_reaches_the_webhook_with_its_annotations_resolves_and_keeps_activeAt_over_a_restart()
    {
        await WriteTempAsync("lab", 30);
        await RulerSupport.PutRulesAsync(_amphora.BaseAddress, _workspace, "rooms", Rules);

        var pending = await AlertInStateAsync("Hot", "pending", TimeSpan.FromSeconds(30));
        Assert.Empty(_notifications); // pending alerts are not sent
        var firing = await AlertInStateAsync("Hot", "firing", TimeSpan.FromSeconds(30));
        Assert.Equal(pending.GetProperty("activeAt").GetString(), firing.GetProperty("activeAt").GetString());
        var fired = await NotificationAsync("firing", TimeSpan.FromSeconds(30));
        var alert = fired.GetProperty("alerts")[0];
        Assert.Equal("Room lab is at 30 degrees", alert.GetProperty("annotations").GetProperty("summary").GetString());
        Assert.Equal("1 hot rooms", alert.GetProperty("annotations").GetProperty("detail").GetString());
        Assert.Equal("page", alert.GetProperty("labels").GetProperty("severity").GetString());
        Assert.Contains($"/workspaces/{_workspace}/graph?g0.expr=", alert.GetProperty("generatorURL").GetString());

        // SlowlyHot (for: 1h) is pending; Hot is firing: both keep their activeAt across a restart of the ruler.
        var slowBefore = await AlertInStateAsync("SlowlyHot", "pending", TimeSpan.FromSeconds(10));
        var slowActiveBefore = DateTimeOffset.Parse(slowBefore.GetProperty("activeAt").GetString()!);
        var pendingFor = TimeSpan.FromSeconds(12);
        if (slowActiveBefore + pendingFor > DateTimeOffset.UtcNow) await Task.Delay(slowActiveBefore + pendingFor - DateTimeOffset.UtcNow);
        var stoppedAt = DateTimeOffset.UtcNow;
        int code = await _amphora.TerminateAsync(TimeSpan.FromSeconds(30));
        Assert.True(code == 0, _amphora.Output);
        _amphora.Dispose();
        _amphora = AmphoraProcess.Start(_dataDir, _port, AmphoraArgs);
        await _amphora.WaitReadyAsync();
        string hotActiveAt = firing.GetProperty("activeAt").GetString()!;
        var restored = await AlertWithActiveAtAsync("Hot", DateTimeOffset.Parse(hotActiveAt).ToUnixTimeSeconds());
        Assert.Equal("firing", (await AlertInStateAsync("Hot", "firing", TimeSpan.FromSeconds(30))).GetProperty("state").GetString());
        // A pending alert is credited the time it had waited; the time the ruler was down does not count (Prometheus's rule).
        // A pending alert is credited the time it had waited (12s), not the time the ruler was down (Prometheus's rule): its
        // activeAt moves by the downtime only, so it stays before the restart, where a fresh alert's would be after it. Until
        // the restore (after the second evaluation) it shows a fresh activeAt.
        var slowAfter = await AlertWhereAsync("SlowlyHot", a => DateTimeOffset.Parse(a.GetProperty("activeAt").GetString()!) < stoppedAt,
            $"with an activeAt before the restart at {stoppedAt:O} (it was {slowActiveBefore:O})", TimeSpan.FromSeconds(30));
        var slowActiveAfter = DateTimeOffset.Parse(slowAfter.GetProperty("activeAt").GetString()!);
        Assert.True(slowActiveAfter >= slowActiveBefore.AddSeconds(-1) && slowAfter.GetProperty("state").GetString() == "pending",
            $"SlowlyHot activeAt {slowActiveBefore:O} before, {slowActiveAfter:O} after a restart at {stoppedAt:O}");
        Assert.Equal("Hot", restored.GetProperty("labels").GetProperty("alertname").GetString());

        // The condition clears: the alert resolves and the webhook hears it.
        await WriteTempAsync("lab", 10);
        using (var api = Api())
            await Eventually.HoldsAsync(async () => !(await api.GetAsync("alerts")).Body.Contains("\"Hot\""), () => "Hot resolved", TimeSpan.FromSeconds(30));
        var resolved = await NotificationAsync("resolved", TimeSpan.FromSeconds(30));
        Assert.Equal("Room lab is at 30 degrees", resolved.GetProperty("alerts")[0].GetProperty("annotations").GetProperty("summary").GetString());
    }
}
