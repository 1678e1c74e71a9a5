using Amphora.PromQL.Parser;
using Amphora.PromQL.Tests.Scripts;
using Xunit;

namespace Amphora.PromQL.Tests.Hardening;

/// <summary>
/// Issue 13, finding 8: regular expressions through the engine as Prometheus evaluates them. The expected results were
/// checked against Go's regexp (Prometheus's engine); a script in the conformance format runs them.
/// </summary>
public sealed class RegexTests
{
    private static readonly string Alternation200 =
        string.Join("|", Enumerable.Range(1, 200).Select(i => $"host-{i:D4}\\\\.example\\\\.com:9100"));

    [Fact]
    public void A_200_value_alternation_and_go_capture_numbering_evaluate_as_in_prometheus()
    {
        string script = $$"""
            load 1m
              up{instance="host-0001.example.com:9100", job="a"} 1
              up{instance="host-0200.example.com:9100", job="b"} 2
              up{instance="host-0201.example.com:9100", job="c"} 3
              up{instance="host-0001Xexample.com:9100", job="d"} 4

            eval instant at 0m up{instance=~"{{Alternation200}}"}
              up{instance="host-0001.example.com:9100", job="a"} 1
              up{instance="host-0200.example.com:9100", job="b"} 2

            eval instant at 0m up{instance!~"{{Alternation200}}"}
              up{instance="host-0201.example.com:9100", job="c"} 3
              up{instance="host-0001Xexample.com:9100", job="d"} 4

            eval instant at 0m label_replace(up{job="a"}, "x", "$1-$2-$name", "instance", "(?P<name>host)-(\\d+).*")
              up{instance="host-0001.example.com:9100", job="a", x="host-0001-host"} 1

            eval instant at 0m label_replace(up{job="a"}, "x", "[$01][${2}x][$2x]", "instance", "(h)(o).*")
              up{instance="host-0001.example.com:9100", job="a", x="[][ox][]"} 1

            eval instant at 0m label_replace(up{job="b"}, "x", "$n", "instance", "(?P<n>nomatch)?(?P<n>host).*")
              up{instance="host-0200.example.com:9100", job="b", x="host"} 2

            eval instant at 0m up{job=~"A|B", job=~"(?i)a|b"}

            eval instant at 0m up{job=~"(?i)A|B"}
              up{instance="host-0001.example.com:9100", job="a"} 1
              up{instance="host-0200.example.com:9100", job="b"} 2

            eval instant at 0m up{job=~"\\pL", job!~"[[:^alpha:]]|[a-c]"}
              up{instance="host-0001Xexample.com:9100", job="d"} 4
            """;
        string dir = Path.Combine(Path.GetTempPath(), "amphora-regex-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string file = Path.Combine(dir, "regex.test");
            File.WriteAllText(file, script);
            var outcomes = new ScriptRunner().Run(file);
            Assert.Equal(8, outcomes.Count);
            Assert.All(outcomes, o => Assert.True(o.Passed, $"line {o.Line}: {o.Detail}"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_selector_past_the_automaton_bound_is_a_parse_error_naming_the_bound()
    {
        string values = string.Join("|", Enumerable.Range(1, 5000).Select(i => $"host-{i:D4}\\\\.example\\\\.com:9100"));
        var e = Assert.Throws<ParseException>(() => PromQLParser.ParseExpr($"up{{instance=~\"{values}\"}}"));
        Assert.Contains("expression too large", e.Message);
        Assert.Contains("states of the non-backtracking engine", e.Message);
    }

    [Fact]
    public async Task A_label_replace_pattern_past_a_bound_is_bad_data_naming_the_bound()
    {
        var engine = new Engine.PromQLEngine(new Engine.EngineOptions());
        string deep = new string('(', 2000) + new string(')', 2000);
        var e = await Assert.ThrowsAsync<Engine.PromQLException>(() =>
            engine.InstantQuery(new ScriptStorage(), $"label_replace(vector(1), \"x\", \"y\", \"a\", \"{deep}\")", 0).ExecAsync(default));
        Assert.Equal(Engine.PromQLErrorType.BadData, e.ErrorType);
        Assert.Contains("nest more than 1000 levels", e.Message);
    }
}
