using Amphora.Model;

namespace Amphora.Ring;

/// <summary>
/// A consistent-hash ring on 32-bit tokens. Each instance owns tokens derived deterministically from its name, so every
/// distributor and querier computes the same ring from the same member list. A key is owned by the first
/// <see cref="ReplicationFactor"/> distinct ACTIVE instances found walking clockwise from it. Immutable.
/// </summary>
public sealed class HashRing
{
    public const int DefaultTokensPerInstance = 1024;

    private readonly uint[] _tokens;
    private readonly int[] _owners;
    private readonly int _owning;

    public HashRing(IReadOnlyList<RingInstance> instances, int replicationFactor, int tokensPerInstance = DefaultTokensPerInstance)
    {
        if (replicationFactor < 1) throw new ArgumentOutOfRangeException(nameof(replicationFactor), "the replication factor must be at least 1");
        Instances = instances;
        ReplicationFactor = replicationFactor;
        var pairs = new List<(uint Token, int Owner)>(instances.Count * tokensPerInstance);
        for (int i = 0; i < instances.Count; i++)
            foreach (uint t in Tokens(instances[i].Name, tokensPerInstance))
                pairs.Add((t, i));
        pairs.Sort((a, b) => a.Token != b.Token ? a.Token.CompareTo(b.Token) : string.CompareOrdinal(instances[a.Owner].Name, instances[b.Owner].Name));
        _tokens = pairs.Select(p => p.Token).ToArray();
        _owners = pairs.Select(p => p.Owner).ToArray();
        _owning = Math.Min(replicationFactor, instances.Count(i => i.State == InstanceState.Active));
    }

    public IReadOnlyList<RingInstance> Instances { get; }
    public int ReplicationFactor { get; }

    /// <summary>Writes succeed when this many replicas have the samples: RF/2 + 1 (2 of 3).</summary>
    public int WriteQuorum => ReplicationFactor / 2 + 1;

    /// <summary>The tokens of an instance: a 64-bit mix of FNV-1a(name) and the token index, folded to 32 bits.</summary>
    public static IEnumerable<uint> Tokens(string name, int count)
    {
        ulong seed = StableHashing.Fnv1a64(name, StableHashing.Fnv1aOffset);
        for (int i = 0; i < count; i++)
        {
            ulong z = seed + (ulong)(i + 1) * 0x9E3779B97F4A7C15UL;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            z ^= z >> 31;
            yield return (uint)(z ^ (z >> 32));
        }
    }

    /// <summary>The ring key of a series: the stable hash of workspace and sorted labels, folded to 32 bits.</summary>
    public static uint SeriesKey(string workspace, Labels labels)
    {
        ulong h = StableHashing.SeriesKey(workspace, labels);
        return (uint)(h ^ (h >> 32));
    }

    /// <summary>Fills <paramref name="into"/> with the instances that own <paramref name="key"/> (indexes into <see cref="Instances"/>).</summary>
    public void Get(uint key, List<int> into)
    {
        into.Clear();
        if (_tokens.Length == 0) return;
        int start = Array.BinarySearch(_tokens, key);
        if (start < 0) start = ~start;
        for (int n = 0; n < _tokens.Length && into.Count < _owning; n++)
        {
            int owner = _owners[(start + n) % _tokens.Length];
            if (Instances[owner].State != InstanceState.Active || into.Contains(owner)) continue;
            into.Add(owner);
        }
    }

    /// <summary>The share of the 32-bit key space whose first owner is each instance (for balance checks and metrics).</summary>
    public double[] OwnedShares()
    {
        var shares = new double[Instances.Count];
        for (int i = 0; i < _tokens.Length; i++)
        {
            uint from = i == 0 ? _tokens[^1] : _tokens[i - 1];
            ulong span = i == 0 ? (ulong)_tokens[0] + (uint.MaxValue - from) + 1 : (ulong)_tokens[i] - from;
            shares[_owners[i]] += span / 4294967296.0;
        }
        return shares;
    }
}
