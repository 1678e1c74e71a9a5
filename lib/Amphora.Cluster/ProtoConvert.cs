using Amphora.Cluster.Protocol;
using Amphora.Model;
using Google.Protobuf.Collections;
using Label = Amphora.Model.Label;

namespace Amphora.Cluster;

/// <summary>Conversions between the model and the ingester protocol's messages.</summary>
public static partial class ProtoConvert
{
    public static void AddLabels(RepeatedField<Protocol.Label> into, Labels labels)
    {
        foreach (var l in labels) into.Add(new Protocol.Label { Name = l.Name, Value = l.Value });
    }

    public static Labels ToLabels(RepeatedField<Protocol.Label> labels)
    {
        var array = new Label[labels.Count];
        bool sorted = true;
        for (int i = 0; i < array.Length; i++)
        {
            array[i] = new Label(labels[i].Name, labels[i].Value);
            if (i > 0 && string.CompareOrdinal(array[i - 1].Name, array[i].Name) >= 0) sorted = false;
        }
        return sorted ? Labels.FromSorted(array) : Labels.FromUnsorted(array);
    }

    public static void AddMatchers(RepeatedField<Protocol.LabelMatcher> into, IReadOnlyList<Model.LabelMatcher> matchers)
    {
        foreach (var m in matchers)
            into.Add(new Protocol.LabelMatcher
            {
                Name = m.Name,
                Value = m.Value,
                Type = m.Type switch
                {
                    MatchType.Equal => Protocol.LabelMatcher.Types.Type.Equal,
                    MatchType.NotEqual => Protocol.LabelMatcher.Types.Type.NotEqual,
                    MatchType.Regex => Protocol.LabelMatcher.Types.Type.Regex,
                    _ => Protocol.LabelMatcher.Types.Type.NotRegex,
                },
            });
    }

    public static List<Model.LabelMatcher> ToMatchers(RepeatedField<Protocol.LabelMatcher> matchers) =>
        matchers.Select(m => Model.LabelMatcher.Create(m.Type switch
        {
            Protocol.LabelMatcher.Types.Type.Equal => MatchType.Equal,
            Protocol.LabelMatcher.Types.Type.NotEqual => MatchType.NotEqual,
            Protocol.LabelMatcher.Types.Type.Regex => MatchType.Regex,
            _ => MatchType.NotRegex,
        }, m.Name, m.Value)).ToList();
}
