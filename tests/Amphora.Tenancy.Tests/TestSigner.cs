using System.Security.Cryptography;
using System.Text;

namespace Amphora.Tenancy.Tests;

/// <summary>
/// An AWS Signature Version 4 signer written for the tests straight from the AWS specification, independent of the product
/// code: canonical request, string to sign, HMAC-SHA256 key derivation with <see cref="HMACSHA256"/>.
/// </summary>
public static class TestSigner
{
    public sealed record Signed(string Authorization, string AmzDate, string Signature);

    /// <param name="headers">Headers to sign (lowercase names), must include host and x-amz-date.</param>
    public static Signed Sign(string method, string path, string query, SortedDictionary<string, string> headers, byte[] body,
        string keyId, string secret, string region, string service, DateTimeOffset time)
    {
        string amzDate = time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'");
        string date = amzDate[..8];
        headers["x-amz-date"] = amzDate;
        string canonicalUri = string.Join('/', path.Split('/').Select(Uri.EscapeDataString));
        string canonicalQuery = string.Join('&', query.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Select(kv => (Uri.EscapeDataString(Uri.UnescapeDataString(kv[0])), Uri.EscapeDataString(Uri.UnescapeDataString(kv.Length > 1 ? kv[1] : ""))))
            .OrderBy(kv => kv.Item1, StringComparer.Ordinal).ThenBy(kv => kv.Item2, StringComparer.Ordinal)
            .Select(kv => kv.Item1 + "=" + kv.Item2));
        var canonicalHeaders = new StringBuilder();
        foreach (var (name, value) in headers) canonicalHeaders.Append(name).Append(':').Append(value.Trim()).Append('\n');
        string signedHeaders = string.Join(';', headers.Keys);
        string payloadHash = Hex(SHA256.HashData(body));
        string canonicalRequest = $"{method}\n{canonicalUri}\n{canonicalQuery}\n{canonicalHeaders}\n{signedHeaders}\n{payloadHash}";
        string scope = $"{date}/{region}/{service}/aws4_request";
        string stringToSign = $"AWS4-HMAC-SHA256\n{amzDate}\n{scope}\n{Hex(SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)))}";
        byte[] kDate = Hmac(Encoding.UTF8.GetBytes("AWS4" + secret), date);
        byte[] kRegion = Hmac(kDate, region);
        byte[] kService = Hmac(kRegion, service);
        byte[] kSigning = Hmac(kService, "aws4_request");
        string signature = Hex(Hmac(kSigning, stringToSign));
        return new Signed($"AWS4-HMAC-SHA256 Credential={keyId}/{scope}, SignedHeaders={signedHeaders}, Signature={signature}", amzDate, signature);
    }

    private static byte[] Hmac(byte[] key, string data)
    {
        using var h = new HMACSHA256(key);
        return h.ComputeHash(Encoding.UTF8.GetBytes(data));
    }

    private static string Hex(byte[] b) => string.Concat(b.Select(x => x.ToString("x2")));
}
