using Amphora.BenchRunner;
using Xunit;

namespace Amphora.Compactor.Tests;

/// <summary>
/// bench/run.sh rewrites only its own section of docs/benchmarks.md. A subsection elsewhere whose heading ends in the same
/// words (<c>### Side by side with Prometheus (2026-12-05 …)</c> under the WAL section) once made it replace everything from
/// there on.
/// </summary>
public sealed class BenchmarkDocsTests
{
    [Fact]
    public void The_generated_section_replaces_only_the_section_with_its_exact_heading()
    {
        const string existing = """
            # Benchmarks

            ## WAL group commit

            ### Side by side with Prometheus (2026-12-05)

            kept table

            ## Head under churn, side by side with Prometheus

            churn figures

            ## Side by side with Prometheus

            old generated figures
            """;
        var merged = Docs.Merge(existing.Replace("\r\n", "\n"), "## Side by side with Prometheus\n\nnew figures\n");
        Assert.Contains("### Side by side with Prometheus (2026-12-05)\n\nkept table", merged);
        Assert.Contains("churn figures", merged);
        Assert.DoesNotContain("old generated figures", merged);
        Assert.EndsWith("## Side by side with Prometheus\n\nnew figures\n", merged);
        Assert.Equal(-1, Docs.HeadingAt("### Side by side with Prometheus (x)\n", Docs.SectionHeading));
    }
}
