using System.Text;
using System.Text.Unicode;

namespace Amphora.Querier.Api;

/// <summary>
/// Decodes an API request's query string and its <c>application/x-www-form-urlencoded</c> body strictly, so that nothing a
/// client sends becomes a 500: every percent escape must be well-formed, every name and value valid UTF-8 without NUL,
/// and the body, the number of fields and each name and value are bounded. A violation is a <c>bad_data</c>
/// <see cref="ApiException"/> naming the parameter or the limit.
/// </summary>
public static class FormDecoder
{
    /// <summary>The largest form-encoded body: 10 MiB, Go's <c>ParseForm</c> limit and so Prometheus's.</summary>
    public const long MaxBodyBytes = 10L << 20;

    /// <summary>Fields over the query string and the body together (ASP.NET Core's form reader's default).</summary>
    public const int MaxFields = 1024;

    /// <summary>The longest value of one field, decoded (ASP.NET Core's form reader's default).</summary>
    public const int MaxValueBytes = 4 << 20;

    /// <summary>The longest field name, decoded (ASP.NET Core's form reader's default).</summary>
    public const int MaxKeyBytes = 2048;

    /// <summary>
    /// Appends the fields of <paramref name="encoded"/> (<c>a=1&amp;b=2</c>, without a leading <c>?</c>) to
    /// <paramref name="into"/>; <paramref name="source"/> ("query string", "form body") goes into error messages.
    /// </summary>
    public static void Decode(ReadOnlySpan<byte> encoded, string source, List<KeyValuePair<string, string>> into)
    {
        while (encoded.Length > 0)
        {
            int amp = encoded.IndexOf((byte)'&');
            var pair = amp < 0 ? encoded : encoded[..amp];
            encoded = amp < 0 ? default : encoded[(amp + 1)..];
            if (pair.IsEmpty) continue;
            if (into.Count >= MaxFields)
                throw new ApiException(ApiErrorType.BadData,
                    $"too many parameters: more than {MaxFields} fields in the query string and form body together");
            int eq = pair.IndexOf((byte)'=');
            var rawKey = eq < 0 ? pair : pair[..eq];
            var rawValue = eq < 0 ? default : pair[(eq + 1)..];
            string key = Unescape(rawKey, MaxKeyBytes, null, source);
            string value = Unescape(rawValue, MaxValueBytes, key, source);
            into.Add(new(key, value));
        }
    }

    /// <summary>Reads a form-encoded body of at most <see cref="MaxBodyBytes"/> and decodes it.</summary>
    public static async Task DecodeBodyAsync(Stream body, long? declaredLength, List<KeyValuePair<string, string>> into, CancellationToken ct)
    {
        if (declaredLength > MaxBodyBytes) throw BodyTooLarge();
        using var buffer = new MemoryStream(declaredLength is { } n ? (int)n : 4096);
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct)) > 0)
        {
            if (buffer.Length + read > MaxBodyBytes) throw BodyTooLarge();
            buffer.Write(chunk, 0, read);
        }
        Decode(buffer.GetBuffer().AsSpan(0, (int)buffer.Length), "form body", into);
    }

    /// <summary>Checks a value that another reader decoded (a multipart form): no NUL.</summary>
    public static void CheckDecoded(string key, string value)
    {
        if (key.Contains('\0')) throw new ApiException(ApiErrorType.BadData, "a parameter name contains a NUL character");
        if (value.Contains('\0')) throw ApiException.InvalidParam(key, "the value contains a NUL character");
    }

    private static ApiException BodyTooLarge() => new(ApiErrorType.BadData,
        $"form body too large: more than {MaxBodyBytes >> 20} MiB ({MaxBodyBytes} bytes), the query API's limit (as Prometheus's); " +
        "send fewer or shorter parameters");

    /// <summary>Percent-decodes one name (<paramref name="key"/> null) or value, '+' as space, into strict UTF-8.</summary>
    private static string Unescape(ReadOnlySpan<byte> raw, int maxBytes, string? key, string source)
    {
        // Decoding never makes the text longer, so the decoded length is known to fit before any allocation grows.
        Span<byte> bytes = raw.Length <= 512 ? stackalloc byte[raw.Length] : new byte[raw.Length];
        int n = 0;
        for (int i = 0; i < raw.Length; i++)
        {
            byte b = raw[i];
            if (b == '+') b = (byte)' ';
            else if (b == '%')
            {
                if (i + 2 >= raw.Length || Hex(raw[i + 1]) < 0 || Hex(raw[i + 2]) < 0)
                {
                    string escape = Encoding.ASCII.GetString(raw.Slice(i, Math.Min(3, raw.Length - i)));
                    throw Invalid(key, source, $"invalid URL escape \"{escape}\"");
                }
                b = (byte)(Hex(raw[i + 1]) * 16 + Hex(raw[i + 2]));
                i += 2;
            }
            bytes[n++] = b;
        }
        var decoded = bytes[..n];
        if (n > maxBytes)
            throw key is null
                ? new ApiException(ApiErrorType.BadData, $"a parameter name in the {source} is longer than {maxBytes} bytes")
                : ApiException.InvalidParam(key, $"the value is longer than {maxBytes >> 20} MiB ({maxBytes} bytes), the query API's limit per parameter");
        if (!Utf8.IsValid(decoded)) throw Invalid(key, source, "not valid UTF-8 (percent-encode the text's UTF-8 bytes)");
        if (decoded.Contains((byte)0)) throw Invalid(key, source, "contains a NUL character");
        return Encoding.UTF8.GetString(decoded);
    }

    private static ApiException Invalid(string? key, string source, string reason) => key is null
        ? new ApiException(ApiErrorType.BadData, $"invalid parameter name in the {source}: {reason}")
        : ApiException.InvalidParam(key, reason);

    private static int Hex(byte c) => c switch
    {
        >= (byte)'0' and <= (byte)'9' => c - '0',
        >= (byte)'a' and <= (byte)'f' => c - 'a' + 10,
        >= (byte)'A' and <= (byte)'F' => c - 'A' + 10,
        _ => -1,
    };
}
