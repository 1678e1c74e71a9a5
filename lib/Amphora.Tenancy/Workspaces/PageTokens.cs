using System.Buffers.Text;
using System.Text;

namespace Amphora.Tenancy.Workspaces;

/// <summary>Opaque pagination tokens: base64url of a versioned "last key returned".</summary>
internal static class PageTokens
{
    public const int DefaultMaxResults = 100;
    public const int MaxMaxResults = 1000;

    private const string Prefix = "v1:";

    public static string Encode(string lastKey) => Base64Url.EncodeToString(Encoding.UTF8.GetBytes(Prefix + lastKey));

    public static string Decode(string token)
    {
        try
        {
            string text = Encoding.UTF8.GetString(Base64Url.DecodeFromChars(token));
            if (text.StartsWith(Prefix, StringComparison.Ordinal)) return text[Prefix.Length..];
        }
        catch (FormatException)
        {
        }
        throw TenancyException.Validation("nextToken: the token is not valid");
    }

    /// <summary>
    /// One page of <paramref name="ordered"/> (ordered by <paramref name="key"/>, ordinal): the items after the token's key
    /// that pass <paramref name="include"/>, at most <paramref name="maxResults"/> (AMP's default 100, 1 to 1000), and the
    /// token of the next page when there is more.
    /// </summary>
    public static (List<T> Page, string? NextToken) Page<T>(IEnumerable<T> ordered, Func<T, string> key, Func<T, bool> include,
        int? maxResults, string? nextToken)
    {
        int max = maxResults ?? DefaultMaxResults;
        if (max is < 1 or > MaxMaxResults) throw TenancyException.Validation($"maxResults: {max} is outside 1..{MaxMaxResults}");
        string? after = nextToken is null ? null : Decode(nextToken);
        var page = new List<T>(Math.Min(max, 64));
        foreach (var item in ordered)
        {
            if (after is not null && string.CompareOrdinal(key(item), after) <= 0) continue;
            if (!include(item)) continue;
            if (page.Count == max) return (page, Encode(key(page[^1])));
            page.Add(item);
        }
        return (page, null);
    }
}
