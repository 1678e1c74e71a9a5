using Amphora.Distributor.Prompb;
using Google.Protobuf;

namespace Amphora.Distributor;

/// <summary>
/// Turns a remote-write 1.0 body (snappy block format) into a <see cref="WriteRequest"/>, refusing before any expensive step
/// what would be refused after it: the decompressed length is read from the snappy header and checked before decompressing,
/// and the protobuf framing is scanned and its entries counted (<see cref="WriteRequestScan"/>) before the message is decoded,
/// so the work done for a refused request is bounded by the limits, not by the request. Pure, thread-safe.
/// </summary>
public static class RemoteWriteDecoder
{
    private static readonly MessageParser<WriteRequest> Parser = WriteRequest.Parser.WithDiscardUnknownFields(true);

    /// <summary>Snappy's worst-case size of a block that decompresses to <paramref name="limit"/> bytes.</summary>
    public static long MaxCompressedSize(long limit) => 32 + limit + limit / 6;

    public static PushResult TooLarge(string what, long limit, string setting = "distributor.max-recv-msg-size") =>
        new(413, $"request body too large: {what} exceeds the limit of {limit} bytes (set by {setting})");

    /// <summary>Decodes <paramref name="compressed"/>; on refusal returns false with the answer (400 or 413) in <paramref name="refusal"/>.</summary>
    public static bool TryDecode(ReadOnlySpan<byte> compressed, DistributorOptions options, out WriteRequest? request, out RequestShape shape,
        out PushResult? refusal)
    {
        request = null;
        shape = default;
        if (!TryDecompress(compressed, options, out var decoded, out refusal)) return false;
        if (!WriteRequestScan.TryScan(decoded, options.RequestShape, out shape, out var shapeError))
        {
            refusal = new PushResult(400, shapeError!.Message);
            return false;
        }
        return TryParse(decoded, out request, out refusal);
    }

    /// <summary>The framing scan against the shape limits, then the generated parser (what answers the bodies
    /// <see cref="WriteRequestReader"/> declines).</summary>
    public static bool TryScanAndParse(byte[] decoded, DistributorOptions options, out WriteRequest? request, out PushResult? refusal)
    {
        request = null;
        if (!WriteRequestScan.TryScan(decoded, options.RequestShape, out _, out var shapeError))
        {
            refusal = new PushResult(400, shapeError!.Message);
            return false;
        }
        return TryParse(decoded, out request, out refusal);
    }

    /// <summary>Decodes a scanned body with the generated parser.</summary>
    public static bool TryParse(byte[] decoded, out WriteRequest? request, out PushResult? refusal)
    {
        request = null;
        try
        {
            request = Parser.ParseFrom(decoded);
        }
        catch (InvalidProtocolBufferException e)
        {
            refusal = new PushResult(400, $"protobuf: cannot decode the WriteRequest: {e.Message}");
            return false;
        }
        refusal = null;
        return true;
    }

    /// <summary>
    /// Decompresses a snappy block, checking the length its header declares against the size limit first; on refusal returns
    /// false with the answer (400 or 413). Shared by remote write 1.0 and 2.0.
    /// </summary>
    public static bool TryDecompress(ReadOnlySpan<byte> compressed, DistributorOptions options, out byte[] decoded, out PushResult? refusal)
    {
        decoded = [];
        if (!TryReadDecodedLength(compressed, out ulong decodedLength))
        {
            refusal = new PushResult(400, "snappy: corrupt input: the block does not start with a valid length");
            return false;
        }
        if (decodedLength > (ulong)options.MaxRecvMsgSize)
        {
            refusal = TooLarge($"decompressed size {decodedLength} bytes", options.MaxRecvMsgSize, options.MaxRecvMsgSizeSetting);
            return false;
        }
        try
        {
            decoded = IronSnappy.Snappy.Decode(compressed);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            refusal = new PushResult(400, $"snappy: corrupt input: {e.Message}");
            return false;
        }
        refusal = null;
        return true;
    }

    /// <summary>A snappy block starts with the decompressed length as a little-endian base-128 varint.</summary>
    private static bool TryReadDecodedLength(ReadOnlySpan<byte> block, out ulong length)
    {
        length = 0;
        for (int i = 0, shift = 0; i < block.Length && i < 10; i++, shift += 7)
        {
            length |= (ulong)(block[i] & 0x7f) << shift;
            if (block[i] < 0x80) return true;
        }
        return false;
    }
}
