using System.Reflection;
using Amphora.Testing;
using Amphora.PromQL.Rules;
using Xunit;

namespace Amphora.PromQL.Tests.Rules;

/// <summary>
/// The reference: Prometheus's own <c>promtool check rules</c> (Debian's prometheus package, 2.42; ./test.sh installs it)
/// accepts the file Amphora accepts and refuses every file Amphora refuses. A missing promtool fails these tests.
/// </summary>
public sealed class RuleFilePromtoolTests
{
    public static IEnumerable<object[]> RefusedFiles() =>
        typeof(RuleFileParserTests).GetMethod(nameof(RuleFileParserTests.An_invalid_file_is_refused_naming_line_group_and_rule))!
            .GetCustomAttributes<InlineDataAttribute>()
            .Select(a => new[] { a.GetData(null!).Single()[0] });

    [Fact]
    public void Promtool_accepts_the_file_Amphora_accepts()
    {
        // query_offset is newer than Prometheus 2.42; the rest of the valid file is what both read.
        string text = RuleFileParserTests.ValidFile.Replace("    query_offset: 1m\n", "", StringComparison.Ordinal);
        RuleFileParser.Parse(text);
        var (ok, output) = CheckRules(text);
        Assert.True(ok, output);
    }

    [Theory]
    [MemberData(nameof(RefusedFiles))]
    public void Promtool_refuses_what_Amphora_refuses(string text)
    {
        Assert.Throws<RuleFileException>(() => RuleFileParser.Parse(text));
        var (ok, output) = CheckRules(text);
        Assert.False(ok, "promtool accepted it: " + output);
    }

    private static (bool Ok, string Output) CheckRules(string text)
    {
        string file = Path.Combine(Path.GetTempPath(), $"amphora-rules-{Guid.NewGuid():N}.yml");
        File.WriteAllText(file, text);
        try
        {
            var run = DebianTool.Run("promtool", "prometheus", TimeSpan.FromMinutes(1), "check", "rules", file);
            return (run.ExitCode == 0, run.Output);
        }
        finally
        {
            File.Delete(file);
        }
    }
}
