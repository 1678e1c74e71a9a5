namespace Amphora.Ring;

/// <summary>An ingester's lifecycle state as it reports it.</summary>
public enum InstanceState { Unknown, Joining, Active, Leaving }

/// <summary>One ring member: its name (which determines its tokens), gRPC address, reported state and health.</summary>
public sealed record RingInstance(string Name, string Address)
{
    public InstanceState State { get; init; } = InstanceState.Active;
    /// <summary>False when the last state poll failed; writes to it are attempted and counted as failures.</summary>
    public bool Healthy { get; init; } = true;
}

/// <summary>Where ring members come from: <c>--ring.members</c> as <c>name=host:port</c> or <c>host:port</c> (then named ingester-N).</summary>
public static class RingMembers
{
    public static List<RingInstance> Parse(string members)
    {
        var list = new List<RingInstance>();
        var parts = members.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        for (int i = 0; i < parts.Length; i++)
        {
            string part = parts[i];
            int eq = part.IndexOf('=');
            string name = eq > 0 ? part[..eq] : $"ingester-{i}";
            string address = eq > 0 ? part[(eq + 1)..] : part;
            if (!address.Contains(':'))
                throw new FormatException($"ring member \"{part}\" must be host:port or name=host:port");
            if (list.Any(m => m.Name == name))
                throw new FormatException($"ring member name \"{name}\" appears twice in --ring.members");
            list.Add(new RingInstance(name, address));
        }
        return list;
    }
}
