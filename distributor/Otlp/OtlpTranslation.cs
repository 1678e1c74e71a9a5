using Amphora.Distributor.Prompb;

namespace Amphora.Distributor.Otlp;

/// <summary>
/// What an OTLP export request became: a remote-write request for the distributor's usual path, and the data points that
/// could not be translated, counted by reason (a stable error id) with the first refusal described.
/// </summary>
/// <param name="maxLabelBytes">Most bytes of label names and values the result may hold in all: resource and point attributes
/// are copied into every series they produce, so a small request could otherwise expand to any size.</param>
public sealed class OtlpTranslation(RequestShapeLimits? limits = null, long maxLabelBytes = long.MaxValue)
{
    /// <summary>The <c>maxLabelBytes</c> the translation was bounded by.</summary>
    public long MaxLabelBytes { get; } = maxLabelBytes;

    /// <summary>Bytes of label names and values in <see cref="Request"/>.</summary>
    public long LabelBytes { get; private set; }

    public WriteRequest Request { get; } = new();

    /// <summary>True when the result outgrew the per-request limits and translation stopped; the request is refused whole.</summary>
    public bool OverLimit { get; private set; }

    /// <summary>OTLP data points in the request.</summary>
    public long Points { get; internal set; }

    /// <summary>Data points refused by the translation (delta temporality, exponential histograms, invalid points).</summary>
    public long RejectedPoints { get; private set; }

    /// <summary>The first refusal, naming the metric and what to change; null when every point was translated.</summary>
    public string? FirstRejection { get; private set; }

    public Dictionary<string, long> RejectedByReason { get; } = new(StringComparer.Ordinal);

    /// <summary>Samples and labels of <see cref="Request"/>, for the per-request limits.</summary>
    public long Samples { get; private set; }
    public long Labels { get; private set; }

    internal void Counted(long labels, long labelBytes)
    {
        Samples++;
        Labels += labels;
        LabelBytes += labelBytes;
        if (LabelBytes > MaxLabelBytes || limits is not null && WriteRequestScan.OverLimit(limits, Request.Timeseries.Count, Samples, Labels) is not null)
            OverLimit = true;
    }

    internal void Reject(string id, string message, long points)
    {
        RejectedPoints += points;
        RejectedByReason[id] = RejectedByReason.GetValueOrDefault(id) + points;
        FirstRejection ??= $"{id}: {message}";
    }
}
