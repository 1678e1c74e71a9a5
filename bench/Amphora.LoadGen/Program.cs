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
    $"failed requests {result.FailedRequests}, {result.Elapsed.TotalSeconds:F1} s, {result.SamplesPerSecond:F0} samples/s"));
// One JSON line on stdout for the benchmark runner.
Console.Out.WriteLine(JsonSerializer.Serialize(new
{
    samplesSent = result.SamplesSent,
    samplesAccepted = result.SamplesAccepted,
    requests = result.Requests,
    failedRequests = result.FailedRequests,
    elapsedSeconds = result.Elapsed.TotalSeconds,
    samplesPerSecond = result.SamplesPerSecond,
    statuses = result.StatusCounts.ToDictionary(kv => kv.Key.ToString(CultureInfo.InvariantCulture), kv => kv.Value),
}));
return result.FailedRequests == 0 ? 0 : 1;
