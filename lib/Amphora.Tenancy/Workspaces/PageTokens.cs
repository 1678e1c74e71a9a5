using System.Buffers.Text;
using System.Text;

namespace Amphora.Tenancy.Workspaces;

/// <summary>Opaque pagination tokens: base64url of a versioned "last key returned".</summary>
internal static class PageTokens
{
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
}
