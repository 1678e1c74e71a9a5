using System.Collections;
using System.Text;

namespace Amphora.Model;

/// <summary>
/// An immutable label set, sorted by name with unique names. This is a series' identity.
/// Build one with <see cref="LabelsBuilder"/> or <see cref="FromSorted"/> / <see cref="FromUnsorted"/>.
/// Equality and ordering are by content; <see cref="StableHash"/> is the same in every process
/// (never .NET's randomised <c>HashCode</c>), so it may be used for sharding and on disk.
/// </summary>
public sealed class Labels : IReadOnlyList<Label>, IEquatable<Labels>, IComparable<Labels>
{
    public static readonly Labels Empty = new([]);

    private readonly Label[] _labels;
    private ulong _hash;

    private Labels(Label[] sorted) => _labels = sorted;

    /// <summary>Wraps an array the caller guarantees is sorted by name with unique names. The array is owned by the result.</summary>
    public static Labels FromSorted(Label[] sorted) => sorted.Length == 0 ? Empty : new Labels(sorted);

    /// <summary>Copies, sorts and de-duplicates (the last value of a repeated name wins).</summary>
    public static Labels FromUnsorted(IEnumerable<Label> labels)
    {
        var list = new List<Label>(labels);
        list.Sort(static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        var result = new List<Label>(list.Count);
        foreach (var l in list)
        {
            if (result.Count > 0 && result[^1].Name == l.Name) result[^1] = l;
            else result.Add(l);
        }
        return FromSorted(result.ToArray());
    }

    public static Labels FromStrings(params string[] nameValuePairs)
    {
        if (nameValuePairs.Length % 2 != 0) throw new ArgumentException("name/value pairs expected", nameof(nameValuePairs));
        var list = new Label[nameValuePairs.Length / 2];
        for (int i = 0; i < list.Length; i++) list[i] = new Label(nameValuePairs[2 * i], nameValuePairs[2 * i + 1]);
        return FromUnsorted(list);
    }

    public int Count => _labels.Length;
    public Label this[int index] => _labels[index];
    public ReadOnlySpan<Label> AsSpan() => _labels;
    public bool IsEmpty => _labels.Length == 0;

    /// <summary>The value of label <paramref name="name"/>, or "" when absent (PromQL treats the two alike).</summary>
    public string Get(string name)
    {
        foreach (ref readonly var l in _labels.AsSpan())
            if (l.Name == name) return l.Value;
        return "";
    }

    public bool Has(string name)
    {
        foreach (ref readonly var l in _labels.AsSpan())
            if (l.Name == name) return true;
        return false;
    }

    public string MetricName => Get(Label.MetricName);

    /// <summary>A 64-bit hash of names and values (<see cref="StableHashing.XxHash3"/>); identical in every process and version.</summary>
    public ulong StableHash
    {
        get
        {
            if (_hash == 0) _hash = StableHashing.XxHash3(this) | 1UL;
            return _hash;
        }
    }

    /// <summary>The same labels without <paramref name="names"/>.</summary>
    public Labels Without(params ReadOnlySpan<string> names)
    {
        int removed = 0;
        foreach (var l in _labels)
            if (names.Contains(l.Name)) removed++;
        if (removed == 0) return this;
        var kept = new Label[_labels.Length - removed];
        int k = 0;
        foreach (var l in _labels)
            if (!names.Contains(l.Name)) kept[k++] = l;
        return FromSorted(kept);
    }

    /// <summary>Only the labels named in <paramref name="names"/>.</summary>
    public Labels Keep(params ReadOnlySpan<string> names)
    {
        var kept = new List<Label>(names.Length);
        foreach (var l in _labels)
            if (names.Contains(l.Name)) kept.Add(l);
        return kept.Count == _labels.Length ? this : FromSorted(kept.ToArray());
    }

    public Labels WithoutMetricName() => Has(Label.MetricName) ? Without(Label.MetricName) : this;

    public bool Equals(Labels? other)
    {
        if (ReferenceEquals(this, other)) return true;
        if (other is null || other._labels.Length != _labels.Length) return false;
        if (_hash != 0 && other._hash != 0 && _hash != other._hash) return false;
        for (int i = 0; i < _labels.Length; i++)
            if (_labels[i].Name != other._labels[i].Name || _labels[i].Value != other._labels[i].Value) return false;
        return true;
    }

    public override bool Equals(object? obj) => obj is Labels l && Equals(l);
    public override int GetHashCode() => (int)StableHash ^ (int)(StableHash >> 32);

    /// <summary>Prometheus's label-set order: label by label, name then value; a prefix sorts first.</summary>
    public int CompareTo(Labels? other)
    {
        if (other is null) return 1;
        int n = Math.Min(_labels.Length, other._labels.Length);
        for (int i = 0; i < n; i++)
        {
            int c = string.CompareOrdinal(_labels[i].Name, other._labels[i].Name);
            if (c != 0) return c;
            c = string.CompareOrdinal(_labels[i].Value, other._labels[i].Value);
            if (c != 0) return c;
        }
        return _labels.Length.CompareTo(other._labels.Length);
    }

    public static bool operator ==(Labels? a, Labels? b) => a is null ? b is null : a.Equals(b);
    public static bool operator !=(Labels? a, Labels? b) => !(a == b);

    public IEnumerator<Label> GetEnumerator() => ((IEnumerable<Label>)_labels).GetEnumerator();
    IEnumerator IEnumerable.GetEnumerator() => _labels.GetEnumerator();

    /// <summary>Prometheus's text form: <c>name{a="b", c="d"}</c>, with the metric name outside the braces.</summary>
    public override string ToString()
    {
        var sb = new StringBuilder();
        string name = MetricName;
        sb.Append(name);
        sb.Append('{');
        bool first = true;
        foreach (var l in _labels)
        {
            if (l.Name == Label.MetricName) continue;
            if (!first) sb.Append(", ");
            first = false;
            sb.Append(l.Name).Append("=\"");
            AppendEscaped(sb, l.Value);
            sb.Append('"');
        }
        sb.Append('}');
        return sb.ToString();
    }

    internal static void AppendEscaped(StringBuilder sb, string value)
    {
        foreach (char c in value)
        {
            switch (c)
            {
                case '\\': sb.Append("\\\\"); break;
                case '"': sb.Append("\\\""); break;
                case '\n': sb.Append("\\n"); break;
                default: sb.Append(c); break;
            }
        }
    }
}
