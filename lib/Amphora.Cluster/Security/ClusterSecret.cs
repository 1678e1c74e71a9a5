using System.Security.Cryptography;
using System.Text;

namespace Amphora.Cluster.Security;

/// <summary>
/// The secret every component of a cluster is given (<c>--cluster.secret-file</c>): clients send it with every call as the
/// gRPC metadata <c>authorization: Bearer &lt;secret&gt;</c>, and the ingester compares it in constant time before it reads the
/// request message. Only its SHA-256 is kept for the comparison, so two values of different lengths take the same time.
/// </summary>
public sealed class ClusterSecret
{
    public const string MetadataKey = "authorization";
    public const string Scheme = "Bearer ";
    public const int MinLength = 16;
    public const int MaxLength = 4096;

    private readonly byte[] _digest;
    private readonly string _value;

    private ClusterSecret(string value)
    {
        _value = value;
        _digest = SHA256.HashData(Encoding.UTF8.GetBytes(value));
    }

    /// <summary>The metadata a client sends with every call.</summary>
    public KeyValuePair<string, string> Metadata => new(MetadataKey, Scheme + _value);

    /// <summary>A secret from its text: 16 to 4096 printable ASCII characters (a header value), no spaces.</summary>
    /// <exception cref="FormatException">The text breaks that rule; the message names it.</exception>
    public static ClusterSecret Parse(string value)
    {
        if (value.Length is < MinLength or > MaxLength)
            throw new FormatException($"the cluster secret must be {MinLength} to {MaxLength} characters long (it has {value.Length}); " +
                                      "for example: openssl rand -hex 32");
        foreach (char c in value)
            if (c is <= ' ' or > '~')
                throw new FormatException("the cluster secret may hold only printable ASCII characters without spaces (it is sent as a gRPC header)");
        return new ClusterSecret(value);
    }

    /// <summary>The secret in a file (as a Kubernetes Secret is mounted); a trailing newline is ignored.</summary>
    /// <exception cref="FormatException">The file's content is not a valid secret.</exception>
    public static ClusterSecret FromFile(string path) => Parse(File.ReadAllText(path).TrimEnd('\r', '\n'));

    /// <summary>Whether <paramref name="authorization"/> (the call's <c>authorization</c> metadata) carries this secret.</summary>
    public bool Matches(string? authorization)
    {
        if (authorization is null || !authorization.StartsWith(Scheme, StringComparison.Ordinal)) return false;
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(authorization, Scheme.Length, authorization.Length - Scheme.Length), presented);
        return CryptographicOperations.FixedTimeEquals(presented, _digest);
    }
}
