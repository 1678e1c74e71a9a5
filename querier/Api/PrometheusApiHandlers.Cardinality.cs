using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.Querier.Api;

/// <summary>
/// Cardinality: Prometheus's <c>status/tsdb</c> and Mimir's <c>cardinality/label_names</c> and <c>cardinality/label_values</c>,
/// over the workspace's recent series (<see cref="QuerierService.CardinalityWindow"/>).
/// </summary>
internal sealed partial class PrometheusApiHandlers
{
    private const int MaxCardinalityLimit = 500;

    /// <summary>
    /// Prometheus's shape. <c>headStats</c> has the series and label-pair counts; it has no <c>chunkCount</c>, <c>minTime</c>
    /// or <c>maxTime</c>, since a querier counts series through the query path and does not see the ingesters' chunks.
    /// </summary>
    public async Task<PromJsonWriter> TsdbStatusAsync(ApiRequest r)
    {
        int limit = CardinalityLimit(r, 10);
        var c = await querier.CardinalityAsync(r.Workspace, () => [], r.Aborted);
        var w = Success();
        w.Raw("{\"headStats\":{\"numSeries\":"u8).Number(c.SeriesCount).Raw(",\"numLabelPairs\":"u8).Number(c.LabelPairCount).Raw('}');
        Stats(w.Raw(",\"seriesCountByMetricName\":"u8), c.SeriesByMetricName(limit));
        Stats(w.Raw(",\"labelValueCountByLabelName\":"u8), c.ValueCountByLabelName(limit));
        Stats(w.Raw(",\"memoryInBytesByLabelName\":"u8), c.ValueBytesByLabelName(limit));
        Stats(w.Raw(",\"seriesCountByLabelValuePair\":"u8), c.SeriesByLabelPair(limit));
        w.Raw('}');
        return End(w);
    }

    /// <summary>Mimir's label names cardinality: distinct values per label name, most first.</summary>
    public async Task<PromJsonWriter> CardinalityLabelNamesAsync(ApiRequest r)
    {
        int limit = CardinalityLimit(r, 20);
        var c = await querier.CardinalityAsync(r.Workspace, () => Selector(r), r.Aborted);
        var names = c.ValueCountByLabelName(int.MaxValue);
        var w = new PromJsonWriter();
        w.Raw("{\"label_values_count_total\":"u8).Number(c.LabelPairCount)
         .Raw(",\"label_names_count\":"u8).Number(c.LabelNameCount).Raw(",\"cardinality\":["u8);
        for (int i = 0; i < Math.Min(limit, names.Count); i++)
        {
            if (i > 0) w.Raw(',');
            w.Raw("{\"label_name\":"u8).String(names[i].Name).Raw(",\"label_values_count\":"u8).Number(names[i].Count).Raw('}');
        }
        return w.Raw("]}"u8);
    }

    /// <summary>Mimir's label values cardinality: for each asked label, its values by series count, most first.</summary>
    public async Task<PromJsonWriter> CardinalityLabelValuesAsync(ApiRequest r)
    {
        var asked = r.GetAll("label_names[]");
        if (asked.Count == 0) throw ApiException.InvalidParam("label_names[]", "at least one label name is required");
        foreach (var name in asked)
            if (!LabelNames.IsValid(name)) throw ApiException.InvalidParam("label_names[]", $"invalid label name: \"{name}\"");
        int limit = CardinalityLimit(r, 20);
        var c = await querier.CardinalityAsync(r.Workspace, () => Selector(r), r.Aborted);
        var labels = asked.Distinct(StringComparer.Ordinal)
            .Select(n => (Name: n, Series: c.SeriesWithLabel(n)))
            .OrderByDescending(l => l.Series).ThenBy(l => l.Name, StringComparer.Ordinal).ToList();
        var w = new PromJsonWriter();
        w.Raw("{\"series_count_total\":"u8).Number(c.SeriesCount).Raw(",\"labels\":["u8);
        for (int i = 0; i < labels.Count; i++)
        {
            if (i > 0) w.Raw(',');
            var (name, series) = labels[i];
            w.Raw("{\"label_name\":"u8).String(name).Raw(",\"label_values_count\":"u8).Number(c.ValueCount(name))
             .Raw(",\"series_count\":"u8).Number(series).Raw(",\"cardinality\":["u8);
            var values = c.SeriesByValue(name, limit);
            for (int j = 0; j < values.Count; j++)
            {
                if (j > 0) w.Raw(',');
                w.Raw("{\"label_value\":"u8).String(values[j].Name).Raw(",\"series_count\":"u8).Number(values[j].Count).Raw('}');
            }
            w.Raw("]}"u8);
        }
        return w.Raw("]}"u8);
    }

    private IReadOnlyList<LabelMatcher> Selector(ApiRequest r)
    {
        if (r.Get("selector") is not { Length: > 0 } text) return [];
        try
        {
            return PromQLParser.ParseMetricSelector(text, querier.Options.MaxNestingDepth);
        }
        catch (ParseException e)
        {
            throw ApiException.InvalidParam("selector", e.Message);
        }
    }

    private static int CardinalityLimit(ApiRequest r, int absent)
    {
        int limit = ParseIntParam(r, "limit", absent);
        if (limit < 1 || limit > MaxCardinalityLimit)
            throw ApiException.InvalidParam("limit", $"limit must be between 1 and {MaxCardinalityLimit}, got {limit}");
        return limit;
    }

    private static void Stats(PromJsonWriter w, IReadOnlyList<CardinalityStat> stats)
    {
        w.Raw('[');
        for (int i = 0; i < stats.Count; i++)
        {
            if (i > 0) w.Raw(',');
            w.Raw("{\"name\":"u8).String(stats[i].Name).Raw(",\"value\":"u8).Number(stats[i].Count).Raw('}');
        }
        w.Raw(']');
    }
}
