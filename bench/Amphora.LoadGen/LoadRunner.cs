using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Amphora.LoadGen;

/// <summary>What a run achieved.</summary>
/// <param name="LatencyP50Ms">Median time from sending an accepted request to its answer, retries included (NaN without any).</param>
/// <param name="LatencyP99Ms">The 99th percentile of the same.</param>
public sealed record LoadResult(long SamplesSent, long SamplesAccepted, long Requests, long FailedRequests, TimeSpan Elapsed,
    IReadOnlyDictionary<int, long> StatusCounts, double LatencyP50Ms, double LatencyP99Ms)
{
    public double SamplesPerSecond => SamplesAccepted / Elapsed.TotalSeconds;
}

/// <summary>
/// Sends the catalog's samples over several connections. Each connection owns a fixed shard of the series and sends its
/// batches in time order, so every series' samples arrive in order even though connections run concurrently. A request
/// answered 5xx or 429 is retried with backoff, as Prometheus's queue manager does; 4xx is counted and dropped.
/// </summary>
public sealed class LoadRunner(LoadOptions options) : IDisposable
{
    private readonly HttpClient _http = new(new SocketsHttpHandler { MaxConnectionsPerServer = options.Connections })
    {
        Timeout = TimeSpan.FromMinutes(2),
    };
    private long _sent, _accepted, _requests, _failed;
    private readonly Dictionary<int, long> _statuses = new();
    private readonly List<double> _latenciesMs = new();

    public Task<LoadResult> RunAsync(CancellationToken ct) => RunAsync(new SeriesCatalog(options.Series, options.Seed, options.NativeHistograms), ct);

    /// <summary>Runs over a given catalog, so a caller can continue the same series (and their values) in several phases.</summary>
    public async Task<LoadResult> RunAsync(SeriesCatalog catalog, CancellationToken ct)
    {
        var stopwatch = Stopwatch.StartNew();
        long intervalMs = (long)options.Interval.TotalMilliseconds;
        long now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        if (options.Mode == "replay")
        {
            long end = options.EndMs ?? now;
            long start = options.StartMs ?? end - (long)options.Duration.TotalMilliseconds;
            start -= start % intervalMs;
            for (long t = start; t <= end && !ct.IsCancellationRequested; t += intervalMs)
            {
                await SendScrapeAsync(catalog, t, ct);
                catalog.Advance(options.Interval.TotalSeconds);
                if (options.Churn > 0) catalog.Churn(options.Churn);
            }
        }
        else
        {
            var end = DateTime.UtcNow + options.Duration;
            while (DateTime.UtcNow < end && !ct.IsCancellationRequested)
            {
                var next = DateTime.UtcNow + options.Interval;
                await SendScrapeAsync(catalog, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), ct);
                catalog.Advance(options.Interval.TotalSeconds);
                if (options.Churn > 0) catalog.Churn(options.Churn);
                var wait = next - DateTime.UtcNow;
                if (wait > TimeSpan.Zero) await Task.Delay(wait, ct);
            }
        }
        stopwatch.Stop();
        lock (_statuses)
        {
            _latenciesMs.Sort();
            return new LoadResult(_sent, _accepted, _requests, _failed, stopwatch.Elapsed, new Dictionary<int, long>(_statuses),
                Percentile(_latenciesMs, 0.50), Percentile(_latenciesMs, 0.99));
        }
    }

    /// <summary>The nearest-rank percentile of sorted values.</summary>
    private static double Percentile(List<double> sorted, double q) =>
        sorted.Count == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Count) - 1, 0, sorted.Count - 1)];

    /// <summary>Sends one scrape of every series at <paramref name="t"/>, sharded over the connections.</summary>
    private async Task SendScrapeAsync(SeriesCatalog catalog, long t, CancellationToken ct)
    {
        var all = catalog.All().ToArray();
        int shards = options.Connections;
        var tasks = new Task[shards];
        for (int s = 0; s < shards; s++)
        {
            int shard = s;
            tasks[s] = Task.Run(async () =>
            {
                var encoder = new WriteRequestEncoder();
                int inBatch = 0;
                for (int i = shard; i < all.Length; i += shards)
                {
                    if (all[i].Kind == SeriesKind.NativeHistogram) encoder.AddHistogram(all[i], t);
                    else encoder.AddSeries(all[i], t, all[i].Value);
                    if (++inBatch == options.BatchSize)
                    {
                        await SendAsync(encoder.Compress(), inBatch, ct);
                        encoder.Reset();
                        inBatch = 0;
                    }
                }
                if (inBatch > 0) await SendAsync(encoder.Compress(), inBatch, ct);
            }, ct);
        }
        await Task.WhenAll(tasks);
    }

    public void Dispose() => _http.Dispose();

    private async Task SendAsync(byte[] body, int samples, CancellationToken ct)
    {
        Interlocked.Add(ref _sent, samples);
        long started = Stopwatch.GetTimestamp();
        var backoff = TimeSpan.FromMilliseconds(30);
        for (int attempt = 0; ; attempt++)
        {
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/x-protobuf");
            content.Headers.ContentEncoding.Add("snappy");
            using var request = new HttpRequestMessage(HttpMethod.Post, options.Url) { Content = content };
            request.Headers.Add("X-Prometheus-Remote-Write-Version", "0.1.0");
            if (options.Workspace is not null) request.Headers.Add("X-Scope-OrgID", options.Workspace);
            HttpStatusCode status;
            try
            {
                using var response = await _http.SendAsync(request, ct);
                status = response.StatusCode;
            }
            catch (HttpRequestException)
            {
                status = HttpStatusCode.ServiceUnavailable;
            }
            Interlocked.Increment(ref _requests);
            bool accepted = (int)status is >= 200 and < 300;
            lock (_statuses)
            {
                _statuses[(int)status] = _statuses.GetValueOrDefault((int)status) + 1;
                if (accepted) _latenciesMs.Add(Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            }
            if (accepted)
            {
                Interlocked.Add(ref _accepted, samples);
                return;
            }
            bool retry = (int)status >= 500 || status == HttpStatusCode.TooManyRequests;
            if (!retry || attempt >= 10)
            {
                Interlocked.Increment(ref _failed);
                return;
            }
            await Task.Delay(backoff, ct);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(5).Ticks));
        }
    }
}
