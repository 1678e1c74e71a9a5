using Microsoft.Extensions.Logging;

namespace Amphora.Ruler;

/// <summary>
/// One group's evaluation loop: waits for the group's next aligned evaluation time (<see cref="RuleGroupState.EvalTimestamp"/>
/// plus the interval), evaluates, and after the second evaluation restores alert state from <c>ALERTS_FOR_STATE</c>, as
/// Prometheus does. Missed evaluations (a slow one, a paused process) are skipped, not caught up. A replacement loop of the
/// same group starts only once the previous one stopped, so one group never evaluates twice at once.
/// </summary>
internal sealed partial class GroupRunner
{
    private readonly CancellationTokenSource _stop = new();
    private readonly GroupEvaluator _evaluator;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private bool _markStale;

    public RuleGroupState State { get; }
    public Task StopTask { get; }

    public GroupRunner(RuleGroupState state, GroupEvaluator evaluator, TimeProvider time, ILogger logger, Task previous)
    {
        State = state;
        _evaluator = evaluator;
        _time = time;
        _logger = logger;
        StopTask = Task.Run(() => RunAsync(previous));
    }

    public async Task StopAsync(bool markStale)
    {
        _markStale = markStale;
        _stop.Cancel();
        await StopTask.ConfigureAwait(false);
    }

    private async Task RunAsync(Task previous)
    {
        try
        {
            await previous.ConfigureAwait(false);
        }
        catch (Exception)
        {
            // the previous loop logged its own failure
        }
        var ct = _stop.Token;
        long interval = (long)State.Interval.TotalMilliseconds;
        long next = State.EvalTimestamp(_time.GetUtcNow().ToUnixTimeMilliseconds()) + interval;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                long now = _time.GetUtcNow().ToUnixTimeMilliseconds();
                if (next > now) await Task.Delay(TimeSpan.FromMilliseconds(next - now), _time, ct).ConfigureAwait(false);
                try
                {
                    await _evaluator.EvaluateAsync(State, next, ct).ConfigureAwait(false);
                    if (State.ShouldRestore && State.Evaluations >= 2)
                    {
                        State.ShouldRestore = false;
                        await _evaluator.RestoreAsync(State, _time.GetUtcNow(), ct).ConfigureAwait(false);
                    }
                }
                catch (OperationCanceledException) when (ct.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e)
                {
                    LogEvaluationFailed(_logger, e, State.Key.ToString());
                }
                long after = _time.GetUtcNow().ToUnixTimeMilliseconds();
                next += interval;
                if (after >= next) next = State.EvalTimestamp(after) + interval; // skip what was missed
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
        if (_markStale)
        {
            try
            {
                await _evaluator.MarkStaleAsync(State, _time.GetUtcNow().ToUnixTimeMilliseconds(), CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception e)
            {
                LogEvaluationFailed(_logger, e, State.Key.ToString());
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "rule group {Group}: evaluation failed")]
    private static partial void LogEvaluationFailed(ILogger logger, Exception e, string group);
}
