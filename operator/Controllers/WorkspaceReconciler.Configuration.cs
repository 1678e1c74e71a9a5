using Amphora.Operator.Api;
using Amphora.Operator.ControlPlane;

namespace Amphora.Operator.Controllers;

// Retention, out-of-order window, limits per label set and the workspace's own limits: its configuration in the control plane.
public sealed partial class WorkspaceReconciler
{
    public const int DefaultRetentionPeriodInDays = 150;

    private async Task<(string Reason, string Message)?> SyncConfigurationAsync(V1Alpha1Workspace ws, WorkspaceStatus status,
        string workspaceId, long generation, CancellationToken ct)
    {
        var want = Desired(ws.Spec);
        var have = await amphora.DescribeConfigurationAsync(workspaceId, ct);
        if (Same(have, want))
        {
            Conditions.Set(status, generation, Conditions.ConfigurationApplied, true, "Applied",
                $"retention {want.RetentionPeriodInDays} days, {want.LimitsPerLabelSet.Count} label-set limits, out-of-order window {want.OutOfOrderTimeWindowInSeconds}s");
            return null;
        }
        try
        {
            await amphora.UpdateConfigurationAsync(workspaceId, want, ct);
        }
        catch (ControlPlaneException e) when (e.IsValidation)
        {
            string message = $"Amphora refused the configuration: spec.{e.Detail}";
            Conditions.Set(status, generation, Conditions.ConfigurationApplied, false, "InvalidConfiguration", message);
            await events.WarningAsync(ws, "InvalidConfiguration", message);
            return ("InvalidConfiguration", message);
        }
        Conditions.Set(status, generation, Conditions.ConfigurationApplied, true, "Applied",
            $"retention {want.RetentionPeriodInDays} days, {want.LimitsPerLabelSet.Count} label-set limits, out-of-order window {want.OutOfOrderTimeWindowInSeconds}s");
        await events.NormalAsync(ws, "ConfigurationUpdated",
            $"workspace {workspaceId}: retention {have.RetentionPeriodInDays} -> {want.RetentionPeriodInDays} days, label-set limits {have.LimitsPerLabelSet.Count} -> {want.LimitsPerLabelSet.Count}");
        return null;
    }

    private static WorkspaceConfigurationBody Desired(WorkspaceSpec spec) => new()
    {
        RetentionPeriodInDays = spec.RetentionPeriodInDays ?? DefaultRetentionPeriodInDays,
        OutOfOrderTimeWindowInSeconds = spec.OutOfOrderTimeWindowInSeconds ?? 0,
        LimitsPerLabelSet = (spec.Limits?.LimitsPerLabelSet ?? []).Select(l => new LimitsPerLabelSetBody
        {
            LabelSet = l.LabelSet ?? [],
            Limits = new LabelSetLimitsBody { MaxSeries = l.MaxSeries },
        }).ToList(),
        // Always sent: limits removed from the spec go back to the service's defaults.
        Limits = new WorkspaceLimitsBody
        {
            IngestionRate = spec.Limits?.IngestionRate,
            IngestionBurstSize = spec.Limits?.IngestionBurstSize,
            MaxSeries = spec.Limits?.MaxSeries,
            MaxSeriesPerMetric = spec.Limits?.MaxSeriesPerMetric,
        },
    };

    private static bool Same(WorkspaceConfigurationBody a, WorkspaceConfigurationBody b)
    {
        if (a.RetentionPeriodInDays != b.RetentionPeriodInDays || a.OutOfOrderTimeWindowInSeconds != b.OutOfOrderTimeWindowInSeconds) return false;
        if ((a.Limits ?? new WorkspaceLimitsBody()) != (b.Limits ?? new WorkspaceLimitsBody())) return false;
        if (a.LimitsPerLabelSet.Count != b.LimitsPerLabelSet.Count) return false;
        for (int i = 0; i < a.LimitsPerLabelSet.Count; i++)
        {
            var (x, y) = (a.LimitsPerLabelSet[i], b.LimitsPerLabelSet[i]);
            if (x.Limits.MaxSeries != y.Limits.MaxSeries || x.LabelSet.Count != y.LabelSet.Count) return false;
            if (x.LabelSet.Any(p => !y.LabelSet.TryGetValue(p.Key, out var v) || v != p.Value)) return false;
        }
        return true;
    }
}
