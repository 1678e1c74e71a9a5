using Amphora.Model;

namespace Amphora.Querier.Api;

/// <summary>The handlers behind <see cref="PrometheusApi"/>: parameters in, Prometheus JSON out; errors as <see cref="ApiException"/>.</summary>
internal sealed partial class PrometheusApiHandlers(QuerierService? localQuerier, Frontend.QueryFrontend? frontend,
    Func<Microsoft.AspNetCore.Http.HttpContext, bool>? trustsFrontend)
{
    /// <summary>The querier in this process; a <c>--target=query-frontend</c> has none and maps only the query endpoints.</summary>
    private QuerierService querier => localQuerier ?? throw new InvalidOperationException("no querier in this process");

    public async Task<PromJsonWriter> SeriesAsync(ApiRequest r)
    {
        RequireMatch(r);
        var (start, end) = ParseRange(r);
        int limit = ParseLimit(r);
        var series = await querier.SeriesAsync(r.Workspace, () => ParseMatchSets(r, required: true), start, end, limit, r.Aborted);
        var w = Success();
        w.Raw('[');
        for (int i = 0; i < series.Count; i++)
        {
            if (i > 0) w.Raw(',');
            w.LabelsObject(series[i]);
        }
        w.Raw(']');
        return End(w);
    }

    public async Task<PromJsonWriter> LabelsAsync(ApiRequest r)
    {
        var (start, end) = ParseRange(r);
        int limit = ParseLimit(r);
        var names = await querier.LabelNamesAsync(r.Workspace, () => ParseMatchSets(r, required: false), start, end, limit, r.Aborted);
        return End(Success().StringArray(names));
    }

    public async Task<PromJsonWriter> LabelValuesAsync(ApiRequest r)
    {
        string name = r.RouteName;
        if (!LabelNames.IsValid(name))
            throw new ApiException(ApiErrorType.BadData, $"invalid label name: \"{name}\"");
        var (start, end) = ParseRange(r);
        int limit = ParseLimit(r);
        var values = await querier.LabelValuesAsync(r.Workspace, name, () => ParseMatchSets(r, required: false), start, end, limit, r.Aborted);
        return End(Success().StringArray(values));
    }

    public async Task<PromJsonWriter> MetadataAsync(ApiRequest r)
    {
        int limit = ParseIntParam(r, "limit", -1);
        int limitPerMetric = ParseIntParam(r, "limit_per_metric", -1);
        string? metric = r.Get("metric");
        if (metric == "") metric = null;
        var metadata = await querier.MetadataAsync(r.Workspace, metric, limit, limitPerMetric, r.Aborted);
        var w = Success();
        w.Raw('{');
        bool first = true;
        foreach (var (family, entries) in metadata)
        {
            if (!first) w.Raw(',');
            first = false;
            w.String(family).Raw(":["u8);
            for (int i = 0; i < entries.Count; i++)
            {
                if (i > 0) w.Raw(',');
                w.Raw("{\"type\":"u8).String(entries[i].Type)
                 .Raw(",\"help\":"u8).String(entries[i].Help)
                 .Raw(",\"unit\":"u8).String(entries[i].Unit).Raw('}');
            }
            w.Raw(']');
        }
        w.Raw('}');
        return End(w);
    }

    public Task<PromJsonWriter> BuildInfoAsync(ApiRequest r)
    {
        var w = Success();
        w.Raw("{\"version\":"u8).String(Amphora.Services.BuildInfo.Version)
         .Raw(",\"revision\":"u8).String(Amphora.Services.BuildInfo.Revision)
         .Raw(",\"branch\":\"\",\"buildUser\":\"\",\"buildDate\":\"\",\"goVersion\":"u8).String("dotnet" + Amphora.Services.BuildInfo.Runtime)
         .Raw('}');
        return Task.FromResult(End(w));
    }

    private static PromJsonWriter Success() => new PromJsonWriter().Raw("{\"status\":\"success\",\"data\":"u8);

    private static PromJsonWriter End(PromJsonWriter w, IReadOnlyList<string>? warnings = null, IReadOnlyList<string>? infos = null)
    {
        if (warnings is { Count: > 0 }) w.Raw(",\"warnings\":"u8).StringArray(warnings);
        if (infos is { Count: > 0 }) w.Raw(",\"infos\":"u8).StringArray(infos);
        return w.Raw('}');
    }

    private static (long Start, long End) ParseRange(ApiRequest r)
    {
        long start = r.Get("start") is { Length: > 0 } s ? ApiParams.ParseTime("start", s) : ApiParams.MinTimeMs;
        long end = r.Get("end") is { Length: > 0 } e ? ApiParams.ParseTime("end", e) : ApiParams.MaxTimeMs;
        if (end < start)
            throw ApiException.InvalidParam("end", "end timestamp must not be before start time");
        return (start, end);
    }

    private static int ParseLimit(ApiRequest r)
    {
        int limit = ParseIntParam(r, "limit", 0);
        if (limit < 0) throw ApiException.InvalidParam("limit", "limit must be non-negative");
        return limit;
    }

    private static int ParseIntParam(ApiRequest r, string name, int absent)
    {
        string? s = r.Get(name);
        if (string.IsNullOrEmpty(s)) return absent;
        return int.TryParse(s, out int n) ? n : throw ApiException.InvalidParam(name, $"cannot parse \"{s}\" to a valid integer");
    }
}
