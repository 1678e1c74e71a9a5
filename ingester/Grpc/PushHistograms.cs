using Amphora.Cluster;
using Amphora.Cluster.Protocol;
using Amphora.Model;
using Grpc.Core;
using FloatHistogram = Amphora.Model.FloatHistogram;
using Histogram = Amphora.Model.Histogram;

namespace Amphora.Ingester.Grpc;

/// <summary>
/// The native histograms of a push, decoded and checked before anything is appended: one that cannot be stored (a shape the
/// chunk encodings cannot hold) refuses the whole request with InvalidArgument, naming the series and the sample, so that
/// nothing of it is applied.
/// </summary>
internal static class PushHistograms
{
    public readonly record struct OfSeries((long T, Histogram H)[] Integer, (long T, FloatHistogram H)[] Float);

    /// <summary>Per series of the request its histograms, or null when the request carries none.</summary>
    public static OfSeries[]? Decode(PushRequest request)
    {
        OfSeries[]? result = null;
        for (int i = 0; i < request.Series.Count; i++)
        {
            var s = request.Series[i];
            if (s.Histograms.Count == 0 && s.FloatHistograms.Count == 0) continue;
            result ??= new OfSeries[request.Series.Count];
            var integer = new (long, Histogram)[s.Histograms.Count];
            for (int k = 0; k < integer.Length; k++)
            {
                var p = s.Histograms[k];
                integer[k] = (p.TimestampMs, ProtoConvert.FromProto(p, out string? problem) ?? throw Invalid(s, p.TimestampMs, problem!));
            }
            var floats = new (long, FloatHistogram)[s.FloatHistograms.Count];
            for (int k = 0; k < floats.Length; k++)
            {
                var p = s.FloatHistograms[k];
                floats[k] = (p.TimestampMs, ProtoConvert.FromProto(p, out string? problem) ?? throw Invalid(s, p.TimestampMs, problem!));
            }
            result[i] = new OfSeries(integer, floats);
        }
        if (result is not null)
            for (int i = 0; i < result.Length; i++)
                if (result[i].Integer is null) result[i] = new OfSeries([], []);
        return result;
    }

    private static RpcException Invalid(Series s, long t, string problem) => new(new Status(StatusCode.InvalidArgument,
        $"the native histogram at {t} ms of series {ProtoConvert.ToLabels(s.Labels)} cannot be stored: {problem}; nothing of the push was applied"));
}
