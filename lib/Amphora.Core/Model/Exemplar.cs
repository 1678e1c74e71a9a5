namespace Amphora.Model;

/// <summary>An exemplar: a sample of one series with its own labels (a trace id, say), as remote write and OTLP carry it.</summary>
public readonly record struct Exemplar(Labels Labels, double Value, long T);

/// <summary>A series' exemplars in a time range, oldest first, as <c>/api/v1/query_exemplars</c> answers them.</summary>
public sealed record ExemplarSeries(Labels SeriesLabels, IReadOnlyList<Exemplar> Exemplars);

/// <summary>The limits Prometheus puts on one exemplar.</summary>
public static class ExemplarLimits
{
    /// <summary>Most characters (UTF-8 runes) of an exemplar's label names and values together, as Prometheus's ExemplarMaxLabelSetLength.</summary>
    public const int MaxLabelSetRunes = 128;

    /// <summary>Why an exemplar's labels are refused, or null.</summary>
    public static string? Check(Labels labels)
    {
        int runes = 0;
        foreach (var label in labels)
        {
            runes += CountRunes(label.Name) + CountRunes(label.Value);
        }
        return runes > MaxLabelSetRunes
            ? $"exemplar labels have {runes} characters, more than the {MaxLabelSetRunes} Prometheus allows for an exemplar's label names and values together"
            : null;
    }

    private static int CountRunes(string s)
    {
        int n = 0;
        foreach (var _ in s.EnumerateRunes()) n++;
        return n;
    }
}
