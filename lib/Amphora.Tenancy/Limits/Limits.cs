using YamlDotNet.Serialization;

namespace Amphora.Tenancy.Limits;

/// <summary>
/// The limits of one workspace. Defaults follow AMP's default quotas. In the overrides file each field has the snake_case
/// name given by its <see cref="YamlMemberAttribute"/>; durations are written like <c>32d</c>, <c>2m</c>, <c>90s</c>.
/// </summary>
public sealed record Limits
{
    public static readonly Limits Default = new();

    /// <summary>Samples per second accepted (token bucket refill rate).</summary>
    public double IngestionRate { get; init; } = 70_000;
    /// <summary>Samples that may arrive at once (token bucket size).</summary>
    public long IngestionBurstSize { get; init; } = 1_000_000;
    public long MaxSeriesPerWorkspace { get; init; } = 10_000_000;
    public long MaxSeriesPerMetric { get; init; } = 2_000_000;
    public int MaxLabelNamesPerSeries { get; init; } = 70;
    /// <summary>Largest remote-write body after decompression, in bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 10L << 20;
    public long MaxSamplesProcessed { get; init; } = 12_000_000;
    public TimeSpan MaxQueryRange { get; init; } = TimeSpan.FromDays(32);
    public TimeSpan QueryTimeout { get; init; } = TimeSpan.FromMinutes(2);
    public int MaxConcurrentQueries { get; init; } = 20;
    /// <summary>How long samples are kept; null uses the workspace's retentionPeriodInDays (AMP's default: 150 days).</summary>
    public TimeSpan? RetentionPeriod { get; init; }
}

/// <summary>Stable ids of limit errors: the <c>reason</c> label of the rejection counter, quoted in every message.</summary>
public static class LimitErrors
{
    public const string IngestionRate = "err-amphora-ingestion-rate-limited";
    public const string IngestionBurst = "err-amphora-ingestion-burst-exceeded";
    public const string MaxSeriesPerWorkspace = "err-amphora-max-series-per-workspace";
    public const string MaxSeriesPerMetric = "err-amphora-max-series-per-metric";
    public const string MaxSeriesPerLabelSet = "err-amphora-max-series-per-label-set";
    public const string MaxLabelNamesPerSeries = "err-amphora-max-label-names-per-series";
    public const string RequestTooLarge = "err-amphora-request-too-large";
    public const string MaxSamplesProcessed = "err-amphora-max-samples-processed";
    public const string MaxQueryRange = "err-amphora-max-query-range";
    public const string QueryTimeout = "err-amphora-query-timeout";
    public const string MaxConcurrentQueries = "err-amphora-max-concurrent-queries";

    public static readonly IReadOnlyList<string> All =
    [
        IngestionRate, IngestionBurst, MaxSeriesPerWorkspace, MaxSeriesPerMetric, MaxSeriesPerLabelSet, MaxLabelNamesPerSeries,
        RequestTooLarge, MaxSamplesProcessed, MaxQueryRange, QueryTimeout, MaxConcurrentQueries,
    ];
}

/// <summary>A limit that refused something: the stable id, a message naming the limit and the setting, and the HTTP status.</summary>
public sealed record LimitViolation(string ErrorId, string Message, int HttpStatus, TimeSpan? RetryAfter = null);
