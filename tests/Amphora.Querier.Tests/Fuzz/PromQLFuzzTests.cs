using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Amphora.PromQL.Parser;
using Amphora.Querier.Api;
using Amphora.Querier.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace Amphora.Querier.Tests.Fuzz;

/// <summary>
/// Issue 13, "must show": a bounded in-process fuzz run of generated PromQL. Every input goes through the parser; every
/// 50th one that parses is evaluated by the querier (the same QuerierService the HTTP API calls) over a small in-memory
/// dataset with a short timeout; every 2000th input is also sent to the HTTP API as a raw query string. Each outcome must
/// be a result or a typed error that the API answers with 400, 422 or 503, never another exception, never a hang past
/// the timeout. The seed is printed and can be set with AMPHORA_FUZZ_SEED (and the count with AMPHORA_FUZZ_INPUTS) to
/// reproduce a failure; each failure names its input's index.
/// </summary>
public sealed class PromQLFuzzTests(ITestOutputHelper output)
{
    private const int DefaultInputs = 1_000_000;
    private const int DefaultSeed = 20_261_203;
    private const int Chunk = 1000;
    private static readonly TimeSpan EvalTimeout = TimeSpan.FromMilliseconds(250);
    /// <summary>Past the timeout by this much an evaluation counts as a hang (a loop that ignores cancellation).</summary>
    private static readonly TimeSpan HangSlack = TimeSpan.FromSeconds(10);

    private sealed class Figures
    {
        public long ParseOk, ParseError, ParseCrashes, Evaluated, EvalOk, Http, Failed;
        public readonly ConcurrentDictionary<int, long> ByStatus = new();
        public readonly ConcurrentQueue<string> Failures = new();
        public long MaxEvalMs, GenerateTicks, ParseTicks, EvalTicks, HttpTicks;

        public void Fail(int index, string input, string what)
        {
            Interlocked.Increment(ref Failed);
            if (Failures.Count < 30)
                Failures.Enqueue($"input #{index} ({what}): {Printable(input)}");
        }
    }

    private static int EnvInt(string name, int fallback) =>
        int.TryParse(Environment.GetEnvironmentVariable(name), NumberStyles.Integer, CultureInfo.InvariantCulture, out int v) ? v : fallback;

    /// <summary>The input with index <paramref name="index"/>: a function of the seed and the index only.</summary>
    internal static string Input(Random chunkRandom)
    {
        var generator = new PromQLGenerator(chunkRandom);
        var mutator = new PromQLMutator(chunkRandom);
        string text = generator.Expression(1 + chunkRandom.Next(5));
        int kind = chunkRandom.Next(100);
        if (kind < 40) return text;                               // as generated
        if (kind < 98) return mutator.Mutate(text);               // mutated
        return RandomText(chunkRandom);                           // noise
    }

    private static string RandomText(Random rng)
    {
        var chars = new char[rng.Next(1, 60)];
        for (int i = 0; i < chars.Length; i++) chars[i] = (char)(rng.Next(4) == 0 ? rng.Next(0, 0x10000) : rng.Next(0, 128));
        return new string(chars);
    }

    [Fact]
    public async Task A_million_generated_queries_give_results_or_4xx_and_503_only()
    {
        int seed = EnvInt("AMPHORA_FUZZ_SEED", DefaultSeed);
        int inputs = EnvInt("AMPHORA_FUZZ_INPUTS", DefaultInputs);
        output.WriteLine($"seed {seed} (AMPHORA_FUZZ_SEED), {inputs} inputs (AMPHORA_FUZZ_INPUTS)");
        var storage = MemoryStorage.Sample();
        await using var server = await ApiServer.StartAsync(storage, new QuerierOptions
        {
            Timeout = EvalTimeout,
            MaxSamples = 2_000_000,
            EnableExperimentalFunctions = true,
        });
        var figures = new Figures();
        var watch = Stopwatch.StartNew();
        int chunks = (inputs + Chunk - 1) / Chunk;
        await Parallel.ForAsync(0, chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (c, _) =>
        {
            // One random stream per chunk, seeded from the seed and the chunk: the inputs do not depend on scheduling.
            var rng = new Random(unchecked(seed * 1_000_003 + c));
            int parsedInChunk = 0;
            for (int index = c * Chunk; index < Math.Min(inputs, (c + 1) * Chunk); index++)
            {
                long t0 = Stopwatch.GetTimestamp();
                string input = Input(rng);
                long t1 = Stopwatch.GetTimestamp();
                bool parsed = Parse(index, input, figures);
                long t2 = Stopwatch.GetTimestamp();
                Interlocked.Add(ref figures.GenerateTicks, t1 - t0);
                Interlocked.Add(ref figures.ParseTicks, t2 - t1);
                if (parsed && ++parsedInChunk % 50 == 0)
                {
                    await EvaluateAsync(server.Querier, index, input, rng.Next(3) == 0, figures);
                    Interlocked.Add(ref figures.EvalTicks, Stopwatch.GetTimestamp() - t2);
                }
                if (index % 2000 == 0)
                {
                    long t3 = Stopwatch.GetTimestamp();
                    await SendAsync(server, index, input, rng, figures);
                    Interlocked.Add(ref figures.HttpTicks, Stopwatch.GetTimestamp() - t3);
                }
            }
        });
        watch.Stop();

        output.WriteLine($"inputs {inputs}: parsed {figures.ParseOk}, parse errors {figures.ParseError}, parser crashes {figures.ParseCrashes}; " +
                         $"evaluated {figures.Evaluated} ({figures.EvalOk} results, errors by status: " +
                         string.Join(", ", figures.ByStatus.OrderBy(kv => kv.Key).Select(kv => $"{kv.Key}: {kv.Value}")) +
                         $"); longest evaluation {figures.MaxEvalMs} ms; HTTP requests {figures.Http}; failures {figures.Failed}; {watch.Elapsed.TotalSeconds:0.0} s");
        static string Seconds(long ticks) => (ticks / (double)Stopwatch.Frequency).ToString("0.0", CultureInfo.InvariantCulture) + " s";
        output.WriteLine($"time summed over {Environment.ProcessorCount} workers: generating {Seconds(figures.GenerateTicks)}, parsing and reprinting " +
                         $"{Seconds(figures.ParseTicks)}, evaluating {Seconds(figures.EvalTicks)}, HTTP {Seconds(figures.HttpTicks)}");
        foreach (var f in figures.Failures) output.WriteLine("FAILURE " + f);
        Assert.Equal(inputs, figures.ParseOk + figures.ParseError + figures.ParseCrashes);
        Assert.True(figures.Failed == 0, $"{figures.Failed} failures (seed {seed}), first: {figures.Failures.FirstOrDefault()}");
        Assert.True(figures.Evaluated > inputs / 500, $"only {figures.Evaluated} evaluations");
        Assert.True(figures.Http >= inputs / 2000, $"only {figures.Http} HTTP requests");
    }

    /// <summary>Parses; a parsed expression must also print to a text that parses to the same print (no printer bug).</summary>
    private static bool Parse(int index, string input, Figures figures)
    {
        Expr expr;
        try
        {
            expr = PromQLParser.ParseExpr(input);
        }
        catch (ParseException)
        {
            Interlocked.Increment(ref figures.ParseError);
            return false;
        }
        catch (Exception e)
        {
            Interlocked.Increment(ref figures.ParseCrashes);
            figures.Fail(index, input, $"parse threw {e.GetType().Name}: {e.Message}");
            return false;
        }
        Interlocked.Increment(ref figures.ParseOk);
        string printed;
        try
        {
            printed = expr.ToString();
            string again = PromQLParser.ParseExpr(printed).ToString();
            if (again != printed) figures.Fail(index, input, $"printed {Printable(printed)} reprints as {Printable(again)}");
        }
        catch (Exception e)
        {
            figures.Fail(index, input, $"printing or reparsing threw {e.GetType().Name}: {e.Message}");
        }
        return true;
    }

    private static async Task EvaluateAsync(QuerierService querier, int index, string input, bool range, Figures figures)
    {
        var watch = Stopwatch.StartNew();
        var evaluation = Task.Run(async () =>
        {
            if (range) await querier.RangeQueryAsync("ws-fuzz", input, 0, 3_600_000, 60_000, null, default);
            else await querier.InstantQueryAsync("ws-fuzz", input, 1_800_000, null, default);
        });
        if (await Task.WhenAny(evaluation, Task.Delay(EvalTimeout + HangSlack)) != evaluation)
        {
            figures.Fail(index, input, $"evaluation still running {EvalTimeout + HangSlack} after it started (a hang)");
            return;
        }
        long ms = watch.ElapsedMilliseconds;
        long max;
        while (ms > (max = Interlocked.Read(ref figures.MaxEvalMs)) && Interlocked.CompareExchange(ref figures.MaxEvalMs, ms, max) != max) { }
        Interlocked.Increment(ref figures.Evaluated);
        try
        {
            await evaluation;
            Interlocked.Increment(ref figures.EvalOk);
        }
        catch (ApiException e) when (ApiException.HttpStatus(e.Type) is 400 or 422 or 503)
        {
            figures.ByStatus.AddOrUpdate(ApiException.HttpStatus(e.Type), 1, (_, n) => n + 1);
        }
        catch (Exception e)
        {
            figures.Fail(index, input, $"{(range ? "range" : "instant")} evaluation threw {e.GetType().Name}: {e.Message}");
        }
    }

    /// <summary>
    /// The input as a raw query string (or, when that would pass Kestrel's 8 KiB request line, which it answers 414 itself,
    /// as a form body): its UTF-8 bytes percent-encoded, sometimes with an invalid byte or NUL injected.
    /// </summary>
    private static async Task SendAsync(ApiServer server, int index, string input, Random rng, Figures figures)
    {
        var query = new StringBuilder("time=1800&query=");
        foreach (byte b in Encoding.UTF8.GetBytes(input)) query.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
        if (rng.Next(4) == 0) query.Append(rng.Next(2) == 0 ? "%FF" : "%00");
        Interlocked.Increment(ref figures.Http);
        const string path = "/workspaces/ws-fuzz/api/v1/query";
        try
        {
            using var response = query.Length < 6000
                ? await server.Http.GetAsync(path + "?" + query)
                : await server.Http.PostAsync(path, new StringContent(query.ToString(), Encoding.ASCII, "application/x-www-form-urlencoded"));
            string body = await response.Content.ReadAsStringAsync();
            int status = (int)response.StatusCode;
            if (status is not (200 or 400 or 422 or 503) || !body.StartsWith("{\"status\":", StringComparison.Ordinal))
                figures.Fail(index, input, $"HTTP {status}: {body[..Math.Min(body.Length, 300)]}");
        }
        catch (HttpRequestException e)
        {
            figures.Fail(index, input, $"HTTP request failed: {e.Message}");
        }
    }

    private static string Printable(string s)
    {
        var sb = new StringBuilder();
        foreach (char c in s.Length > 300 ? s[..300] + "…(" + s.Length + " chars)" : s)
            sb.Append(c < 32 || c is >= '\uD800' and <= '\uDFFF' ? $"\\u{(int)c:x4}" : c.ToString());
        return sb.ToString();
    }
}
