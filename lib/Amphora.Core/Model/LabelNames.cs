namespace Amphora.Model;

/// <summary>The legacy Prometheus name rules: label names <c>[a-zA-Z_][a-zA-Z0-9_]*</c>, metric names also allow ':'.</summary>
public static class LabelNames
{
    /// <summary>The label that carries a series' metric name.</summary>
    public const string MetricName = "__name__";

    public static bool IsValid(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty) return false;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool ok = char.IsAsciiLetter(c) || c == '_' || (i > 0 && char.IsAsciiDigit(c));
            if (!ok) return false;
        }
        return true;
    }

    public static bool IsValidMetricName(ReadOnlySpan<char> name)
    {
        if (name.IsEmpty) return false;
        for (int i = 0; i < name.Length; i++)
        {
            char c = name[i];
            bool ok = char.IsAsciiLetter(c) || c is '_' or ':' || (i > 0 && char.IsAsciiDigit(c));
            if (!ok) return false;
        }
        return true;
    }
}
