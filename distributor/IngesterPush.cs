using Amphora.Model;
using Amphora.Storage;

namespace Amphora.Distributor;

/// <summary>A validated series and its samples (floats, then native histograms in time order), ready for the ingesters.</summary>
public readonly record struct ValidSeries(Labels Labels, long[] Timestamps, double[] Values)
{
    public (long T, Histogram H)[] Histograms { get; init; } = [];
    /// <summary>Float native histograms, after <see cref="Histograms"/> in time order.</summary>
    public (long T, FloatHistogram H)[] FloatHistograms { get; init; } = [];
    /// <summary>The series' exemplars (kept after its samples; an exemplar never fails a write).</summary>
    public Exemplar[] Exemplars { get; init; } = [];
    /// <summary>The float samples' start timestamps (ms, 0 = none), beside <see cref="Timestamps"/>; null when none has one.</summary>
    public long[]? StartTimestamps { get; init; }

    /// <summary>The start timestamp of float sample <paramref name="i"/> (0 = none).</summary>
    public long StartTimestampAt(int i) => StartTimestamps is { } st ? st[i] : 0;
}

/// <summary>What the ingesters did with a push: samples accepted, samples refused by reason, and the first refusal's message.</summary>
public sealed class PushOutcome
{
    public long Accepted { get; set; }
    /// <summary>Native histogram samples among the refused ones.</summary>
    public long RejectedHistograms { get; set; }
    /// <summary>Exemplars handed to the storage (kept unless they repeat or are older than the series' newest).</summary>
    public long Exemplars { get; set; }
    public Dictionary<string, long> RejectedByReason { get; } = new(StringComparer.Ordinal);
    public string? FirstRejection { get; set; }

    public void Reject(string reason, string message, long count = 1)
    {
        RejectedByReason[reason] = RejectedByReason.GetValueOrDefault(reason) + count;
        FirstRejection ??= message;
    }
}

/// <summary>
/// Where the distributor sends validated series: the local storage in <c>--target=all</c>, the ring's ingesters over gRPC in
/// a cluster. Throws when the write could not be made durable (the sender retries on the resulting 5xx).
/// </summary>
public interface IIngesterPush
{
    Task<PushOutcome> PushAsync(string workspace, IReadOnlyList<ValidSeries> series, IReadOnlyList<MetricMetadata> metadata,
        CancellationToken ct);

    /// <summary>Whether the ingesters store native histograms (the cluster's ingester protocol does not carry them yet).</summary>
    bool StoresHistograms => false;
}

/// <summary>
/// Pushes into an in-process <see cref="IWorkspaceAppendable"/>: one appender per request, every sample appended, the
/// refused ones reported, and the accepted ones committed (WAL first) even when others were refused.
/// </summary>
public sealed class LocalIngesterPush(IWorkspaceAppendable storage) : IIngesterPush
{
    public bool StoresHistograms => true;

    public async Task<PushOutcome> PushAsync(string workspace, IReadOnlyList<ValidSeries> series, IReadOnlyList<MetricMetadata> metadata,
        CancellationToken ct)
    {
        var outcome = new PushOutcome();
        var appender = storage.Appender(workspace);
        try
        {
            foreach (var s in series)
            {
                ulong seriesRef = 0;
                for (int i = 0; i < s.Timestamps.Length; i++)
                {
                    var status = appender.Append(ref seriesRef, s.Labels, s.Timestamps[i], s.Values[i], s.StartTimestampAt(i));
                    if (status == AppendStatus.Ok) outcome.Accepted++;
                    else if (status == AppendStatus.SeriesLimit && appender.LastRejection is { } why)
                        outcome.Reject(why.Reason, $"{why.Message}. series: '{SeriesValidator.Describe(s.Labels)}'");
                    else outcome.Reject(SampleRejections.Reason(status), SampleRejections.Message(status, s.Labels, s.Timestamps[i]));
                }
                // Two plain loops, not a Select/Concat: the iterators cost five allocations per series even when it has no
                // histograms, which is nearly always.
                foreach (var (t, h) in s.Histograms) Count(appender.AppendHistogram(ref seriesRef, s.Labels, t, h), s.Labels, t);
                foreach (var (t, f) in s.FloatHistograms) Count(appender.AppendFloatHistogram(ref seriesRef, s.Labels, t, f), s.Labels, t);
                foreach (var e in s.Exemplars) appender.AppendExemplar(s.Labels, e);
                outcome.Exemplars += s.Exemplars.Length;
            }
            foreach (var m in metadata) appender.UpdateMetadata(m);
        }
        catch
        {
            appender.Rollback();
            throw;
        }
        await appender.CommitAsync(ct);
        return outcome;

        void Count(AppendStatus status, Labels labels, long t)
        {
            if (status == AppendStatus.Ok)
            {
                outcome.Accepted++;
                return;
            }
            outcome.RejectedHistograms++;
            if (status == AppendStatus.SeriesLimit && appender.LastRejection is { } why)
                outcome.Reject(why.Reason, $"{why.Message}. series: '{SeriesValidator.Describe(labels)}'");
            else outcome.Reject(SampleRejections.Reason(status), SampleRejections.Message(status, labels, t, histogram: true));
        }
    }
}

/// <summary>The stable reasons and user-facing messages for samples the storage refused.</summary>
public static class SampleRejections
{
    public static string Reason(AppendStatus status) => status switch
    {
        AppendStatus.OutOfOrder => "err-amphora-sample-out-of-order",
        AppendStatus.TooOld => "err-amphora-sample-too-old",
        AppendStatus.DuplicateTimestamp => "err-amphora-sample-duplicate-timestamp",
        AppendStatus.SeriesLimit => "err-amphora-max-series",
        _ => "err-amphora-unknown",
    };

    public static string Message(AppendStatus status, Labels labels, long t, bool histogram = false)
    {
        string series = SeriesValidator.Describe(labels);
        string when = SeriesValidator.FormatTime(t);
        string what = status switch
        {
            AppendStatus.OutOfOrder when histogram =>
                $"the native histogram at {when} is older than the series' newest sample (histograms are in order only, as in " +
                "Prometheus 2.42: the out-of-order window applies to float samples)",
            AppendStatus.DuplicateTimestamp when histogram => $"the native histogram at {when} has the timestamp of a stored sample but a different value",
            AppendStatus.OutOfOrder =>
                $"the sample at {when} is older than the series' newest sample by more than the out-of-order window " +
                "(set by ingester.out-of-order-window)",
            AppendStatus.TooOld => $"the sample at {when} is older than the oldest time the workspace's head still accepts: " +
                "its range has been written to a block, or it is more than half a block range (tsdb.block-range) behind the " +
                "workspace's newest sample",
            AppendStatus.DuplicateTimestamp => $"the sample at {when} has the timestamp of a stored sample but a different value",
            AppendStatus.SeriesLimit => "the series would exceed the workspace's active series limit",
            _ => $"the sample at {when} was refused",
        };
        return $"{Reason(status)}: {what}. series: '{series}'";
    }
}
