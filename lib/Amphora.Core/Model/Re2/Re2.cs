using System.Text.RegularExpressions;

namespace Amphora.Model;

/// <summary>
/// Compiles RE2 syntax (what Prometheus accepts) into a fully anchored .NET regular expression on the non-backtracking
/// engine, with <c>.</c> matching newlines as in Prometheus 3. What RE2 refuses (backreferences, lookaround, possessive or
/// atomic groups, <c>\Z</c>, repeat counts over 1000) and what exceeds a <see cref="Re2Limits"/> bound is refused with an
/// <see cref="Re2SyntaxException"/> whose message reads like RE2's. Compilations are cached per pattern.
/// </summary>
public static class Re2
{
    private static readonly Re2Cache Cache = new(Re2Limits.CacheMaxEntries, Re2Limits.CacheMaxTranslatedChars);

    /// <summary>The cancellation and deadline (a <see cref="System.Diagnostics.Stopwatch"/> timestamp, 0 for none) of the
    /// request whose parser compiles on this flow (see <see cref="CancelCompilationsWith"/>).</summary>
    private static readonly AsyncLocal<(CancellationToken Ct, long Deadline)> Cancellation = new();

    static Re2()
    {
        // .NET reads this per construction; nothing else in Amphora builds non-backtracking expressions.
        AppContext.SetData("REGEX_NONBACKTRACKING_MAX_AUTOMATA_SIZE", Re2Limits.MaxAutomatonSize);
    }

    /// <summary>
    /// Compiles (or returns the cached compilation of) a pattern. Building a non-backtracking automaton costs far more than
    /// matching, and dashboards send the same selectors on every refresh. Concurrent callers of one pattern share one build.
    /// </summary>
    public static Re2Regex Compile(string pattern)
    {
        // A compilation cannot be interrupted once it runs (the engine builds its automaton in one call, bounded by
        // Re2Limits.MaxAutomatonSize), so a request's deadline is checked before each one: a query with many costly
        // patterns stops at the first compilation after its deadline instead of compiling them all.
        // The deadline is read from the clock, not only from the token: compilations keep the thread pool busy, and the timer
        // that cancels the token may run late on a loaded machine.
        var (ct, deadline) = Cancellation.Value;
        ct.ThrowIfCancellationRequested();
        if (deadline != 0 && System.Diagnostics.Stopwatch.GetTimestamp() >= deadline)
            throw new OperationCanceledException("the request's deadline passed before this regular expression was compiled", ct);
        return Cache.GetOrAdd(pattern, CompileUncached);
    }

    /// <summary>
    /// Until the returned scope is disposed, <see cref="Compile"/> on this thread or async flow throws
    /// <see cref="OperationCanceledException"/> once <paramref name="ct"/> is cancelled. Parsers compile patterns deep inside
    /// (label matchers, <c>match[]</c> selectors); a request wraps its parse in this scope to bound it by its timeout.
    /// </summary>
    /// <param name="timeout">Also throws once this much time has passed from now, whether or not the token was cancelled yet.</param>
    public static CompileScope CancelCompilationsWith(CancellationToken ct, TimeSpan? timeout = null)
    {
        var previous = Cancellation.Value;
        long deadline = timeout is { } t ? System.Diagnostics.Stopwatch.GetTimestamp() + (long)(t.TotalSeconds * System.Diagnostics.Stopwatch.Frequency) : 0;
        Cancellation.Value = (ct, deadline);
        return new CompileScope(previous);
    }

    /// <summary>Restores the cancellation that was in effect before <see cref="CancelCompilationsWith"/>.</summary>
    public readonly struct CompileScope : IDisposable
    {
        private readonly (CancellationToken, long) _previous;
        internal CompileScope((CancellationToken, long) previous) => _previous = previous;
        public void Dispose() => Cancellation.Value = _previous;
    }

    /// <summary>Compiles without the cache.</summary>
    public static Re2Regex CompileUncached(string pattern)
    {
        var (translated, names) = Re2Translator.Translate(pattern, dotMatchesNewline: true);
        try
        {
            var regex = new Regex("\\A(?:" + translated + ")\\z",
                RegexOptions.NonBacktracking | RegexOptions.CultureInvariant, Re2Limits.MatchTimeout);
            return new Re2Regex(pattern, regex, names, translated.Length);
        }
        catch (NotSupportedException)
        {
            // The engine's estimate of its automaton exceeds REGEX_NONBACKTRACKING_MAX_AUTOMATA_SIZE.
            throw new Re2SyntaxException(Re2ErrorCode.Large,
                $"its automaton would exceed {Re2Limits.MaxAutomatonSize} states of the non-backtracking engine (fewer alternatives or smaller repetition counts fit)",
                isLimit: true);
        }
        catch (ArgumentException e)
        {
            // The translation only writes what .NET accepts; should it not, the pattern is refused, never a 500.
            throw new Re2SyntaxException(Re2ErrorCode.InvalidPerlOp, $"{pattern} ({e.Message})", isLimit: false);
        }
    }

    /// <summary>The .NET pattern a RE2 pattern translates to (not anchored); for tests and diagnostics.</summary>
    public static string Translate(string pattern) => Re2Translator.Translate(pattern, dotMatchesNewline: true).Pattern;
}
