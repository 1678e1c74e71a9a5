using Amphora.Distributor.Prompb;

namespace Amphora.Distributor.Otlp;

/// <summary>
/// What an OTLP export request became: a remote-write request for the distributor's usual path, and the data points that
/// could not be translated, counted by reason (a stable error id) with the first refusal described.
/// </summary>
public sealed class OtlpTranslation
{
    public WriteRequest Request { get; } = new();

    /// <summary>OTLP data points in the request.</summary>
    public long Points { get; internal set; }

    /// <summary>Data points refused by the translation (delta temporality, exponential histograms, invalid points).</summary>
    public long RejectedPoints { get; private set; }

    /// <summary>The first refusal, naming the metric and what to change; null when every point was translated.</summary>
    public string? FirstRejection { get; private set; }

    public Dictionary<string, long> RejectedByReason { get; } = new(StringComparer.Ordinal);

    /// <summary>Samples and labels of <see cref="Request"/>, for the per-request limits.</summary>
    public long Samples { get; internal set; }
    public long Labels { get; internal set; }

    internal void Reject(string id, string message, long points)
    {
        RejectedPoints += points;
        RejectedByReason[id] = RejectedByReason.GetValueOrDefault(id) + points;
        FirstRejection ??= $"{id}: {message}";
    }
}
