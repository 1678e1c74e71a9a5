using System.Globalization;
using System.Net.Http.Headers;
using System.Text.Json;
using Amphora.Model;
using Amphora.PromQL.Engine;
using Amphora.Querier.Api;

namespace Amphora.Querier.Frontend;

/// <summary>
/// Queriers behind an HTTP address (a Kubernetes Service over the querier pods), for <c>--target=query-frontend</c>. Each
/// query is a form POST to <c>/workspaces/{id}/api/v1/query[_range]</c> with the frontend's own credential (the admin key);
/// the answer's Prometheus JSON is read back into a <see cref="QueryResult"/> (values kept exactly: the JSON carries them as
/// shortest round-trip text) and errors come back as the querier's <see cref="ApiException"/>. The workspace's limits
/// (range, concurrency, timeout) are checked here with the frontend's own tenancy, so a request that holds its workspace's
/// slot says so (<see cref="SlotHeldHeader"/>) and the querier, trusting it from an admin key only, does not take a second one
/// for each piece.
/// </summary>
public sealed class HttpQueryBackend(HttpClient http, Func<AuthenticationHeaderValue?> credential, QuerierOptions options,
    QueryLimitHooks? limits) : IQueryBackend
{
    /// <summary>Sent by the frontend on queries that are pieces of a request holding its workspace's concurrency slot.</summary>
    public const string SlotHeldHeader = "X-Amphora-Frontend-Slot";

    public QuerierOptions Options => options;

    public void CheckRange(string workspace, long start, long end)
    {
        if (limits?.CheckRange(workspace, start, end) is { } refusal) throw new ApiException(ApiErrorType.BadData, refusal);
    }

    public IDisposable? EnterWorkspace(string workspace)
    {
        if (limits?.Enter(workspace) is not { } entered) return null;
        return entered.Slot ?? throw new ApiException(ApiErrorType.TooManyRequests, entered.Refusal ?? "too many concurrent queries");
    }

    public long MaxSamplesFor(string workspace, string? samplesErrorThreshold)
    {
        if (limits is null) return options.MaxSamples;
        try
        {
            return Math.Min(options.MaxSamples, limits.MaxSamples(workspace, samplesErrorThreshold));
        }
        catch (FormatException e)
        {
            throw ApiException.InvalidParam("max_samples_processed_error_threshold", e.Message);
        }
    }

    public TimeSpan TimeoutFor(string workspace) =>
        limits?.Timeout(workspace) is { } t && t < options.Timeout ? t : options.Timeout;

    public Task<QueryResult> InstantQueryAsync(string workspace, string query, long time, TimeSpan? timeout, CancellationToken ct,
        string? samplesErrorThreshold = null, bool holdsWorkspaceSlot = false) =>
        SendAsync(workspace, "query", [new("query", query), new("time", Seconds(time))], timeout, samplesErrorThreshold, holdsWorkspaceSlot, ct);

    public Task<QueryResult> RangeQueryAsync(string workspace, string query, long start, long end, long step, TimeSpan? timeout,
        CancellationToken ct, string? samplesErrorThreshold = null, bool holdsWorkspaceSlot = false) =>
        SendAsync(workspace, "query_range",
            [new("query", query), new("start", Seconds(start)), new("end", Seconds(end)), new("step", Seconds(step))],
            timeout, samplesErrorThreshold, holdsWorkspaceSlot, ct);

    private static string Seconds(long ms) => (ms / 1000m).ToString(CultureInfo.InvariantCulture);

    private async Task<QueryResult> SendAsync(string workspace, string endpoint, List<KeyValuePair<string, string>> form,
        TimeSpan? timeout, string? samplesErrorThreshold, bool holdsWorkspaceSlot, CancellationToken ct)
    {
        if (timeout is { } t) form.Add(new("timeout", $"{Math.Max(1, (long)t.TotalMilliseconds)}ms"));
        if (samplesErrorThreshold is not null) form.Add(new("max_samples_processed_error_threshold", samplesErrorThreshold));
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/workspaces/{Uri.EscapeDataString(workspace)}/api/v1/{endpoint}")
        {
            Content = new FormUrlEncodedContent(form),
        };
        request.Headers.Authorization = credential();
        if (holdsWorkspaceSlot) request.Headers.Add(SlotHeldHeader, "held");
        HttpResponseMessage response;
        byte[] body;
        try
        {
            response = await http.SendAsync(request, ct);
            body = await response.Content.ReadAsByteArrayAsync(ct);
        }
        catch (HttpRequestException e)
        {
            throw new ApiException(ApiErrorType.Unavailable, $"no querier answered at {http.BaseAddress} (--query-frontend.downstream-url): {e.Message}");
        }
        catch (TaskCanceledException) when (!ct.IsCancellationRequested)
        {
            throw new ApiException(ApiErrorType.Unavailable, $"the querier at {http.BaseAddress} did not answer in time");
        }
        using (response)
            return Parse(body, (int)response.StatusCode);
    }

    /// <summary>Reads a Prometheus API answer; an error answer becomes the querier's <see cref="ApiException"/>.</summary>
    public static QueryResult Parse(byte[] body, int status)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(body);
        }
        catch (JsonException)
        {
            throw new ApiException(ApiErrorType.Unavailable, $"the querier answered {status} without a Prometheus JSON body");
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.TryGetProperty("status", out var s) && s.GetString() == "error")
                throw new ApiException(ErrorType(root.TryGetProperty("errorType", out var et) ? et.GetString() : null),
                    root.TryGetProperty("error", out var msg) ? msg.GetString() ?? "" : "");
            if (!root.TryGetProperty("data", out var data))
                throw new ApiException(ApiErrorType.Unavailable,
                    $"the querier answered {status} without a Prometheus result: {System.Text.Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 300)))}");
            var result = data.GetProperty("result");
            QueryValue value = data.GetProperty("resultType").GetString() switch
            {
                "matrix" => new MatrixValue(result.EnumerateArray().Select(e => new Series(Metric(e), Points(e))).ToList()),
                "vector" => new VectorValue(result.EnumerateArray().Select(e =>
                {
                    if (e.TryGetProperty("histogram", out var h)) return new Sample(Metric(e), Millis(h[0]), 0, Histogram(h[1]));
                    var p = e.GetProperty("value");
                    return new Sample(Metric(e), Millis(p[0]), Value(p[1]));
                }).ToList()),
                "scalar" => new ScalarValue(Millis(result[0]), Value(result[1])),
                "string" => new StringValue(Millis(result[0]), result[1].GetString() ?? ""),
                var other => throw new ApiException(ApiErrorType.Internal, $"the querier answered an unknown result type \"{other}\""),
            };
            return new QueryResult(value, Strings(root, "warnings"), Strings(root, "infos"));
        }
    }

    /// <summary>A matrix series' floats (<c>values</c>) and histograms (<c>histograms</c>), in time order.</summary>
    private static List<FPoint> Points(JsonElement series)
    {
        var points = new List<FPoint>();
        if (series.TryGetProperty("values", out var values))
            foreach (var p in values.EnumerateArray()) points.Add(new FPoint(Millis(p[0]), Value(p[1])));
        if (series.TryGetProperty("histograms", out var histograms))
        {
            foreach (var p in histograms.EnumerateArray()) points.Add(new FPoint(Millis(p[0]), 0, Histogram(p[1])));
            points.Sort(static (a, b) => a.T.CompareTo(b.T));
        }
        return points;
    }

    /// <summary>A histogram in the full form the querier writes for a frontend (<see cref="PromJsonWriter.HistogramPointFull"/>).</summary>
    private static FloatHistogram Histogram(JsonElement h)
    {
        if (!h.TryGetProperty("schema", out var schema))
            throw new ApiException(ApiErrorType.Internal,
                "the querier answered a native histogram without its schema: it does not trust this frontend's key (use an admin key in --auth.admin-key-file)");
        return new FloatHistogram
        {
            Schema = schema.GetInt32(),
            ZeroThreshold = Value(h.GetProperty("zeroThreshold")),
            ZeroCount = Value(h.GetProperty("zeroCount")),
            Count = Value(h.GetProperty("count")),
            Sum = Value(h.GetProperty("sum")),
            CounterResetHint = (CounterResetHint)h.GetProperty("counterResetHint").GetInt32(),
            PositiveSpans = Spans(h.GetProperty("positiveSpans")),
            PositiveBuckets = h.GetProperty("positiveBuckets").EnumerateArray().Select(Value).ToArray(),
            NegativeSpans = Spans(h.GetProperty("negativeSpans")),
            NegativeBuckets = h.GetProperty("negativeBuckets").EnumerateArray().Select(Value).ToArray(),
            CustomValues = h.GetProperty("customValues").EnumerateArray().Select(Value).ToArray(),
        };
    }

    private static HistogramSpan[] Spans(JsonElement spans) =>
        spans.EnumerateArray().Select(s => new HistogramSpan(s[0].GetInt32(), s[1].GetUInt32())).ToArray();

    private static Labels Metric(JsonElement e) =>
        Labels.FromUnsorted(e.GetProperty("metric").EnumerateObject().Select(p => new Label(p.Name, p.Value.GetString() ?? "")));

    private static long Millis(JsonElement t) => (long)(decimal.Parse(t.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture) * 1000m);

    private static double Value(JsonElement v) => v.GetString() switch
    {
        "+Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        "NaN" => double.NaN,
        var text => double.Parse(text!, NumberStyles.Float, CultureInfo.InvariantCulture),
    };

    private static List<string> Strings(JsonElement root, string name) =>
        root.TryGetProperty(name, out var list) ? list.EnumerateArray().Select(e => e.GetString() ?? "").ToList() : [];

    private static ApiErrorType ErrorType(string? text) => text switch
    {
        "bad_data" => ApiErrorType.BadData,
        "execution" => ApiErrorType.Execution,
        "canceled" => ApiErrorType.Canceled,
        "timeout" => ApiErrorType.Timeout,
        "not_found" => ApiErrorType.NotFound,
        "unavailable" => ApiErrorType.Unavailable,
        "too_many_requests" => ApiErrorType.TooManyRequests,
        _ => ApiErrorType.Internal,
    };
}
