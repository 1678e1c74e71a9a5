namespace Amphora.Distributor;

public sealed partial class DistributorService
{
    /// <summary>
    /// Decodes a remote write 2.0 body (snappy-compressed <c>io.prometheus.write.v2.Request</c>) and pushes it as a 1.0 request,
    /// so validation, limits, usage and the WAL apply as to 1.0. Returns the answer and what the request held, from which the
    /// endpoint reports what was written.
    /// </summary>
    public async Task<(PushResult Result, RemoteWriteV2Counts Counts)> PushV2BodyAsync(string workspace, ReadOnlyMemory<byte> snappyBody,
        CancellationToken ct)
    {
        var options = OptionsFor(workspace);
        if (!RemoteWriteDecoder.TryDecompress(snappyBody.Span, options, out var decoded, out var refusal) ||
            !RemoteWriteV2.TryDecode(decoded, options, out var request, out var counts, out refusal))
        {
            LogRejected(workspace, refusal!.Message ?? "");
            return (refusal, default);
        }
        return (await PushDurablyAsync(PushAsync(workspace, request!, ct)), counts);
    }
}
