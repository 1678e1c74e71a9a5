using Amphora.Model;

namespace Amphora.Ruler.Tests;

public sealed class EvaluationTests
{
    private static long Now => DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000 * 1000;

    [Fact]
    public async Task A_recording_rule_writes_its_series_with_the_rule_labels_and_marks_a_vanished_one_stale()
    {
        await using var h = await RulerHarness.StartAsync();
        long t0 = Now - 10_000;
        await h.WriteAsync("ws", "req{job=\"a\",code=\"200\"}", t0, 3);
        await h.WriteAsync("ws", "req{job=\"b\",code=\"200\"}", t0, 4);
        var group = RulerHarness.Group("ws", """
            groups:
            - name: g
              rules:
              - record: job:req:sum
                expr: sum by (job) (req{code="200"})
                labels: {team: infra}
            """);
        await h.Evaluator.EvaluateAsync(group, t0 + 1000, default);
        var v = await h.QueryAsync("ws", "job:req:sum", t0 + 1000);
        Assert.Equal(["job:req:sum{job=\"a\", team=\"infra\"} 3", "job:req:sum{job=\"b\", team=\"infra\"} 4"],
            v.Samples.Select(s => $"{s.Metric} {s.F}").Order());
        Assert.Equal(RuleHealth.Ok, group.Rules[0].Status.Health);

        // Series b disappears: a stale marker ends it at the next evaluation instead of 5 minutes of lookback.
        await h.WriteAsync("ws", "req{job=\"a\",code=\"200\"}", t0 + 1500, 5);
        await h.WriteAsync("ws", "req{job=\"b\",code=\"200\"}", t0 + 1500, StaleNaN.Value);
        await h.Evaluator.EvaluateAsync(group, t0 + 2000, default);
        v = await h.QueryAsync("ws", "job:req:sum", t0 + 2000);
        Assert.Equal(["job:req:sum{job=\"a\", team=\"infra\"} 5"], v.Samples.Select(s => $"{s.Metric} {s.F}"));
    }

    [Fact]
    public async Task A_rule_that_fails_shows_err_with_the_error_and_later_rules_still_run()
    {
        await using var h = await RulerHarness.StartAsync();
        long t0 = Now - 10_000;
        await h.WriteAsync("ws", "x{a=\"1\",b=\"1\"}", t0, 1);
        await h.WriteAsync("ws", "x{a=\"1\",b=\"2\"}", t0, 1);
        var group = RulerHarness.Group("ws", """
            groups:
            - name: g
              limit: 1
              rules:
              - record: dup
                expr: x
                labels: {b: same}
              - record: too_many
                expr: x
              - record: fine
                expr: sum(x)
            """);
        await h.Evaluator.EvaluateAsync(group, t0 + 1000, default);
        Assert.Equal((RuleHealth.Err, "vector contains metrics with the same labelset after applying rule labels"),
            (group.Rules[0].Status.Health, group.Rules[0].Status.LastError));
        Assert.Equal((RuleHealth.Err, "exceeded limit of 1 with 2 series"), (group.Rules[1].Status.Health, group.Rules[1].Status.LastError));
        Assert.Equal(RuleHealth.Ok, group.Rules[2].Status.Health);
        Assert.Single((await h.QueryAsync("ws", "fine", t0 + 1000)).Samples);
    }

    [Fact]
    public async Task An_alert_goes_pending_fires_after_for_and_resolves_with_ALERTS_series_and_notifications()
    {
        await using var h = await RulerHarness.StartAsync();
        long t0 = Now - 30_000;
        var group = RulerHarness.Group("ws", """
            groups:
            - name: g
              rules:
              - alert: High
                expr: temp > 10
                for: 2s
                labels: {severity: "{{ if gt $value 20.0 }}page{{ else }}ticket{{ end }}"}
                annotations: {summary: "{{ $labels.room }} is {{ $value }} degrees"}
            """);
        var alerting = (AlertingRuleState)group.Rules[0];
        alerting.Restored = true;
        await h.WriteAsync("ws", "temp{room=\"a\"}", t0, 15);
        await h.Evaluator.EvaluateAsync(group, t0 + 1000, default);
        var alert = Assert.Single(alerting.Snapshot);
        Assert.Equal((AlertState.Pending, "ticket", "a is 15 degrees"), (alert.State, alert.Labels.Get("severity"), alert.Annotations.Get("summary")));
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(t0 + 1000), alert.ActiveAt);
        Assert.Equal("alertname=\"High\", room=\"a\", severity=\"ticket\"", string.Join(", ", alert.Labels));

        await h.Evaluator.EvaluateAsync(group, t0 + 2000, default);
        Assert.Equal(AlertState.Pending, alerting.Snapshot[0].State);
        await h.Evaluator.EvaluateAsync(group, t0 + 3000, default);
        Assert.Equal(AlertState.Firing, alerting.Snapshot[0].State);
        var alerts = await h.QueryAsync("ws", "ALERTS", t0 + 3000);
        Assert.Equal("ALERTS{alertname=\"High\", alertstate=\"firing\", room=\"a\", severity=\"ticket\"}", alerts.Samples.Single().Metric.ToString());
        var forState = await h.QueryAsync("ws", "ALERTS_FOR_STATE", t0 + 3000);
        Assert.Equal((t0 + 1000) / 1000, forState.Samples.Single().F);

        await h.WriteAsync("ws", "temp{room=\"a\"}", t0 + 3500, 5);
        await h.Evaluator.EvaluateAsync(group, t0 + 4000, default);
        Assert.Empty(alerting.Snapshot);
        Assert.Empty((await h.QueryAsync("ws", "ALERTS", t0 + 4000)).Samples); // a stale marker ended it

        await Eventually(() => h.Sent.All.Count >= 2);
        var sent = h.Sent.All;
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(t0 + 3000), sent[0].Alert.StartsAt);
        Assert.True(sent[0].Alert.EndsAt > sent[0].Alert.StartsAt); // valid-until while firing
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(t0 + 4000), sent[1].Alert.EndsAt); // resolved
        Assert.Contains("/workspaces/ws/graph?g0.expr=", sent[0].Alert.GeneratorUrl);
    }

    [Fact]
    public async Task Keep_firing_for_keeps_a_firing_alert_after_its_condition_cleared()
    {
        await using var h = await RulerHarness.StartAsync();
        long t0 = Now - 30_000;
        var group = RulerHarness.Group("ws", """
            groups:
            - name: g
              rules:
              - alert: Flap
                expr: up == 0
                keep_firing_for: 2s
            """);
        var alerting = (AlertingRuleState)group.Rules[0];
        await h.WriteAsync("ws", "up{job=\"j\"}", t0, 0);
        await h.Evaluator.EvaluateAsync(group, t0 + 1000, default);
        Assert.Equal(AlertState.Firing, alerting.Snapshot.Single().State); // no for: fires at once
        await h.WriteAsync("ws", "up{job=\"j\"}", t0 + 1500, 1);
        await h.Evaluator.EvaluateAsync(group, t0 + 2000, default);
        var kept = alerting.Snapshot.Single();
        Assert.Equal((AlertState.Firing, DateTimeOffset.FromUnixTimeMilliseconds(t0 + 2000)), (kept.State, kept.KeepFiringSince));
        await h.Evaluator.EvaluateAsync(group, t0 + 3000, default);
        Assert.Single(alerting.Snapshot);
        await h.Evaluator.EvaluateAsync(group, t0 + 4000, default);
        Assert.Empty(alerting.Snapshot);
    }

    [Fact]
    public async Task Restored_state_keeps_a_firing_alerts_activeAt_and_credits_a_pending_one_its_wait()
    {
        await using var h = await RulerHarness.StartAsync(new RulerOptions { ForGracePeriod = TimeSpan.FromSeconds(1) });
        long t0 = Now - 60_000;
        const string yaml = """
            groups:
            - name: g
              rules:
              - alert: Long
                expr: temp > 10
                for: 20s
              - alert: Short
                expr: temp > 10
                for: 3s
            """;
        var before = RulerHarness.Group("ws", yaml);
        foreach (var r in before.Rules) ((AlertingRuleState)r).Restored = true;
        await h.WriteAsync("ws", "temp{room=\"a\"}", t0, 15);
        for (int i = 1; i <= 5; i++) await h.Evaluator.EvaluateAsync(before, t0 + i * 1000, default);
        var longBefore = ((AlertingRuleState)before.Rules[0]).Snapshot.Single();
        var shortBefore = ((AlertingRuleState)before.Rules[1]).Snapshot.Single();
        Assert.Equal((AlertState.Pending, AlertState.Firing), (longBefore.State, shortBefore.State));

        // "Restart": a new group state, down from t0+5s to t0+15s; two evaluations, then the restore.
        await h.WriteAsync("ws", "temp{room=\"a\"}", t0 + 14_000, 15);
        var after = RulerHarness.Group("ws", yaml);
        await h.Evaluator.EvaluateAsync(after, t0 + 15_000, default);
        await h.Evaluator.EvaluateAsync(after, t0 + 16_000, default);
        await h.Evaluator.RestoreAsync(after, DateTimeOffset.FromUnixTimeMilliseconds(t0 + 16_000), default);
        var longAfter = ((AlertingRuleState)after.Rules[0]).Snapshot.Single();
        var shortAfter = ((AlertingRuleState)after.Rules[1]).Snapshot.Single();
        // Firing before the restart: the same activeAt (ALERTS_FOR_STATE keeps seconds).
        Assert.Equal(shortBefore.ActiveAt.ToUnixTimeSeconds(), shortAfter.ActiveAt.ToUnixTimeSeconds());
        // Pending for 4s of its 20s when it went down at t0+5s: credited those 4s, the 11s of downtime do not count.
        Assert.Equal(DateTimeOffset.FromUnixTimeSeconds((t0 + 1000) / 1000 + 11), longAfter.ActiveAt);
    }

    [Fact]
    public async Task A_workspaces_rules_see_only_its_own_data()
    {
        await using var h = await RulerHarness.StartAsync();
        long t0 = Now - 10_000;
        await h.WriteAsync("mine", "load{host=\"m\"}", t0, 1);
        await h.WriteAsync("other", "load{host=\"o\"}", t0, 100);
        var group = RulerHarness.Group("mine", """
            groups:
            - name: g
              rules:
              - record: total
                expr: sum(load)
            """);
        await h.Evaluator.EvaluateAsync(group, t0 + 1000, default);
        Assert.Equal(1, (await h.QueryAsync("mine", "total", t0 + 1000)).Samples.Single().F);
        Assert.Empty((await h.QueryAsync("other", "total", t0 + 1000)).Samples);
    }

    [Fact]
    public async Task Query_offset_evaluates_and_records_that_far_in_the_past()
    {
        await using var h = await RulerHarness.StartAsync();
        long t0 = Now - 20_000;
        await h.WriteAsync("ws", "g{a=\"1\"}", t0, 1);
        await h.WriteAsync("ws", "g{a=\"1\"}", t0 + 5_000, 2);
        var group = RulerHarness.Group("ws", """
            groups:
            - name: g
              query_offset: 5s
              rules:
              - record: g:copy
                expr: g
            """);
        await h.Evaluator.EvaluateAsync(group, t0 + 6_000, default);
        var v = await h.QueryAsync("ws", "timestamp(g:copy) * 1000 + g:copy", t0 + 6_000);
        // Queried at t0+1s (it saw the first sample, 1) and written at that time; the evaluation itself ran at t0+6s.
        Assert.Equal(t0 + 1_000 + 1, v.Samples.Single().F);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(t0 + 6_000), group.Status.LastEvaluation);
    }

    [Fact]
    public void A_groups_evaluations_are_aligned_to_a_fixed_offset_in_its_interval()
    {
        var group = RulerHarness.Group("ws", "groups:\n- name: g\n  interval: 10s\n  rules:\n  - record: r\n    expr: vector(1)\n");
        long first = group.EvalTimestamp(1_700_000_000_123);
        Assert.InRange(first, 1_700_000_000_123 - 9_999, 1_700_000_000_123);
        Assert.Equal(first, group.EvalTimestamp(first));
        Assert.Equal(first + 10_000, group.EvalTimestamp(first + 10_000 + 9_999));
        Assert.Equal(first % 10_000, group.EvalTimestamp(1_800_000_000_000) % 10_000);
    }

    private static async Task Eventually(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 10s");
            await Task.Delay(20);
        }
    }
}
