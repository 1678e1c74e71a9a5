using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.PromQL.Parser;

namespace Amphora.Querier.Api;

internal sealed partial class PrometheusApiHandlers
{
    private const int MaxPointsPerSeries = 11_000;

    public async Task<PromJsonWriter> QueryAsync(ApiRequest r)
    {
        long time = r.Get("time") is { Length: > 0 } t ? ParseQueryTime(t) : DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        var timeout = ParseTimeout(r);
        string query = r.Get("query") ?? "";
        string? threshold = r.Get("max_samples_processed_error_threshold");
        bool fromFrontend = FromFrontend(r);
        var result = frontend is not null && !fromFrontend
            ? await frontend.InstantQueryAsync(r.Workspace, query, time, timeout, r.Aborted, threshold)
            : await querier.InstantQueryAsync(r.Workspace, query, time, timeout, r.Aborted, threshold, holdsWorkspaceSlot: fromFrontend);
        return Render(result, fullHistograms: fromFrontend);
    }

    public async Task<PromJsonWriter> QueryRangeAsync(ApiRequest r)
    {
        long start = ApiParams.ParseTime("start", r.Get("start") ?? "");
        long end = ApiParams.ParseTime("end", r.Get("end") ?? "");
        if (end < start) throw ApiException.InvalidParam("end", "end timestamp must not be before start time");
        long step = ApiParams.ParseDurationMs("step", r.Get("step") ?? "");
        if (step <= 0)
            throw ApiException.InvalidParam("step", "zero or negative query resolution step widths are not accepted. Try a positive integer");
        if ((end - start) / step > MaxPointsPerSeries)
            throw new ApiException(ApiErrorType.BadData,
                "exceeded maximum resolution of 11,000 points per timeseries. Try decreasing the query resolution (?step=XX)");
        var timeout = ParseTimeout(r);
        string query = r.Get("query") ?? "";
        string? threshold = r.Get("max_samples_processed_error_threshold");
        bool fromFrontend = FromFrontend(r);
        var result = frontend is not null && !fromFrontend
            ? await frontend.RangeQueryAsync(r.Workspace, query, start, end, step, timeout, r.Aborted, threshold)
            : await querier.RangeQueryAsync(r.Workspace, query, start, end, step, timeout, r.Aborted, threshold, holdsWorkspaceSlot: fromFrontend);
        return Render(result, fullHistograms: fromFrontend);
    }

    /// <summary>A piece of a request that a trusted query frontend already queued and holds the workspace's slot for.</summary>
    private bool FromFrontend(ApiRequest r) =>
        trustsFrontend is not null && r.Http.Request.Headers.ContainsKey(Frontend.HttpQueryBackend.SlotHeldHeader) && trustsFrontend(r.Http);

    /// <summary>The query API's <c>time</c> error text differs from the other time parameters' in Prometheus.</summary>
    private static long ParseQueryTime(string text)
    {
        try
        {
            return ApiParams.ParseTime("time", text);
        }
        catch (ApiException)
        {
            throw ApiException.InvalidParam("time", $"Invalid time value for 'time': cannot parse \"{text}\" to a valid timestamp");
        }
    }

    private static TimeSpan? ParseTimeout(ApiRequest r) =>
        r.Get("timeout") is { Length: > 0 } t ? TimeSpan.FromMilliseconds(ApiParams.ParseDurationMs("timeout", t)) : null;

    /// <param name="fullHistograms">Native histograms in full (<see cref="PromJsonWriter.HistogramPointFull"/>), for a query frontend.</param>
    private static PromJsonWriter Render(QueryResult result, bool fullHistograms)
    {
        var w = Success();
        switch (result.Value)
        {
            case ScalarValue s:
                w.Raw("{\"resultType\":\"scalar\",\"result\":"u8).Point(s.T, s.V, asFloat: true).Raw('}');
                break;
            case StringValue s:
                w.Raw("{\"resultType\":\"string\",\"result\":["u8).Timestamp(s.T).Raw(',').String(s.V).Raw("]}"u8);
                break;
            case VectorValue v:
                w.Raw("{\"resultType\":\"vector\",\"result\":["u8);
                for (int i = 0; i < v.Samples.Count; i++)
                {
                    if (i > 0) w.Raw(',');
                    var sample = v.Samples[i];
                    w.Raw("{\"metric\":"u8).LabelsObject(sample.Metric);
                    if (sample.H is { } h) Histogram(w.Raw(",\"histogram\":"u8), sample.T, h, fullHistograms).Raw('}');
                    else w.Raw(",\"value\":"u8).Point(sample.T, sample.F).Raw('}');
                }
                w.Raw("]}"u8);
                break;
            case MatrixValue m:
                w.Raw("{\"resultType\":\"matrix\",\"result\":["u8);
                for (int i = 0; i < m.Series.Count; i++)
                {
                    if (i > 0) w.Raw(',');
                    // Floats in "values", histograms in "histograms", each field only when the series has such points.
                    w.Raw("{\"metric\":"u8).LabelsObject(m.Series[i].Metric);
                    var points = m.Series[i].Points;
                    foreach (bool histograms in (ReadOnlySpan<bool>)[false, true])
                    {
                        bool first = true;
                        foreach (var point in points)
                        {
                            if ((point.H is not null) != histograms) continue;
                            w.Raw(first ? (histograms ? ",\"histograms\":["u8 : ",\"values\":["u8) : ","u8);
                            first = false;
                            if (point.H is { } h) Histogram(w, point.T, h, fullHistograms); else w.Point(point.T, point.F);
                        }
                        if (!first) w.Raw(']');
                    }
                    w.Raw('}');
                }
                w.Raw("]}"u8);
                break;
        }
        return End(w, result.Warnings, result.Infos);
    }

    private static PromJsonWriter Histogram(PromJsonWriter w, long t, Amphora.Model.FloatHistogram h, bool full) =>
        full ? w.HistogramPointFull(t, h) : w.HistogramPoint(t, h);

    /// <summary>The series API needs at least one <c>match[]</c>; checked first, as Prometheus does.</summary>
    private static void RequireMatch(ApiRequest r)
    {
        if (r.GetAll("match[]").Count == 0) throw new ApiException(ApiErrorType.BadData, "no match[] parameter provided");
    }

    /// <summary>The <c>match[]</c> selectors of the series and label APIs (parsed under the request's timeout: they compile regular expressions).</summary>
    private List<IReadOnlyList<LabelMatcher>> ParseMatchSets(ApiRequest r, bool required)
    {
        var raw = r.GetAll("match[]");
        if (required) RequireMatch(r);
        var sets = new List<IReadOnlyList<LabelMatcher>>(raw.Count);
        foreach (var text in raw)
        {
            try
            {
                sets.Add(PromQLParser.ParseMetricSelector(text, querier.Options.MaxNestingDepth));
            }
            catch (ParseException e)
            {
                // Prometheus prefixes the parameter name for the series API only.
                throw required ? ApiException.InvalidParam("match[]", e.Message) : new ApiException(ApiErrorType.BadData, e.Message);
            }
        }
        return sets;
    }
}
