using System.Diagnostics;

namespace Amphora.Testing;

/// <summary>
/// Runs a real peer tool from a Debian package (<c>promtool</c> from prometheus, <c>amtool</c> from
/// prometheus-alertmanager), which ./test.sh installs. A missing tool is an error naming its package, never a skip.
/// </summary>
public static class DebianTool
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public string Output => Stdout + Stderr;
    }

    public static Result Run(string tool, string package, TimeSpan timeout, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        Process process;
        try
        {
            process = Process.Start(psi)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException($"{tool} is not installed (Debian package '{package}'; ./test.sh installs it)", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(timeout))
            {
                process.Kill();
                throw new TimeoutException($"{tool} {string.Join(' ', args)} did not finish in {timeout}");
            }
            return new Result(process.ExitCode, stdout.Result, stderr.Result);
        }
    }
}
