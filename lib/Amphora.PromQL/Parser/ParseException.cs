namespace Amphora.PromQL.Parser;

/// <summary>
/// A query that does not parse or type-check. <see cref="Message"/> is formatted as Prometheus does:
/// <c>line:column: parse error: what</c>, with 1-based line and column of the offending position.
/// </summary>
public sealed class ParseException : Exception
{
    public int Start { get; }
    public int End { get; }
    public string Detail { get; }
    private string? _formatted;

    public ParseException(int start, int end, string detail) : base(detail)
    {
        Start = start;
        End = end;
        Detail = detail;
    }

    public override string Message => _formatted ?? Detail;

    public ParseException WithInputPublic(string input) => WithInput(input);

    internal ParseException WithInput(string input)
    {
        int line = 1, column = 1;
        for (int i = 0; i < Math.Min(Start, input.Length); i++)
        {
            if (input[i] == '\n') { line++; column = 1; }
            else column++;
        }
        _formatted = $"{line}:{column}: parse error: {Detail}";
        return this;
    }
}
