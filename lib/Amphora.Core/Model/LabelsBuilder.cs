namespace Amphora.Model;

/// <summary>Mutable helper to derive a label set from another: set, delete, then <see cref="Build"/>. Not thread-safe.</summary>
public sealed class LabelsBuilder
{
    private readonly List<Label> _labels = new();

    public LabelsBuilder() { }
    public LabelsBuilder(Labels from) => Reset(from);

    public LabelsBuilder Reset(Labels from)
    {
        _labels.Clear();
        _labels.EnsureCapacity(from.Count + 1); // room for one Set without growing
        foreach (var l in from.AsSpan()) _labels.Add(l);
        return this;
    }

    /// <summary>Sets a label; an empty value deletes it (PromQL semantics).</summary>
    public LabelsBuilder Set(string name, string value)
    {
        int i = IndexOf(name);
        if (value.Length == 0)
        {
            if (i >= 0) _labels.RemoveAt(i);
            return this;
        }
        if (i >= 0) _labels[i] = new Label(name, value);
        else _labels.Add(new Label(name, value));
        return this;
    }

    public LabelsBuilder Delete(params ReadOnlySpan<string> names)
    {
        foreach (var n in names)
        {
            int i = IndexOf(n);
            if (i >= 0) _labels.RemoveAt(i);
        }
        return this;
    }

    public string Get(string name)
    {
        int i = IndexOf(name);
        return i >= 0 ? _labels[i].Value : "";
    }

    private int IndexOf(string name)
    {
        for (int i = 0; i < _labels.Count; i++)
            if (_labels[i].Name == name) return i;
        return -1;
    }

    public Labels Build()
    {
        var arr = _labels.ToArray();
        Array.Sort(arr, static (a, b) => string.CompareOrdinal(a.Name, b.Name));
        return Labels.FromSorted(arr);
    }
}
