using System.IO.Compression;
using System.Runtime.InteropServices;
using System.Text;
using Amphora.Distributor.Otlp.Proto;
using Google.Protobuf;

namespace Amphora.Distributor.Otlp;

/// <summary>The two OTLP/HTTP encodings; the response is written in the request's.</summary>
public enum OtlpFormat { Protobuf, Json }

/// <summary>
/// Turns an OTLP/HTTP body into an <see cref="ExportMetricsServiceRequest"/>: gunzipped when <c>Content-Encoding: gzip</c>
/// (stopping one byte past the size limit, so a small body that inflates without end costs the limit), then decoded as
/// protobuf or as OTLP's JSON mapping (lowerCamelCase keys, 64-bit integers as strings or numbers, enums as integers; unknown
/// keys and fields ignored, as OTLP asks of receivers). Pure and thread-safe.
/// </summary>
public static class OtlpDecoder
{
    private static readonly MessageParser<ExportMetricsServiceRequest> Parser = ExportMetricsServiceRequest.Parser.WithDiscardUnknownFields(true);
    private static readonly JsonParser Json = new(JsonParser.Settings.Default.WithIgnoreUnknownFields(true));

    /// <summary>The encoding a Content-Type media type names, or null when it is neither OTLP encoding.</summary>
    public static OtlpFormat? FormatOf(string mediaType) =>
        mediaType.Equals("application/x-protobuf", StringComparison.OrdinalIgnoreCase) ? OtlpFormat.Protobuf
        : mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase) ? OtlpFormat.Json
        : null;

    /// <summary>Decodes <paramref name="body"/>: the request, or the refusal (400 or 413) when it cannot be decoded or is too large.</summary>
    public static async Task<(ExportMetricsServiceRequest? Request, PushResult? Refusal)> DecodeAsync(ReadOnlyMemory<byte> body, bool gzip,
        OtlpFormat format, DistributorOptions options, CancellationToken ct)
    {
        ExportMetricsServiceRequest? request;
        PushResult? refusal;
        if (!gzip)
        {
            TryParse(body.Span, format, options.RequestShape, out request, out refusal);
            return (request, refusal);
        }
        if (!MemoryMarshal.TryGetArray(body, out var segment)) segment = body.ToArray();
        RequestBody inflated;
        try
        {
            await using var stream = new GZipStream(new MemoryStream(segment.Array!, segment.Offset, segment.Count, writable: false),
                CompressionMode.Decompress);
            inflated = await RequestBody.ReadAsync(stream, null, options.MaxRecvMsgSize, ct);
        }
        catch (InvalidDataException e)
        {
            return (null, new PushResult(400, $"gzip: corrupt input: {e.Message}"));
        }
        using (inflated)
        {
            if (inflated.TooLarge)
                return (null, RemoteWriteDecoder.TooLarge($"decompressed size over {options.MaxRecvMsgSize} bytes", options.MaxRecvMsgSize,
                    options.MaxRecvMsgSizeSetting));
            TryParse(inflated.Memory.Span, format, options.RequestShape, out request, out refusal);
            return (request, refusal);
        }
    }

    private static bool TryParse(ReadOnlySpan<byte> bytes, OtlpFormat format, RequestShapeLimits limits, out ExportMetricsServiceRequest? request,
        out PushResult? refusal)
    {
        request = null;
        // Held to the per-request limits before it is decoded: every point becomes at least one sample, every point attribute
        // at least one label, and decoded they take far more memory than on the wire.
        if (format == OtlpFormat.Protobuf && OtlpWireScan.Count(bytes) is { } counted &&
            WriteRequestScan.OverLimit(limits, 0, counted.Points, counted.Attributes,
                " (OpenTelemetry SDKs: export more often; the OpenTelemetry Collector: the batch processor's send_batch_max_size)") is { } over)
        {
            refusal = new PushResult(400, over.Message);
            return false;
        }
        try
        {
            request = format == OtlpFormat.Protobuf ? Parser.ParseFrom(bytes) : Json.Parse<ExportMetricsServiceRequest>(HexIdsAsBase64(DecodeUtf8(bytes)));
        }
        catch (InvalidProtocolBufferException e)
        {
            refusal = new PushResult(400, format == OtlpFormat.Protobuf
                ? $"protobuf: cannot decode the ExportMetricsServiceRequest: {e.Message}"
                : $"json: cannot decode the ExportMetricsServiceRequest (OTLP JSON encoding): {e.Message}");
            return false;
        }
        catch (Exception e) when (e is InvalidJsonException or DecoderFallbackException or FormatException or System.Text.Json.JsonException)
        {
            refusal = new PushResult(400, $"json: cannot decode the ExportMetricsServiceRequest (OTLP JSON encoding): {e.Message}");
            return false;
        }
        refusal = null;
        return true;
    }

    private static readonly string[] IdKeys = ["traceId", "spanId", "trace_id", "span_id"];

    /// <summary>
    /// OTLP's JSON encoding writes exemplars' <c>traceId</c> and <c>spanId</c> in hex, where the protobuf JSON mapping expects
    /// base64 for bytes; they are rewritten before the protobuf parser reads them (only when the body has them at all). A value
    /// that is not hex is refused as a decoding error.
    /// </summary>
    internal static string HexIdsAsBase64(string json)
    {
        if (!IdKeys.Any(k => json.Contains(k, StringComparison.Ordinal))) return json;
        var root = System.Text.Json.Nodes.JsonNode.Parse(json, documentOptions: new System.Text.Json.JsonDocumentOptions { MaxDepth = 256 });
        if (root is null) return json;
        var pending = new Stack<System.Text.Json.Nodes.JsonNode>();
        pending.Push(root);
        while (pending.TryPop(out var node))
        {
            if (node is System.Text.Json.Nodes.JsonArray array)
            {
                foreach (var item in array) if (item is not null) pending.Push(item);
                continue;
            }
            if (node is not System.Text.Json.Nodes.JsonObject obj) continue;
            foreach (var key in IdKeys)
                if (obj[key] is System.Text.Json.Nodes.JsonValue value && value.TryGetValue(out string? hex))
                {
                    try
                    {
                        obj[key] = Convert.ToBase64String(Convert.FromHexString(hex));
                    }
                    catch (FormatException)
                    {
                        throw new FormatException($"exemplar {key} \"{Otlp.OtlpTranslator.Shown(hex)}\" is not hex (OTLP/JSON writes trace and span ids in hex)");
                    }
                }
            foreach (var (_, child) in obj) if (child is System.Text.Json.Nodes.JsonObject or System.Text.Json.Nodes.JsonArray) pending.Push(child);
        }
        return root.ToJsonString();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static string DecodeUtf8(ReadOnlySpan<byte> bytes) => StrictUtf8.GetString(bytes);
}
