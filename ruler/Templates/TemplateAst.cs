namespace Amphora.Ruler.Templates;

/// <summary>The nodes of a parsed Go text/template. <see cref="Node.Pos"/> is the byte offset in the template text, which
/// execution errors report as <c>line:column</c> the way Go does.</summary>
internal abstract record Node(int Pos);

internal sealed record TextNode(int Pos, string Text) : Node(Pos);
internal sealed record ListNode(int Pos, List<Node> Nodes) : Node(Pos);
internal sealed record ActionNode(int Pos, PipeNode Pipe) : Node(Pos);
internal enum BranchKind { If, Range, With }
internal sealed record BranchNode(int Pos, BranchKind Kind, PipeNode Pipe, ListNode List, ListNode? Else) : Node(Pos);
internal sealed record TemplateCallNode(int Pos, string Name, PipeNode? Pipe) : Node(Pos);
internal sealed record BreakNode(int Pos) : Node(Pos);
internal sealed record ContinueNode(int Pos) : Node(Pos);

/// <summary>A pipeline: optional variable declarations (<c>$x :=</c>) or assignment (<c>$x =</c>), then commands joined by <c>|</c>.</summary>
internal sealed record PipeNode(int Pos, List<string> Vars, bool Assign, List<CommandNode> Commands) : Node(Pos)
{
    public override string ToString()
    {
        string cmds = string.Join(" | ", Commands);
        return Vars.Count == 0 ? cmds : string.Join(", ", Vars) + (Assign ? " = " : " := ") + cmds;
    }
}

internal sealed record CommandNode(int Pos, List<ArgNode> Args) : Node(Pos)
{
    public override string ToString() => string.Join(" ", Args.Select(a => a is PipeArg p ? "(" + p.Pipe + ")" + string.Concat(p.Fields.Select(f => "." + f)) : a.ToString()));
}

internal abstract record ArgNode(int Pos) : Node(Pos);
/// <summary><c>.</c> or a field chain on dot: <c>.Labels.instance</c>.</summary>
internal sealed record FieldArg(int Pos, string[] Fields) : ArgNode(Pos)
{
    public override string ToString() => Fields.Length == 0 ? "." : string.Concat(Fields.Select(f => "." + f));
}
internal sealed record VariableArg(int Pos, string Name, string[] Fields) : ArgNode(Pos)
{
    public override string ToString() => Name + string.Concat(Fields.Select(f => "." + f));
}
internal sealed record IdentifierArg(int Pos, string Name) : ArgNode(Pos)
{
    public override string ToString() => Name;
}
internal sealed record LiteralArg(int Pos, object? Value, string Text) : ArgNode(Pos)
{
    public override string ToString() => Text;
}
internal sealed record PipeArg(int Pos, PipeNode Pipe, string[] Fields) : ArgNode(Pos);
