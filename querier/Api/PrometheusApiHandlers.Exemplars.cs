namespace Amphora.Querier.Api;

internal sealed partial class PrometheusApiHandlers
{
    /// <summary><c>/api/v1/query_exemplars</c>: <c>[{"seriesLabels":{...},"exemplars":[{"labels":{...},"value":"6","timestamp":1600096945.479}]}]</c>.</summary>
    public async Task<PromJsonWriter> QueryExemplarsAsync(ApiRequest r)
    {
        var (start, end) = ParseRange(r);
        var found = await querier.QueryExemplarsAsync(r.Workspace, r.Get("query") ?? "", start, end, r.Aborted);
        var w = Success();
        w.Raw('[');
        for (int i = 0; i < found.Count; i++)
        {
            if (i > 0) w.Raw(',');
            w.Raw("{\"seriesLabels\":"u8).LabelsObject(found[i].SeriesLabels).Raw(",\"exemplars\":["u8);
            var exemplars = found[i].Exemplars;
            for (int e = 0; e < exemplars.Count; e++)
            {
                if (e > 0) w.Raw(',');
                w.Raw("{\"labels\":"u8).LabelsObject(exemplars[e].Labels).Raw(",\"value\":"u8)
                 .String(PromJsonWriter.FormatFloat(exemplars[e].Value)).Raw(",\"timestamp\":"u8).SampleTimestamp(exemplars[e].T).Raw('}');
            }
            w.Raw("]}"u8);
        }
        w.Raw(']');
        return End(w);
    }
}
