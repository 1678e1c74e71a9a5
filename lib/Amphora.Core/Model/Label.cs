namespace Amphora.Model;

/// <summary>One label: a name and a value. Names starting with <c>__</c> are reserved.</summary>
public readonly record struct Label(string Name, string Value) : IComparable<Label>
{
    /// <summary>The label that holds a series' metric name.</summary>
    public const string MetricName = "__name__";

    public int CompareTo(Label other)
    {
        int c = string.CompareOrdinal(Name, other.Name);
        return c != 0 ? c : string.CompareOrdinal(Value, other.Value);
    }

    public override string ToString() => $"{Name}=\"{Value}\"";
}
