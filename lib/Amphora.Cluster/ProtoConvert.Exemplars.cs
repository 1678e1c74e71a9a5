using Google.Protobuf.Collections;

namespace Amphora.Cluster;

public static partial class ProtoConvert
{
    public static Protocol.Exemplar ToProto(Model.Exemplar e)
    {
        var p = new Protocol.Exemplar { Value = e.Value, TimestampMs = e.T };
        AddLabels(p.Labels, e.Labels);
        return p;
    }

    public static Model.Exemplar ToExemplar(Protocol.Exemplar p) => new(ToLabels(p.Labels), p.Value, p.TimestampMs);

    public static void AddMatcherSets(RepeatedField<Protocol.MatcherSet> into, IReadOnlyList<IReadOnlyList<Model.LabelMatcher>> sets)
    {
        foreach (var set in sets)
        {
            var p = new Protocol.MatcherSet();
            AddMatchers(p.Matchers, set);
            into.Add(p);
        }
    }
}
