using System.Globalization;
using System.Text.Json;
using Amphora.LoadGen;

if (args.Contains("--help"))
{
    Console.Out.Write(LoadOptions.Help);
    return 0;
}
LoadOptions options;
try
{
    options = LoadOptions.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException or UriFormatException)
{
    Console.Error.WriteLine($"amphora-loadgen: {e.Message}");
    return 2;
}

using var cts = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
using var runner = new LoadRunner(options);
var result = await runner.RunAsync(cts.Token);
Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"sent {result.SamplesSent} samples in {result.Requests} requests, accepted {result.SamplesAccepted}, " +
    $"failed requests {result.FailedRequests}, {result.Elapsed.TotalSeconds:F1} s, {result.SamplesPerSecond:F0} samples/s, " +
    $"request latency p50 {result.LatencyP50Ms:F1} ms p99 {result.LatencyP99Ms:F1} ms"));
// One JSON line on stdout for the benchmark runner.
Console.Out.WriteLine(JsonSerializer.Serialize(new
{
    samplesSent = result.SamplesSent,
    samplesAccepted = result.SamplesAccepted,
    requests = result.Requests,
    failedRequests = result.FailedRequests,
    elapsedSeconds = result.Elapsed.TotalSeconds,
    samplesPerSecond = result.SamplesPerSecond,
    latencyP50Ms = double.IsNaN(result.LatencyP50Ms) ? (double?)null : result.LatencyP50Ms, // JSON has no NaN
    latencyP99Ms = double.IsNaN(result.LatencyP99Ms) ? (double?)null : result.LatencyP99Ms,
    statuses = result.StatusCounts.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
}));
return result.FailedRequests == 0 ? 0 : 1;
