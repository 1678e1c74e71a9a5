using Amphora.Distributor.Otlp;

namespace Amphora.Distributor;

public sealed partial class DistributorService
{
    /// <summary>The id of a refusal for size (the same as a remote-write body over its limit is counted under).</summary>
    public const string OtlpRequestTooLarge = "err-amphora-request-too-large";

    /// <summary>
    /// Pushes a translated OTLP request down the remote-write path: the per-request limits, validation, the rate limit, the
    /// ingesters (WAL first) and the counters that usage is metered from all apply as to a remote write. Points the translation
    /// refused count as received and discarded, by their reason. A request over a per-request limit is refused whole (400).
    /// </summary>
    public async Task<PushResult> PushOtlpAsync(string workspace, OtlpTranslation translation, CancellationToken ct)
    {
        var options = OptionsFor(workspace);
        var workspaceLabel = new KeyValuePair<string, object?>("workspace", workspace);
        if (WriteRequestScan.OverLimit(options.RequestShape, translation.Request.Timeseries.Count, translation.Samples, translation.Labels,
                " (OpenTelemetry SDKs: export more often; the OpenTelemetry Collector: the batch processor's send_batch_max_size)") is { } over)
        {
            ReceivedSamples.Add(translation.Samples + translation.RejectedPoints, workspaceLabel);
            Discard(workspace, over.Id, translation.Samples + translation.RejectedPoints);
            LogRejected(workspace, over.Message);
            return new PushResult(400, over.Message);
        }
        if (translation.LabelBytes > translation.MaxLabelBytes)
        {
            string message = $"{OtlpRequestTooLarge}: the series translated from the OTLP request hold more than {translation.MaxLabelBytes} bytes " +
                             "of labels (resource and point attributes are copied into every series), more than a remote write may carry " +
                             "(set by --distributor.max-recv-msg-size or the workspace's max_request_body_bytes); send smaller batches or fewer attributes";
            ReceivedSamples.Add(translation.Samples + translation.RejectedPoints, workspaceLabel);
            Discard(workspace, OtlpRequestTooLarge, translation.Samples + translation.RejectedPoints);
            LogRejected(workspace, message);
            return new PushResult(413, message);
        }
        if (translation.RejectedPoints > 0)
        {
            ReceivedSamples.Add(translation.RejectedPoints, workspaceLabel);
            foreach (var (reason, count) in translation.RejectedByReason) Discard(workspace, reason, count);
            LogRejected(workspace, translation.FirstRejection ?? "");
        }
        return await PushDurablyAsync(PushAsync(workspace, translation.Request, ct));
    }
}
