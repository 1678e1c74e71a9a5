using System.Net;

namespace Amphora.EndToEnd.Tests.Harness;

/// <summary>
/// An exporter on a free loopback port for Prometheus to scrape: answers 404 off <c>/metrics</c>, and hands each scrape of
/// <c>/metrics</c> to <see cref="Scrape"/>, which sets the status or writes the body.
/// </summary>
public abstract class LoopbackExporter : IDisposable
{
    private readonly HttpListener _listener = new();
    private Task? _serving;

    public int Port { get; } = FreePort.Next();

    /// <summary>Starts serving; a subclass calls it last in its constructor.</summary>
    protected void Listen()
    {
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _serving = Task.Run(ServeAsync);
    }

    protected abstract Task Scrape(HttpListenerRequest request, HttpListenerResponse response);

    private async Task ServeAsync()
    {
        while (_listener.IsListening)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
            {
                return;
            }
            using var response = context.Response;
            if (context.Request.Url?.AbsolutePath != "/metrics")
            {
                response.StatusCode = 404;
                continue;
            }
            await Scrape(context.Request, response);
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        _listener.Close();
        try
        {
            _serving?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException) { }
    }
}
