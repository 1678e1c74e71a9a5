using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Amphora.EndToEnd.Tests.Harness;

namespace Amphora.EndToEnd.Tests.Alertmanager;

/// <summary>An Alertmanager webhook receiver served by the test: records each notification (path and JSON body).</summary>
public sealed class WebhookReceiver : IDisposable
{
    private readonly HttpListener _listener = new();
    private readonly Task _loop;

    public sealed record Notification(string Path, JsonElement Body)
    {
        /// <summary>The alertnames of the notification's alerts.</summary>
        public IEnumerable<string> AlertNames => Body.GetProperty("alerts").EnumerateArray()
            .Select(a => a.GetProperty("labels").GetProperty("alertname").GetString()!);
    }

    public ConcurrentQueue<Notification> Received { get; } = new();
    public string Url { get; }

    public WebhookReceiver()
    {
        int port = FreePort.Next();
        Url = $"http://127.0.0.1:{port}";
        _listener.Prefixes.Add(Url + "/");
        _listener.Start();
        _loop = Task.Run(LoopAsync);
    }

    private async Task LoopAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext ctx;
            try
            {
                ctx = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using (var reader = new StreamReader(ctx.Request.InputStream))
                Received.Enqueue(new Notification(ctx.Request.Url!.AbsolutePath, JsonDocument.Parse(await reader.ReadToEndAsync()).RootElement.Clone()));
            ctx.Response.StatusCode = 200;
            ctx.Response.Close();
        }
    }

    /// <summary>Waits for a notification of <paramref name="alertName"/> on <paramref name="path"/>.</summary>
    public async Task<Notification> WaitForAsync(string path, string alertName, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            var hit = Received.FirstOrDefault(n => n.Path == path && n.AlertNames.Contains(alertName));
            if (hit is not null) return hit;
            await Task.Delay(100);
        }
        throw new TimeoutException($"no notification of {alertName} on {path} in {timeout}; received: " +
            string.Join("; ", Received.Select(n => $"{n.Path} [{string.Join(",", n.AlertNames)}]")));
    }

    public bool Got(string alertName) => Received.Any(n => n.AlertNames.Contains(alertName));

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        _loop.Wait(TimeSpan.FromSeconds(5));
    }
}
