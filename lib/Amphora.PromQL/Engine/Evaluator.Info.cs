using Amphora.Model;
using Amphora.PromQL.Parser;

namespace Amphora.PromQL.Engine;

/// <summary>
/// <c>info(v, [data-label-selector])</c>, Prometheus 3's experimental join with info metrics: each series of v gets the
/// data labels of the info series that share its identifying labels (<c>instance</c>, <c>job</c>) at each step.
/// </summary>
/// <remarks>
/// The selector's <c>__name__</c> matchers choose the info metrics (<c>target_info</c> when there are none, any
/// <c>*_info</c> metric when they are all negative); its other matchers filter the info series and name the data labels
/// to add (all of them when there are no such matchers). A label the series already has is kept. Of the series of one
/// info metric with the same identifying labels, the one with the newest sample wins; two info metrics giving one label
/// different values is an error. Without a matching info series a sample is kept as it is when every data matcher accepts
/// the empty string, dropped otherwise. Series of v that are themselves of the chosen info metrics are kept as they are.
/// </remarks>
internal sealed partial class Evaluator
{
    private static readonly string[] IdentifyingLabels = ["instance", "job"];

    /// <summary>The info series to read for a call, and how the call filters and joins them.</summary>
    private sealed record InfoPlan(VectorSelector Selector, List<LabelMatcher> NameMatchers, List<LabelMatcher> DataMatchers);

    private Dictionary<Call, InfoPlan> _infoPlans = new(ReferenceEqualityComparer.Instance);

    private InfoPlan InfoPlanOf(Call call)
    {
        if (_infoPlans.TryGetValue(call, out var plan)) return plan;
        var given = call.Args.Count > 1 ? ((VectorSelector)call.Args[1]).Matchers : [];
        var names = given.Where(m => m.Name == LabelNames.MetricName).ToList();
        var data = given.Where(m => m.Name != LabelNames.MetricName).ToList();
        if (names.Count == 0) names.Add(LabelMatcher.Equal(LabelNames.MetricName, "target_info"));
        else if (names.All(m => m.Type is MatchType.NotEqual or MatchType.NotRegex))
            names.Add(LabelMatcher.Create(MatchType.Regex, LabelNames.MetricName, ".+_info"));
        plan = new InfoPlan(new VectorSelector(null, [.. names, .. data]), names, data);
        _infoPlans[call] = plan;
        return plan;
    }

    private SeriesResult EvalInfo(Call call)
    {
        var plan = InfoPlanOf(call);
        var input = (SeriesResult)Eval(call.Args[0]);
        // Each info point's value is its sample's time, to pick the newest of an info metric's series.
        var infoSeries = EvalVectorSelector(plan.Selector, timestamps: true, keepHistograms: true).Series;
        foreach (var s in infoSeries)
            if (s.Points.Any(p => p.H is not null))
                throw new PromQLException(PromQLErrorType.Execution, $"info series {s.Metric} has native histogram samples: info metrics must be float series");
        string[]? wanted = plan.DataMatchers.Count > 0 ? plan.DataMatchers.Select(m => m.Name).Distinct().ToArray() : null;
        bool keepUnmatched = plan.DataMatchers.All(m => m.MatchesEmpty);
        var inputCursor = new StepCursor(input.Series);
        var infoCursor = new StepCursor(infoSeries);
        var vector = new List<Sample>();
        var infos = new List<Sample>();
        var newest = new Dictionary<(string Id, string Name), Sample>();
        // The step's chosen info series by identity, so each series finds its own in one lookup, and each series' identity
        // computed once per query rather than once per step.
        var byIdentity = new Dictionary<string, List<Sample>>(StringComparer.Ordinal);
        var identities = new Dictionary<Labels, string>();
        var output = new SeriesAccumulator();
        var added = new List<Label>();
        for (int i = 0; i < StepCount; i++)
        {
            _ct.ThrowIfCancellationRequested();
            long ts = StepTime(i);
            inputCursor.At(ts, vector);
            if (vector.Count == 0) continue;
            infoCursor.At(ts, infos);
            newest.Clear();
            foreach (var info in infos)
            {
                var key = (IdentityOf(info.Metric), info.Metric.MetricName);
                if (!newest.TryGetValue(key, out var other) || info.F > other.F) newest[key] = info;
            }
            byIdentity.Clear();
            foreach (var ((id, _), info) in newest)
            {
                if (!byIdentity.TryGetValue(id, out var list)) byIdentity[id] = list = [];
                list.Add(info);
            }
            foreach (var s in vector)
            {
                if (plan.NameMatchers.All(m => m.Matches(s.Metric.MetricName)))
                {
                    output.Add(s.Metric, ts, s.F, s.H);
                    continue;
                }
                added.Clear();
                bool found = false;
                if (IdentifyingLabels.Any(s.Metric.Has))
                {
                    if (!identities.TryGetValue(s.Metric, out var id)) identities[s.Metric] = id = IdentityOf(s.Metric);
                    if (byIdentity.TryGetValue(id, out var matching))
                    {
                        found = true;
                        foreach (var info in matching) AddDataLabels(s.Metric, info.Metric, wanted, added);
                    }
                }
                if (!found && !keepUnmatched) continue;
                var metric = added.Count == 0 ? s.Metric : Labels.FromUnsorted(s.Metric.Concat(added));
                output.Add(metric, ts, s.F, s.H);
            }
        }
        return output.Result();
    }

    /// <summary>The identifying label values of a series, absent ones as empty strings.</summary>
    private static string IdentityOf(Labels l) => string.Join('\xff', IdentifyingLabels.Select(l.Get));

    /// <summary>Adds the info series' data labels the series lacks; the same label from two info metrics must agree.</summary>
    private static void AddDataLabels(Labels series, Labels info, string[]? wanted, List<Label> added)
    {
        foreach (var label in info)
        {
            if (label.Name == LabelNames.MetricName || label.Value.Length == 0 || series.Has(label.Name)) continue;
            if (wanted is null ? IdentifyingLabels.Contains(label.Name) : !wanted.Contains(label.Name)) continue;
            int at = added.FindIndex(l => l.Name == label.Name);
            if (at < 0) added.Add(label);
            else if (added[at].Value != label.Value)
                throw new PromQLException(PromQLErrorType.Execution,
                    $"conflicting label: \"{label.Name}\" is \"{added[at].Value}\" in one info series of {series} and \"{label.Value}\" in {info}");
        }
    }
}
