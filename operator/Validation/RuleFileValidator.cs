using Amphora.PromQL.Rules;

namespace Amphora.Operator.Validation;

/// <summary>A problem in a user's file: the 1-based line (0 when unknown) and what is wrong there.</summary>
public sealed record FileProblem(int Line, string Message)
{
    public override string ToString() => Line > 0 ? $"line {Line}: {Message}" : Message;
}

/// <summary>
/// Checks a Prometheus rule file with the parser Amphora's control plane uses (<see cref="RuleFileParser"/>: as Prometheus
/// loads one), so a resource the operator accepts is one Amphora stores. Returns the first problem with its line, or null.
/// </summary>
public static class RuleFileValidator
{
    public static FileProblem? Validate(string text)
    {
        try
        {
            RuleFileParser.Parse(text);
            return null;
        }
        catch (RuleFileException e)
        {
            return new FileProblem(e.Line, e.Place);
        }
    }
}
