using System.Net.Http.Headers;
using System.Text;
using Amphora.Querier.Tests.Support;
using Xunit;

namespace Amphora.Querier.Tests.Api;

/// <summary>
/// Issue 13, finding 6 (regular expressions): compiling a query's or a selector's regular expressions counts against the
/// request's timeout. One compilation cannot be interrupted (it is bounded by Re2Limits.MaxAutomatonSize), so the deadline is
/// checked before each: a request naming many costly patterns stops at the first one past its deadline with 503
/// <c>timeout</c>, where it used to compile them all and then answer 200.
/// </summary>
public sealed class RegexCompileDeadlineTests
{
    private const int Patterns = 40;

    /// <summary>
    /// Distinct 1,000-value alternations of random names, which share no prefixes the engine could fold (host names that
    /// differ only in a counter compiled in a few milliseconds on a quiet machine, and 40 of them fitted in the timeout);
    /// fresh per run, so none is cached. 40 of them take far longer than the 100 ms timeout on any machine.
    /// </summary>
    private static IEnumerable<string> CostlyPatterns()
    {
        for (int k = 0; k < Patterns; k++)
            yield return string.Join('|', Enumerable.Range(0, 1000).Select(_ => Guid.NewGuid().ToString("N")));
    }

    /// <summary>A PromQL double-quoted string holding <paramref name="pattern"/>.</summary>
    private static string Quote(string pattern) => "\"" + pattern.Replace("\\", "\\\\") + "\"";

    private static StringContent Form(IEnumerable<(string Name, string Value)> fields) =>
        new(string.Join('&', fields.Select(f => f.Name + "=" + Uri.EscapeDataString(f.Value))), Encoding.ASCII,
            new MediaTypeHeaderValue("application/x-www-form-urlencoded"));

    [Fact]
    public async Task A_query_whose_regular_expressions_take_longer_than_its_timeout_to_compile_fails_with_503_timeout()
    {
        await using var server = await ApiServer.StartAsync(new MemoryStorage());
        string query = string.Join(" or ", CostlyPatterns().Select(p => $"up{{job=~{Quote(p)}}}"));
        using var response = await server.Http.PostAsync("/workspaces/ws-a/api/v1/query",
            Form([("query", query), ("time", "600"), ("timeout", "100ms")]));
        var (status, body) = await ApiInputTests.ReadAsync(response);
        Assert.Equal(503, status);
        Assert.Equal("timeout", body.GetProperty("errorType").GetString());
        Assert.Contains("compiling its regular expressions", body.GetProperty("error").GetString());
    }

    [Theory]
    [InlineData("series")]
    [InlineData("labels")]
    [InlineData("label/job/values")]
    public async Task Match_selectors_whose_regular_expressions_take_longer_than_the_timeout_to_compile_fail_with_503_timeout(string endpoint)
    {
        await using var server = await ApiServer.StartAsync(new MemoryStorage(), new QuerierOptions { Timeout = TimeSpan.FromMilliseconds(100) });
        var fields = CostlyPatterns().Select(p => ("match[]", $"{{job=~{Quote(p)}}}")).Append(("start", "0")).Append(("end", "600"));
        using var response = await server.Http.PostAsync("/workspaces/ws-a/api/v1/" + endpoint, Form(fields));
        var (status, body) = await ApiInputTests.ReadAsync(response);
        Assert.Equal(503, status);
        Assert.Equal("timeout", body.GetProperty("errorType").GetString());
        Assert.Contains("--query.timeout", body.GetProperty("error").GetString());
    }

    [Fact]
    public async Task The_same_selectors_within_the_timeout_answer_and_a_pattern_over_the_automaton_limit_is_400_bad_data()
    {
        await using var server = await ApiServer.StartAsync(new MemoryStorage());
        var one = CostlyPatterns().First();
        using var ok = await server.Http.PostAsync("/workspaces/ws-a/api/v1/series", Form([("match[]", $"{{job=~{Quote(one)}}}")]));
        Assert.Equal(200, (await ApiInputTests.ReadAsync(ok)).Status);

        using var tooLarge = await server.Http.PostAsync("/workspaces/ws-a/api/v1/series", Form([("match[]", "{job=~\"(?i)\\\\pL{1000}\"}")]));
        var (status, body) = await ApiInputTests.ReadAsync(tooLarge);
        Assert.Equal(400, status);
        Assert.Equal("bad_data", body.GetProperty("errorType").GetString());
        Assert.Contains("expression too large", body.GetProperty("error").GetString());
    }
}
