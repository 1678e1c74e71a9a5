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

    /// <summary>
    /// A name under Prometheus 3's UTF-8 name validation scheme (<c>metric_name_validation_scheme: utf8</c>): any non-empty
    /// text, when <paramref name="utf8"/>; otherwise the legacy rule for metric names (<paramref name="metric"/>) or label names.
    /// Callers decode names strictly, so a string here is valid UTF-8.
    /// </summary>
    public static bool IsValid(ReadOnlySpan<char> name, bool utf8, bool metric) =>
        utf8 ? !name.IsEmpty : metric ? IsValidMetricName(name) : IsValid(name);

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
