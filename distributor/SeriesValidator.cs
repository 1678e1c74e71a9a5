using System.Text;
using Amphora.Distributor.Prompb;
using Label = Amphora.Model.Label;
using Amphora.Model;

namespace Amphora.Distributor;

/// <summary>Limits the validator applies, with the settings users change them with.</summary>
public sealed record ValidationOptions
{
    public int MaxLabelNamesPerSeries { get; init; } = 70;
    /// <summary>The setting that sets <see cref="MaxLabelNamesPerSeries"/>, named in refusals.</summary>
    public string MaxLabelNamesSetting { get; init; } = "validation.max-label-names-per-series";
    public int MaxLabelNameLength { get; init; } = 1024;
    public int MaxLabelValueLength { get; init; } = 2048;
    /// <summary>How far past the distributor's clock a sample may be (validation.create-grace-period, as Mimir's).</summary>
    public TimeSpan CreateGracePeriod { get; init; } = TimeSpan.FromMinutes(10);
    /// <summary>
    /// Prometheus 3's UTF-8 name validation scheme (<c>validation.name-validation-scheme=utf8</c>): metric and label names may be
    /// any non-empty UTF-8 text (queried as <c>{"my.metric", "http.route"="/"}</c>); false keeps the legacy
    /// <c>[a-zA-Z_:][a-zA-Z0-9_:]*</c> and <c>[a-zA-Z_][a-zA-Z0-9_]*</c>.
    /// </summary>
    public bool Utf8Names { get; init; }
}

/// <summary>Why a series was refused: a stable id (counted in metrics as the reason) and a message naming the series.</summary>
public sealed record ValidationError(string Id, string Message);

/// <summary>
/// Checks a remote-write series before anything is stored, in the order a user would fix them: UTF-8, metric name, label
/// count, then each label (name length, name syntax, the reserved <c>__</c> prefix, value length, order, duplicates).
/// Labels with empty values are dropped, as Prometheus treats them as absent.
/// </summary>
public sealed class SeriesValidator(ValidationOptions options)
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    public ValidationOptions Options => options;

    /// <param name="describe">False when only the reason is needed (not the first refusal of a request): the message is then
    /// the error id alone, so counting many refused series costs no text.</param>
    public bool TryValidate(TimeSeries series, out Labels labels, out ValidationError? error, bool describe = true)
    {
        var raw = System.Buffers.ArrayPool<RawLabel>.Shared.Rent(series.Labels.Count);
        try
        {
            for (int i = 0; i < series.Labels.Count; i++) raw[i] = new RawLabel(series.Labels[i].Name.Memory, series.Labels[i].Value.Memory);
            return TryValidate(raw.AsSpan(0, series.Labels.Count), out labels, out error, describe);
        }
        finally
        {
            System.Buffers.ArrayPool<RawLabel>.Shared.Return(raw, clearArray: true);
        }
    }

    /// <summary>Validates a series' labels as received (<see cref="WriteRequestReader"/>); see the overload above.</summary>
    public bool TryValidate(ReadOnlySpan<RawLabel> series, out Labels labels, out ValidationError? error, bool describe = true)
    {
        labels = Labels.Empty;
        var names = new string[series.Length];
        var values = new string[series.Length];
        for (int i = 0; i < names.Length; i++)
        {
            var l = series[i];
            if (!Utf8StringCache.Shared.TryGet(l.Name.Span, out names[i]))
            {
                if (!TryDecode(l.Name.Span, out names[i]))
                {
                    error = Error(describe, series, "err-amphora-invalid-label", "received a series with a label name that is not valid UTF-8");
                    return false;
                }
                Utf8StringCache.Shared.Add(l.Name.Span, names[i]);
            }
            // Metric names repeat as label names do; other values (instances, paths, ids) are too many to keep.
            bool isMetricName = names[i] == LabelNames.MetricName;
            if (isMetricName && Utf8StringCache.Shared.TryGet(l.Value.Span, out values[i])) continue;
            if (!TryDecode(l.Value.Span, out values[i]))
            {
                error = Error(describe, series, "err-amphora-invalid-utf8",
                    $"received a series whose value of label \"{Truncate(names[i])}\" is not valid UTF-8");
                return false;
            }
            if (isMetricName) Utf8StringCache.Shared.Add(l.Value.Span, values[i]);
        }

        string metricName = "";
        for (int i = 0; i < names.Length; i++)
            if (names[i] == LabelNames.MetricName) metricName = values[i];
        if (metricName.Length == 0)
        {
            error = Error(describe, series, "err-amphora-missing-metric-name", "received a series without a metric name");
            return false;
        }
        if (!LabelNames.IsValid(metricName, options.Utf8Names, metric: true))
        {
            error = Error(describe, series, "err-amphora-invalid-metric-name",
                $"received a series with an invalid metric name \"{Truncate(metricName)}\": it must match [a-zA-Z_:][a-zA-Z0-9_:]* " +
                "(--validation.name-validation-scheme=utf8 accepts any UTF-8 name)");
            return false;
        }
        if (names.Length > options.MaxLabelNamesPerSeries)
        {
            error = Error(describe, series, "err-amphora-max-label-names-per-series",
                $"received a series with {names.Length} labels, more than the limit of {options.MaxLabelNamesPerSeries} " +
                $"(set by {options.MaxLabelNamesSetting})");
            return false;
        }

        // Filled in place and handed to the result as it is unless empty values were dropped (one array per series, no list).
        var kept = new Label[names.Length];
        int count = 0;
        for (int i = 0; i < names.Length; i++)
        {
            string name = names[i], value = values[i];
            // The received bytes are valid UTF-8 (decoded strictly above), so their count is the UTF-8 length of the text.
            int nameBytes = series[i].Name.Length, valueBytes = series[i].Value.Length;
            if (nameBytes > options.MaxLabelNameLength)
            {
                error = Error(describe, series, "err-amphora-label-name-too-long",
                    $"received a series with a label name of {nameBytes} bytes, longer than the limit of " +
                    $"{options.MaxLabelNameLength} (set by validation.max-label-name-length): \"{Truncate(name)}\"");
                return false;
            }
            if (!LabelNames.IsValid(name, options.Utf8Names, metric: false))
            {
                error = Error(describe, series, "err-amphora-invalid-label", options.Utf8Names
                    ? "received a series with an empty label name"
                    : $"received a series with an invalid label name \"{Truncate(name)}\": it must match [a-zA-Z_][a-zA-Z0-9_]* " +
                      "(--validation.name-validation-scheme=utf8 accepts any UTF-8 name)");
                return false;
            }
            if (name.StartsWith("__", StringComparison.Ordinal) && name != LabelNames.MetricName)
            {
                error = Error(describe, series, "err-amphora-invalid-label",
                    $"received a series with the label name \"{Truncate(name)}\": names starting with __ are reserved for internal use");
                return false;
            }
            if (valueBytes > options.MaxLabelValueLength)
            {
                error = Error(describe, series, "err-amphora-label-value-too-long",
                    $"received a series whose value of label \"{Truncate(name)}\" is {valueBytes} bytes, longer " +
                    $"than the limit of {options.MaxLabelValueLength} (set by validation.max-label-value-length)");
                return false;
            }
            if (i > 0)
            {
                int order = string.CompareOrdinal(names[i - 1], name);
                if (order == 0)
                {
                    error = Error(describe, series, "err-amphora-duplicate-label-names",
                        $"received a series with the label name \"{Truncate(name)}\" more than once");
                    return false;
                }
                if (order > 0)
                {
                    error = Error(describe, series, "err-amphora-labels-not-sorted",
                        $"received a series whose labels are not sorted by name: \"{Truncate(names[i - 1])}\" comes before \"{Truncate(name)}\"");
                    return false;
                }
            }
            if (value.Length > 0) kept[count++] = new Label(name, value);
        }
        labels = Labels.FromSorted(count == kept.Length ? kept : kept[..count]);
        error = null;
        return true;
    }

    /// <summary>
    /// Refuses a sample later than <paramref name="nowMs"/> plus the grace period: one such sample would move the workspace's
    /// head (and so its block cuts and the oldest time it accepts) into the future. Too old is decided by the ingester's head.
    /// </summary>
    public ValidationError? CheckTimestamp(Labels labels, long t, long nowMs)
    {
        long limit = nowMs + (long)options.CreateGracePeriod.TotalMilliseconds;
        if (t <= limit) return null;
        const string id = "err-amphora-too-far-in-future";
        return new ValidationError(id, $"{id}: received a sample whose timestamp {FormatTime(t)} is more than " +
            $"{options.CreateGracePeriod.TotalMinutes:0.##}m after the current time {FormatTime(nowMs)} (set by validation.create-grace-period). " +
            $"series: '{Describe(labels)}'");
    }

    /// <summary>A sample time as RFC 3339 when it is one, otherwise its milliseconds (any int64 can arrive).</summary>
    public static string FormatTime(long t) =>
        t is >= -62135596800000 and <= 253402300799999
            ? DateTimeOffset.FromUnixTimeMilliseconds(t).ToString("yyyy-MM-ddTHH:mm:ss.fffZ", System.Globalization.CultureInfo.InvariantCulture)
            : $"{t} ms";

    private static bool TryDecode(ReadOnlySpan<byte> bytes, out string text)
    {
        try
        {
            text = StrictUtf8.GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            text = Encoding.UTF8.GetString(bytes);
            return false;
        }
    }

    private static ValidationError Error(bool describe, ReadOnlySpan<RawLabel> series, string id, string what) =>
        describe ? new(id, $"{id}: {what}. series: '{Describe(series)}'") : new(id, id);

    /// <summary>The series as received, <c>name{a="b", ...}</c>, with invalid UTF-8 replaced and long text cut.</summary>
    public static string Describe(ReadOnlySpan<RawLabel> series)
    {
        string name = "";
        var sb = new StringBuilder();
        foreach (var l in series)
        {
            string n = Encoding.UTF8.GetString(l.Name.Span), v = Encoding.UTF8.GetString(l.Value.Span);
            if (n == LabelNames.MetricName && name.Length == 0) { name = v; continue; }
            if (sb.Length > 0) sb.Append(", ");
            sb.Append(Truncate(n)).Append("=\"").Append(Truncate(v).Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
            if (sb.Length > 512) { sb.Append(", …"); break; }
        }
        return Truncate(name) + "{" + sb + "}";
    }

    public static string Describe(Labels labels)
    {
        var sb = new StringBuilder(Truncate(labels.Get(LabelNames.MetricName))).Append('{');
        bool first = true;
        foreach (var l in labels)
        {
            if (l.Name == LabelNames.MetricName) continue;
            if (!first) sb.Append(", ");
            first = false;
            sb.Append(l.Name).Append("=\"").Append(Truncate(l.Value).Replace("\\", "\\\\").Replace("\"", "\\\"")).Append('"');
        }
        return sb.Append('}').ToString();
    }

    private static string Truncate(string s) => s.Length > 120 ? s[..120] + "…" : s;
}
