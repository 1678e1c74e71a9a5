using System.Globalization;

namespace Amphora.LoadGen;

/// <summary>Command-line options of the load generator (<c>--name=value</c>).</summary>
public sealed record LoadOptions
{
    public Uri Url { get; init; } = new("http://127.0.0.1:9009/api/v1/push");
    public string? Workspace { get; init; } = "bench";
    public int Series { get; init; } = 10_000;
    public TimeSpan Interval { get; init; } = TimeSpan.FromSeconds(15);
    public int BatchSize { get; init; } = 2000;
    public int Connections { get; init; } = 4;
    public double Churn { get; init; }
    /// <summary>replay: send a time range as fast as the receiver accepts; realtime: one scrape per interval at wall-clock time.</summary>
    public string Mode { get; init; } = "replay";
    /// <summary>For replay: how much history to send, ending now.</summary>
    public TimeSpan Duration { get; init; } = TimeSpan.FromMinutes(30);
    public int Seed { get; init; } = 1;
    /// <summary>Replay: explicit first and last sample timestamps (ms); when unset, <see cref="Duration"/> ending now.</summary>
    public long? StartMs { get; init; }
    public long? EndMs { get; init; }
    /// <summary>The latency histograms as native histograms (schema 3) instead of classic buckets.</summary>
    public bool NativeHistograms { get; init; }

    public const string Help = """
        amphora-loadgen: sends Prometheus remote write 1.0 like a fleet of Prometheus servers scraping node exporters.
          --url=URL              remote write endpoint (default http://127.0.0.1:9009/api/v1/push)
          --workspace=ID         X-Scope-OrgID header; empty for none (default bench)
          --series=N             active series (default 10000)
          --interval=15s         scrape interval between samples of a series
          --batch=2000           samples per request
          --connections=4        concurrent senders, each owning a shard of the series
          --churn=0.0            fraction of series replaced per interval
          --mode=replay|realtime replay a time range as fast as accepted, or send in real time
          --duration=30m         replay: history to send, ending now; realtime: how long to run
          --seed=1               random seed (same seed, same data)
          --start-ms=MS --end-ms=MS  replay: first and last sample timestamps instead of --duration ending now
          --native-histograms=false  send the latency histograms as native histograms (schema 3) instead of classic buckets
        """;

    public static LoadOptions Parse(string[] args)
    {
        var o = new LoadOptions();
        foreach (var arg in args)
        {
            if (!arg.StartsWith("--", StringComparison.Ordinal) || !arg.Contains('='))
                throw new ArgumentException($"unexpected argument \"{arg}\"; options look like --name=value");
            string name = arg[2..arg.IndexOf('=')];
            string value = arg[(arg.IndexOf('=') + 1)..];
            o = name switch
            {
                "url" => o with { Url = new Uri(value) },
                "workspace" => o with { Workspace = value.Length == 0 ? null : value },
                "series" => o with { Series = int.Parse(value, CultureInfo.InvariantCulture) },
                "interval" => o with { Interval = ParseDuration(value) },
                "batch" => o with { BatchSize = int.Parse(value, CultureInfo.InvariantCulture) },
                "connections" => o with { Connections = int.Parse(value, CultureInfo.InvariantCulture) },
                "churn" => o with { Churn = double.Parse(value, CultureInfo.InvariantCulture) },
                "mode" when value is "replay" or "realtime" => o with { Mode = value },
                "duration" => o with { Duration = ParseDuration(value) },
                "seed" => o with { Seed = int.Parse(value, CultureInfo.InvariantCulture) },
                "native-histograms" => o with { NativeHistograms = bool.Parse(value) },
                "start-ms" => o with { StartMs = long.Parse(value, CultureInfo.InvariantCulture) },
                "end-ms" => o with { EndMs = long.Parse(value, CultureInfo.InvariantCulture) },
                _ => throw new ArgumentException($"unknown option --{name} (or bad value \"{value}\")"),
            };
        }
        return o;
    }

    private static TimeSpan ParseDuration(string s)
    {
        char unit = s[^1];
        double n = double.Parse(s[..^1], CultureInfo.InvariantCulture);
        return unit switch
        {
            's' => TimeSpan.FromSeconds(n),
            'm' => TimeSpan.FromMinutes(n),
            'h' => TimeSpan.FromHours(n),
            _ => throw new ArgumentException($"duration \"{s}\" must end in s, m or h"),
        };
    }
}
