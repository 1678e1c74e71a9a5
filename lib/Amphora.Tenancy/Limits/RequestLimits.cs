using Amphora.Model;

namespace Amphora.Tenancy.Limits;

/// <summary>Per-request checks of the write path: body size (413) and labels per series (400).</summary>
public sealed class RequestLimits(Overrides overrides, LimitMetrics? metrics = null)
{
    public long MaxBodyBytes(string workspace) => overrides.For(workspace).MaxRequestBodyBytes;

    public LimitViolation? CheckBodySize(string workspace, long bytes)
    {
        long max = MaxBodyBytes(workspace);
        if (bytes <= max) return null;
        metrics?.Rejected(workspace, LimitErrors.RequestTooLarge);
        return new LimitViolation(LimitErrors.RequestTooLarge,
            $"the request body of {bytes} bytes is larger than the limit of {max} bytes; send smaller requests or raise max_request_body_bytes in the overrides ({LimitErrors.RequestTooLarge})",
            413);
    }

    public LimitViolation? CheckLabelCount(string workspace, Labels series)
    {
        int max = overrides.For(workspace).MaxLabelNamesPerSeries;
        if (series.Count <= max) return null;
        metrics?.Rejected(workspace, LimitErrors.MaxLabelNamesPerSeries);
        return new LimitViolation(LimitErrors.MaxLabelNamesPerSeries,
            $"series {series} has {series.Count} labels, more than the limit of {max}; raise max_label_names_per_series in the overrides ({LimitErrors.MaxLabelNamesPerSeries})",
            400);
    }
}
