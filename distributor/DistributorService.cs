using System.Diagnostics.Metrics;
using Amphora.Distributor.Prompb;
using Amphora.Services;
using Amphora.Storage;
using MetricMetadata = Amphora.Storage.MetricMetadata;
using Histogram = Amphora.Model.Histogram;
using Labels = Amphora.Model.Labels;
using FloatHistogram = Amphora.Model.FloatHistogram;
using Exemplar = Amphora.Model.Exemplar;
using Microsoft.Extensions.Logging;

namespace Amphora.Distributor;

/// <summary>The distributor's options, mapped from flags by the executable.</summary>
public sealed record DistributorOptions
{
    /// <summary>Largest request accepted after snappy decompression (distributor.max-recv-msg-size).</summary>
    public long MaxRecvMsgSize { get; init; } = 10 << 20;
    /// <summary>The setting that sets <see cref="MaxRecvMsgSize"/>, named in refusals.</summary>
    public string MaxRecvMsgSizeSetting { get; init; } = "distributor.max-recv-msg-size";
    public ValidationOptions Validation { get; init; } = new();

    /// <summary>Series, samples and labels one request may hold, checked before it is decoded.</summary>
    public RequestShapeLimits RequestShape { get; init; } = new();

    /// <summary>How OTLP metrics are translated (otlp.*).</summary>
    public Otlp.OtlpOptions Otlp { get; init; } = new();
}

/// <summary>The result of one remote-write request, ready to be turned into an HTTP answer.</summary>
public sealed record PushResult(int StatusCode, string? Message, TimeSpan? RetryAfter = null)
{
    /// <summary>Samples refused one by one (invalid series, out of order, over a series limit) while the others were kept;
    /// 0 when the whole request was refused or nothing was.</summary>
    public long Rejected { get; init; }
    /// <summary>How many of <see cref="Rejected"/> were native histogram samples.</summary>
    public long RejectedHistograms { get; init; }
    /// <summary>Exemplars handed to the storage.</summary>
    public long Exemplars { get; init; }
}

/// <summary>
/// The distributor: validates each series of a remote-write request, keeps the valid ones (partial accept, as Prometheus and
/// Mimir do) and pushes them to the ingesters; answers 400 naming the first refused series when anything was refused.
/// </summary>
public sealed partial class DistributorService : ServiceBase
{
    private static readonly Meter Meter = new("Amphora.Distributor");
    private static readonly Counter<long> ReceivedSamples = Meter.CreateCounter<long>("amphora_distributor_received_samples",
        description: "Samples received in remote-write requests, by workspace, before validation.");
    private static readonly Counter<long> DiscardedSamples = Meter.CreateCounter<long>("amphora_distributor_discarded_samples",
        description: "Samples refused, by workspace and reason (a stable error id).");
    private static readonly Counter<long> DiscardedExemplars = Meter.CreateCounter<long>("amphora_distributor_discarded_exemplars",
        description: "Exemplars dropped because their labels are not valid UTF-8 label names and values or exceed 128 characters.");
    private static readonly Counter<long> ReceivedMetadata = Meter.CreateCounter<long>("amphora_distributor_received_metadata",
        description: "Metric metadata entries received, by workspace.");

    public const string NativeHistogramsId = "err-amphora-native-histograms-unsupported";

    private readonly IIngesterPush _push;
    private readonly SeriesValidator _validator;
    private readonly ILogger _logger;

    public DistributorService(IIngesterPush push, DistributorOptions options, ILogger<DistributorService> logger)
    {
        _push = push;
        Options = options;
        _validator = new SeriesValidator(options.Validation);
        _logger = logger;
    }

    public override string Name => "distributor";
    public DistributorOptions Options { get; }

    /// <summary>The workspaces' limits overrides (their max_request_body_bytes and max_label_names_per_series apply to their
    /// requests); null applies the flags to every workspace.</summary>
    public Amphora.Tenancy.Limits.Overrides? Overrides { get; init; }

    /// <summary>The setting a workspace's own limit comes from, named in refusals.</summary>
    public const string OverridesSetting = "the workspace's limits overrides (--limits.overrides-file)";

    /// <summary>
    /// The options one workspace's requests are checked with: its own body size limit where it is below
    /// <c>distributor.max-recv-msg-size</c> (the process's cap, which bounds memory), and its own labels-per-series limit.
    /// </summary>
    public DistributorOptions OptionsFor(string workspace)
    {
        if (Overrides is null) return Options;
        var own = Overrides.For(workspace);
        var options = Options;
        if (own.MaxRequestBodyBytes < options.MaxRecvMsgSize)
            options = options with { MaxRecvMsgSize = own.MaxRequestBodyBytes, MaxRecvMsgSizeSetting = $"max_request_body_bytes in {OverridesSetting}" };
        if (own.MaxLabelNamesPerSeries != options.Validation.MaxLabelNamesPerSeries)
            options = options with
            {
                Validation = options.Validation with
                {
                    MaxLabelNamesPerSeries = own.MaxLabelNamesPerSeries,
                    MaxLabelNamesSetting = $"max_label_names_per_series in {OverridesSetting}",
                },
            };
        return options;
    }

    /// <summary>The workspaces' ingestion rate limits, checked before anything is stored; null admits every request.</summary>
    public Amphora.Tenancy.Limits.IngestionRateLimiter? IngestionRate { get; init; }

    /// <summary>
    /// Decodes a remote-write 1.0 body (snappy-compressed protobuf) and pushes it: the path of the HTTP endpoint after its
    /// header checks. Refusals of the whole request (corrupt, over a size or shape limit) come back as 400 or 413 and store nothing.
    /// The body is read in place (<see cref="WriteRequestReader"/>), and a series whose label fields were seen before takes its
    /// validated labels from <see cref="SeriesLabelsCache"/>; what the reader declines goes through the generated parser, so
    /// every answer stays what that path gives.
    /// </summary>
    public async Task<PushResult> PushBodyAsync(string workspace, ReadOnlyMemory<byte> snappyBody, CancellationToken ct)
    {
        var options = OptionsFor(workspace);
        if (RemoteWriteDecoder.TryDecompress(snappyBody.Span, options, out var decoded, out var refusal))
        {
            if (WriteRequestReader.TryRead(decoded, options.RequestShape, out var raw))
            {
                Intake intake;
                using (raw) intake = Validate(workspace, options, raw!);
                return await PushDurablyAsync(PushValidatedAsync(workspace, intake, raw!.Metadata, ct));
            }
            if (RemoteWriteDecoder.TryScanAndParse(decoded, options, out var request, out refusal))
                return await PushDurablyAsync(PushAsync(workspace, request!, ct));
        }
        LogRejected(workspace, refusal!.Message ?? "");
        return refusal;
    }

    /// <summary>A push, with a write that did not reach a quorum of ingesters answered 503.</summary>
    private static async Task<PushResult> PushDurablyAsync(Task<PushResult> push)
    {
        try
        {
            return await push;
        }
        catch (QuorumNotReachedException e)
        {
            // Not acknowledged: the sender retries, and replicas that did store the samples accept the duplicates.
            return new PushResult(503, "ingesters unavailable: " + e.Message);
        }
    }

    /// <summary>
    /// A series' exemplars that can be kept: labels of valid UTF-8 and valid names, within Prometheus's 128 characters. The
    /// others are dropped and counted (<c>amphora_distributor_discarded_exemplars</c>): as in Prometheus, an exemplar never
    /// fails a write.
    /// </summary>
    private static Exemplar[] ValidExemplars(IReadOnlyList<Prompb.Exemplar> exemplars, bool utf8Names)
    {
        if (exemplars.Count == 0) return [];
        var kept = new List<Exemplar>(exemplars.Count);
        foreach (var e in exemplars)
        {
            var labels = new List<Amphora.Model.Label>(e.Labels.Count);
            bool ok = true;
            foreach (var l in e.Labels)
            {
                if (!TryUtf8(l.Name, out var name) || !TryUtf8(l.Value, out var value) || !Amphora.Model.LabelNames.IsValid(name, utf8Names, metric: false)) { ok = false; break; }
                labels.Add(new Amphora.Model.Label(name, value));
            }
            var set = ok ? Labels.FromUnsorted(labels) : null;
            if (set is null || Amphora.Model.ExemplarLimits.Check(set) is not null)
            {
                DiscardedExemplars.Add(1);
                continue;
            }
            kept.Add(new Exemplar(set, e.Value, e.Timestamp));
        }
        return kept.ToArray();
    }

    private static readonly System.Text.UTF8Encoding StrictUtf8 = new(false, true);

    private static bool TryUtf8(Google.Protobuf.ByteString bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes.Span);
            return true;
        }
        catch (System.Text.DecoderFallbackException)
        {
            text = "";
            return false;
        }
    }

    /// <summary>The clock samples' timestamps are checked against (validation.create-grace-period).</summary>
    public TimeProvider Clock { get; init; } = TimeProvider.System;

    public async Task<PushResult> PushAsync(string workspace, WriteRequest request, CancellationToken ct) =>
        await PushValidatedAsync(workspace, Validate(OptionsFor(workspace), request), request.Metadata, ct);

    private SeriesValidator ValidatorFor(DistributorOptions options) =>
        ReferenceEquals(options, Options) ? _validator : new SeriesValidator(options.Validation);

    /// <summary>Validates each series of a decoded request, in order.</summary>
    private Intake Validate(DistributorOptions options, WriteRequest request)
    {
        var intake = new Intake(ValidatorFor(options), request.Timeseries.Count, Clock.GetUtcNow().ToUnixTimeMilliseconds());
        foreach (var ts in request.Timeseries)
        {
            intake.Received += ts.Samples.Count + ts.Histograms.Count;
            // Only the first refusal is described (it is the answer); the others are counted by reason, so a request of many
            // invalid series costs a counter increment each, not a message each.
            if (!intake.Validator.TryValidate(ts, out var labels, out var error, describe: intake.FirstInvalid is null))
            {
                intake.Refuse(error!, ts.Samples.Count, ts.Histograms.Count);
                continue;
            }
            int n = ts.Samples.Count;
            var t = System.Buffers.ArrayPool<long>.Shared.Rent(n);
            var v = System.Buffers.ArrayPool<double>.Shared.Rent(n);
            var st = System.Buffers.ArrayPool<long>.Shared.Rent(n);
            bool anyStart = false;
            for (int i = 0; i < n; i++)
            {
                var sample = ts.Samples[i];
                t[i] = sample.Timestamp;
                v[i] = sample.Value;
                anyStart |= (st[i] = sample.StartTimestamp) != 0;
            }
            Accept(intake, labels, t.AsSpan(0, n), v.AsSpan(0, n), anyStart ? st.AsSpan(0, n) : default, ts.Histograms, ts.Exemplars);
            System.Buffers.ArrayPool<long>.Shared.Return(t);
            System.Buffers.ArrayPool<double>.Shared.Return(v);
            System.Buffers.ArrayPool<long>.Shared.Return(st);
        }
        return intake;
    }

    /// <summary>Validates each series of a request read in place, taking the labels of known series from the cache.</summary>
    private Intake Validate(string workspace, DistributorOptions options, RawWriteRequest request)
    {
        var intake = new Intake(ValidatorFor(options), request.Series.Length, Clock.GetUtcNow().ToUnixTimeMilliseconds());
        var cache = SeriesLabelsCache.Shared;
        int context = cache.Context(workspace, intake.Validator.Options);
        long hits = 0, misses = 0;
        RawLabel[] raw = [];
        foreach (ref readonly var ts in request.Series)
        {
            intake.Received += ts.SampleCount + ts.HistogramCount;
            var key = request.LabelBytesOf(ts);
            bool cacheable = ts.LabelBytesLength >= 0;
            if (cacheable && cache.TryGet(context, key, out var labels)) hits++;
            else
            {
                misses++;
                if (raw.Length < ts.LabelCount) raw = new RawLabel[Math.Max(ts.LabelCount, 16)];
                if (!intake.Validator.TryValidate(request.LabelsOf(ts, raw), out labels, out var error, describe: intake.FirstInvalid is null))
                {
                    intake.Refuse(error!, ts.SampleCount, ts.HistogramCount);
                    continue;
                }
                // Only label sets that passed validation, under the key space of the settings that passed them.
                if (cacheable) cache.Add(context, key, labels);
            }
            Accept(intake, labels, request.TimestampsOf(ts), request.ValuesOf(ts), request.StartTimestampsOf(ts), request.HistogramsOf(ts),
                request.ExemplarsOf(ts));
        }
        SeriesLabelsCache.CountLookups(hits, misses);
        return intake;
    }

    /// <summary>What the validation of one request collected: the valid series, the first refusal, refusals by reason.</summary>
    private sealed class Intake(SeriesValidator validator, int series, long nowMs)
    {
        public SeriesValidator Validator { get; } = validator;
        public long NowMs { get; } = nowMs;
        public List<ValidSeries> Valid { get; } = new(series);
        public Dictionary<string, long> Discarded { get; } = new(StringComparer.Ordinal);
        public ValidationError? FirstInvalid;
        public long Received, RejectedHistograms;

        /// <summary>A series refused whole: its samples and histograms are counted under the reason.</summary>
        public void Refuse(ValidationError error, int samples, int histograms)
        {
            RejectedHistograms += histograms;
            FirstInvalid ??= error;
            Discarded[error.Id] = Discarded.GetValueOrDefault(error.Id) + samples + histograms;
        }

        public void RefuseOne(ValidationError error)
        {
            FirstInvalid ??= error;
            Discarded[error.Id] = Discarded.GetValueOrDefault(error.Id) + 1;
        }
    }

    /// <summary>
    /// Keeps what can be kept of a series whose labels are valid: its samples not too far in the future (copied from
    /// <paramref name="t"/>, <paramref name="v"/> and <paramref name="st"/>, the last empty when no sample has a start
    /// timestamp), its valid histograms and exemplars.
    /// </summary>
    private void Accept(Intake intake, Labels labels, ReadOnlySpan<long> t, ReadOnlySpan<double> v, ReadOnlySpan<long> st,
        IReadOnlyList<Prompb.Histogram> histogramSamples, IReadOnlyList<Prompb.Exemplar> exemplars)
    {
        var (histograms, floatHistograms) = histogramSamples.Count == 0 ? ([], []) : ValidHistograms(histogramSamples, labels, intake);
        // A series may carry exemplars alone: Prometheus sends a series' exemplars in a TimeSeries of their own, without
        // its samples, so those go on to the ingesters (which keep them for a series the head has).
        var seriesExemplars = ValidExemplars(exemplars, intake.Validator.Options.Utf8Names);
        if (t.Length == 0 && histograms.Length == 0 && floatHistograms.Length == 0 && seriesExemplars.Length == 0) return;
        var kept = new long[t.Length];
        var values = new double[t.Length];
        long[]? starts = null;
        int n = 0;
        for (int i = 0; i < t.Length; i++)
        {
            if (intake.Validator.CheckTimestamp(labels, t[i], intake.NowMs) is { } refused)
            {
                intake.RefuseOne(refused);
                continue;
            }
            kept[n] = t[i];
            values[n] = v[i];
            if (!st.IsEmpty && st[i] != 0) (starts ??= new long[t.Length])[n] = st[i];
            n++;
        }
        if (n == 0 && histograms.Length == 0 && floatHistograms.Length == 0 && seriesExemplars.Length == 0) return;
        if (n < t.Length)
        {
            Array.Resize(ref kept, n);
            Array.Resize(ref values, n);
            if (starts is not null) Array.Resize(ref starts, n);
        }
        intake.Valid.Add(new ValidSeries(labels, kept, values)
        {
            Histograms = histograms, FloatHistograms = floatHistograms, Exemplars = seriesExemplars,
            StartTimestamps = starts,
        });
    }

    /// <summary>Counts what validation refused, applies the rate limit, and pushes the valid series and the metadata.</summary>
    private async Task<PushResult> PushValidatedAsync(string workspace, Intake intake, IReadOnlyList<Prompb.MetricMetadata> requestMetadata,
        CancellationToken ct)
    {
        var valid = intake.Valid;
        var discarded = intake.Discarded;
        var firstInvalid = intake.FirstInvalid;
        long received = intake.Received, rejectedHistograms = intake.RejectedHistograms;
        foreach (var (reason, count) in discarded) Discard(workspace, reason, count);
        ReceivedSamples.Add(received, new KeyValuePair<string, object?>("workspace", workspace));
        if (IngestionRate?.Admit(workspace, received) is { } refusal)
        {
            Discard(workspace, refusal.ErrorId, received);
            return new PushResult(refusal.HttpStatus, $"{refusal.ErrorId}: {refusal.Message}", refusal.RetryAfter);
        }

        var metadata = new List<MetricMetadata>(requestMetadata.Count);
        foreach (var m in requestMetadata)
        {
            if (m.MetricFamilyName.Length == 0) continue;
            metadata.Add(new MetricMetadata(m.MetricFamilyName, TypeName(m.Type), m.Help, m.Unit));
        }
        if (metadata.Count > 0) ReceivedMetadata.Add(metadata.Count, new KeyValuePair<string, object?>("workspace", workspace));

        long rejected = 0, exemplars = 0;
        foreach (var count in discarded.Values) rejected += count;
        if (valid.Count > 0 || metadata.Count > 0)
        {
            var outcome = await _push.PushAsync(workspace, valid, metadata, ct);
            rejectedHistograms += outcome.RejectedHistograms;
            exemplars = outcome.Exemplars;
            foreach (var (reason, count) in outcome.RejectedByReason)
            {
                Discard(workspace, reason, count);
                rejected += count;
            }
            if (firstInvalid is null && outcome.FirstRejection is not null)
            {
                LogRejected(workspace, outcome.FirstRejection);
                return new PushResult(400, outcome.FirstRejection) { Rejected = rejected, RejectedHistograms = rejectedHistograms, Exemplars = exemplars };
            }
        }
        if (firstInvalid is not null)
        {
            LogRejected(workspace, firstInvalid.Message);
            return new PushResult(400, firstInvalid.Message) { Rejected = rejected, RejectedHistograms = rejectedHistograms, Exemplars = exemplars };
        }
        return new PushResult(204, null) { Exemplars = exemplars };
    }

    /// <summary>
    /// The series' native histograms that can be stored, in the order sent; each refused one is counted under its reason and the
    /// first described (what is wrong, when, which series). Limits count a histogram as one sample, as Prometheus's sample_limit.
    /// </summary>
    private ((long T, Histogram H)[], (long T, FloatHistogram H)[]) ValidHistograms(IReadOnlyList<Prompb.Histogram> samples, Labels labels,
        Intake intake)
    {
        var result = new List<(long, Histogram)>(samples.Count);
        var floats = new List<(long, FloatHistogram)>();
        foreach (var p in samples)
        {
            ValidationError? refused;
            if (!_push.StoresHistograms)
            {
                refused = new ValidationError(NativeHistogramsId, $"{NativeHistogramsId}: received a native histogram sample, which " +
                    "this cluster does not store yet (its ingester protocol does not carry histograms; a single process, " +
                    $"--target=all, stores them). series: '{SeriesValidator.Describe(labels)}'");
            }
            else
            {
                string? id, problem;
                object? value = RemoteWriteHistograms.IsFloat(p)
                    ? RemoteWriteHistograms.ConvertFloat(p, out id, out problem)
                    : RemoteWriteHistograms.Convert(p, out id, out problem);
                if (value is null)
                {
                    refused = new ValidationError(id!, $"{id}: the native histogram at {SeriesValidator.FormatTime(p.Timestamp)} cannot be " +
                        $"stored: {problem}. series: '{SeriesValidator.Describe(labels)}'");
                }
                else if ((refused = intake.Validator.CheckTimestamp(labels, p.Timestamp, intake.NowMs)) is null)
                {
                    if (value is FloatHistogram f) floats.Add((p.Timestamp, f));
                    else result.Add((p.Timestamp, (Histogram)value));
                    continue;
                }
            }
            intake.RefuseOne(refused);
            intake.RejectedHistograms++;
        }
        return (result.ToArray(), floats.ToArray());
    }

    private static void Discard(string workspace, string reason, long count) =>
        DiscardedSamples.Add(count, new KeyValuePair<string, object?>("workspace", workspace), new KeyValuePair<string, object?>("reason", reason));

    /// <summary>The metadata type names of the Prometheus HTTP API.</summary>
    private static string TypeName(Prompb.MetricMetadata.Types.MetricType type) => type switch
    {
        Prompb.MetricMetadata.Types.MetricType.Counter => "counter",
        Prompb.MetricMetadata.Types.MetricType.Gauge => "gauge",
        Prompb.MetricMetadata.Types.MetricType.Histogram => "histogram",
        Prompb.MetricMetadata.Types.MetricType.Gaugehistogram => "gaugehistogram",
        Prompb.MetricMetadata.Types.MetricType.Summary => "summary",
        Prompb.MetricMetadata.Types.MetricType.Info => "info",
        Prompb.MetricMetadata.Types.MetricType.Stateset => "stateset",
        _ => "unknown",
    };

    [LoggerMessage(Level = LogLevel.Debug, Message = "remote write to {Workspace} partly refused: {Reason}")]
    private partial void LogRejected(string workspace, string reason);
}
