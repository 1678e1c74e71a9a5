using Amphora.Distributor;
using Amphora.Distributor.Prompb;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Querier;

namespace Amphora.Ruler;

/// <summary>Rule queries through the querier: its engine, limits and per-workspace accounting.</summary>
public sealed class QuerierRuleQueries(QuerierService querier) : IRuleQueries
{
    public async Task<QueryValue> QueryAsync(string workspace, string expr, long timeMs, CancellationToken ct) =>
        (await querier.InstantQueryAsync(workspace, expr, timeMs, null, ct)).Value;
}

/// <summary>Recorded samples through the distributor's push: validation, limits, rate and accounting, as a remote write.</summary>
public sealed class DistributorRuleWriter(DistributorService distributor) : IRuleSampleWriter
{
    public async Task<string?> WriteAsync(string workspace, IReadOnlyList<RuleSample> samples, CancellationToken ct)
    {
        var request = new WriteRequest();
        TimeSeries? current = null;
        Labels? currentLabels = null;
        foreach (var s in samples)
        {
            if (current is null || !ReferenceEquals(currentLabels, s.Labels))
            {
                current = new TimeSeries();
                foreach (var l in s.Labels.AsSpan()) current.Labels.Add(new Amphora.Distributor.Prompb.Label { Name = Google.Protobuf.ByteString.CopyFromUtf8(l.Name), Value = Google.Protobuf.ByteString.CopyFromUtf8(l.Value) });
                currentLabels = s.Labels;
                request.Timeseries.Add(current);
            }
            current.Samples.Add(new Amphora.Distributor.Prompb.Sample { Timestamp = s.T, Value = s.V });
        }
        var result = await distributor.PushAsync(workspace, request, ct);
        return result.StatusCode < 300 ? null : result.Message ?? $"write refused with {result.StatusCode}";
    }
}
