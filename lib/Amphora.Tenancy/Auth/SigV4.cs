using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;

namespace Amphora.Tenancy.Auth;

/// <summary>
/// The pieces of AWS Signature Version 4 (header form, <c>AWS4-HMAC-SHA256</c>): the canonical request, the string to sign
/// and the signing key, as the AWS specification defines them. Pure functions, thread-safe.
/// </summary>
public static class SigV4
{
    public const string Algorithm = "AWS4-HMAC-SHA256";
    public const string DateFormat = "yyyyMMdd'T'HHmmss'Z'";
    public const string EmptyBodySha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    /// <summary>A parsed <c>Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...</c> header.</summary>
    public sealed record Authorization(string AccessKeyId, string Date, string Region, string Service, string Terminator,
        IReadOnlyList<string> SignedHeaders, string Signature)
    {
        public string Scope => $"{Date}/{Region}/{Service}/{Terminator}";
    }

    public static bool TryParseAuthorization(string header, out Authorization? auth, out string reason)
    {
        auth = null;
        if (!header.StartsWith(Algorithm + " ", StringComparison.Ordinal)) { reason = "not an AWS4-HMAC-SHA256 authorization"; return false; }
        string? credential = null, signedHeaders = null, signature = null;
        foreach (var part in header[(Algorithm.Length + 1)..].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            int eq = part.IndexOf('=');
            if (eq <= 0) { reason = $"malformed authorization component \"{Cut(part)}\""; return false; }
            string name = part[..eq], value = part[(eq + 1)..];
            switch (name)
            {
                case "Credential": credential = value; break;
                case "SignedHeaders": signedHeaders = value; break;
                case "Signature": signature = value; break;
            }
        }
        if (credential is null || signedHeaders is null || signature is null)
        {
            reason = "the authorization header must contain Credential, SignedHeaders and Signature";
            return false;
        }
        var scope = credential.Split('/');
        if (scope.Length != 5 || scope[0].Length == 0) { reason = "Credential must be <key id>/<date>/<region>/<service>/aws4_request"; return false; }
        if (signature.Length != 64 || !signature.All(char.IsAsciiHexDigitLower)) { reason = "Signature must be 64 lowercase hex digits"; return false; }
        var headers = signedHeaders.Split(';');
        for (int i = 0; i < headers.Length; i++)
        {
            if (headers[i].Length == 0 || headers[i] != headers[i].ToLowerInvariant()) { reason = "SignedHeaders must be lowercase names separated by ';'"; return false; }
            if (i > 0 && string.CompareOrdinal(headers[i - 1], headers[i]) >= 0) { reason = "SignedHeaders must be sorted"; return false; }
        }
        auth = new Authorization(scope[0], scope[1], scope[2], scope[3], scope[4], headers, signature);
        reason = "";
        return true;
    }

    public static bool TryParseDate(string? amzDate, out DateTimeOffset time) =>
        DateTimeOffset.TryParseExact(amzDate, DateFormat, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out time);

    /// <summary>The canonical request; <paramref name="canonicalUri"/> is already encoded (see <see cref="CanonicalUri"/>).</summary>
    public static string CanonicalRequest(string method, string canonicalUri, string rawQuery, IHeaderDictionary headers,
        IReadOnlyList<string> signedHeaders, string payloadHash)
    {
        var sb = new StringBuilder(256);
        sb.Append(method).Append('\n');
        sb.Append(canonicalUri).Append('\n');
        sb.Append(CanonicalQuery(rawQuery)).Append('\n');
        foreach (var name in signedHeaders)
            sb.Append(name).Append(':').Append(CanonicalHeaderValue(headers[name])).Append('\n');
        sb.Append('\n');
        sb.Append(string.Join(';', signedHeaders)).Append('\n');
        sb.Append(payloadHash);
        return sb.ToString();
    }

    /// <summary>
    /// The canonical URI from the path as sent: AWS services other than S3 encode the (already encoded) path again, segment by
    /// segment; with <paramref name="doubleEncode"/> false the decoded path is encoded once (S3 style, also used by some clients).
    /// </summary>
    public static string CanonicalUri(string rawPath, bool doubleEncode)
    {
        if (rawPath.Length == 0) return "/";
        string source = doubleEncode ? rawPath : Uri.UnescapeDataString(rawPath);
        return UriEncode(source, encodeSlash: false);
    }

    public static string CanonicalQuery(string rawQuery)
    {
        if (rawQuery.Length == 0) return "";
        var pairs = new List<(string Name, string Value)>();
        foreach (var part in rawQuery.Split('&'))
        {
            if (part.Length == 0) continue;
            int eq = part.IndexOf('=');
            string name = eq < 0 ? part : part[..eq];
            string value = eq < 0 ? "" : part[(eq + 1)..];
            pairs.Add((UriEncode(FormDecode(name), true), UriEncode(FormDecode(value), true)));
        }
        pairs.Sort(static (a, b) =>
        {
            int c = string.CompareOrdinal(a.Name, b.Name);
            return c != 0 ? c : string.CompareOrdinal(a.Value, b.Value);
        });
        var sb = new StringBuilder(rawQuery.Length + 16);
        foreach (var (n, v) in pairs)
        {
            if (sb.Length > 0) sb.Append('&');
            sb.Append(n).Append('=').Append(v);
        }
        return sb.ToString();
    }

    private static string FormDecode(string s) => Uri.UnescapeDataString(s.Replace('+', ' '));

    /// <summary>Header values trimmed, inner runs of spaces collapsed to one, several values joined by ','.</summary>
    public static string CanonicalHeaderValue(IEnumerable<string?> values)
    {
        var sb = new StringBuilder();
        bool firstValue = true;
        foreach (var raw in values)
        {
            if (!firstValue) sb.Append(',');
            firstValue = false;
            bool space = false;
            foreach (char c in (raw ?? "").Trim())
            {
                if (c == ' ') { space = true; continue; }
                if (space) { sb.Append(' '); space = false; }
                sb.Append(c);
            }
        }
        return sb.ToString();
    }

    /// <summary>AWS URI encoding: unreserved characters (A-Z a-z 0-9 - _ . ~) kept, every other UTF-8 byte as %XX uppercase.</summary>
    public static string UriEncode(string s, bool encodeSlash)
    {
        var sb = new StringBuilder(s.Length + 8);
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.' or '~' || (c == '/' && !encodeSlash)) { sb.Append(c); continue; }
            int len = char.IsHighSurrogate(c) && i + 1 < s.Length
                ? Encoding.UTF8.GetBytes(s.AsSpan(i++, 2), utf8)
                : Encoding.UTF8.GetBytes(s.AsSpan(i, 1), utf8);
            for (int b = 0; b < len; b++) sb.Append('%').Append(utf8[b].ToString("X2", CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    public static string StringToSign(string amzDate, string scope, string canonicalRequest) =>
        $"{Algorithm}\n{amzDate}\n{scope}\n{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";

    public static byte[] SigningKey(ReadOnlySpan<byte> secretUtf8, string date, string region, string service)
    {
        byte[] seed = new byte[4 + secretUtf8.Length];
        "AWS4"u8.CopyTo(seed);
        secretUtf8.CopyTo(seed.AsSpan(4));
        byte[] kDate = HMACSHA256.HashData(seed, Encoding.UTF8.GetBytes(date));
        CryptographicOperations.ZeroMemory(seed);
        byte[] kRegion = HMACSHA256.HashData(kDate, Encoding.UTF8.GetBytes(region));
        byte[] kService = HMACSHA256.HashData(kRegion, Encoding.UTF8.GetBytes(service));
        return HMACSHA256.HashData(kService, "aws4_request"u8);
    }

    /// <summary>The lowercase hex signature of <paramref name="stringToSign"/>.</summary>
    public static string Sign(byte[] signingKey, string stringToSign) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(signingKey, Encoding.UTF8.GetBytes(stringToSign)));

    private static string Cut(string s) => s.Length > 40 ? s[..40] + "…" : s;
}
