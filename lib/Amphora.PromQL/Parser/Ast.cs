using System.Globalization;
using System.Text;
using Amphora.Model;

namespace Amphora.PromQL.Parser;

/// <summary>The four PromQL value types (native histograms are samples of an instant vector, not a type of their own).</summary>
public enum PromValueType { None, Scalar, Vector, Matrix, String }

/// <summary>Start and end (exclusive) character offsets of a node in the query text.</summary>
public readonly record struct PositionRange(int Start, int End);

/// <summary>Which end of the query range an <c>@ start()</c> / <c>@ end()</c> modifier refers to.</summary>
public enum AtModifier { None, Timestamp, Start, End }

/// <summary>A node of a parsed PromQL expression.</summary>
public abstract class Expr
{
    public PositionRange Position { get; init; }
    public abstract PromValueType Type { get; }
    public abstract override string ToString();

    internal static string Quote(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\t': sb.Append("\\t"); break;
                case '\r': sb.Append("\\r"); break;
                default: sb.Append(c); break;
            }
        }
        return sb.Append('"').ToString();
    }
}

public sealed class NumberLiteral(double value) : Expr
{
    public double Value { get; } = value;
    public override PromValueType Type => PromValueType.Scalar;
    public override string ToString() => double.IsPositiveInfinity(Value) ? "Inf" : double.IsNegativeInfinity(Value) ? "-Inf"
        : double.IsNaN(Value) ? "NaN" : Value.ToString("R", CultureInfo.InvariantCulture);
}

public sealed class StringLiteral(string value) : Expr
{
    public string Value { get; } = value;
    public override PromValueType Type => PromValueType.String;
    public override string ToString() => Quote(Value);
}

/// <summary>Offset and <c>@</c> modifiers shared by vector selectors and subqueries.</summary>
public sealed class TimeModifiers
{
    /// <summary>The offset in milliseconds (negative looks ahead).</summary>
    public long OffsetMs { get; set; }
    public AtModifier At { get; set; }
    /// <summary>The <c>@</c> timestamp in ms, or the resolved start/end once the engine knows them.</summary>
    public long? AtMs { get; set; }
    public bool HasOffset { get; set; }
    /// <summary>An offset written with <c>step()</c> or <c>range()</c>, resolved when the query runs; null otherwise.</summary>
    public DurationExpr? OffsetExpr { get; set; }

    public void Append(StringBuilder sb)
    {
        switch (At)
        {
            case AtModifier.Timestamp: sb.Append(" @ ").Append((AtMs!.Value / 1000.0).ToString("0.000", CultureInfo.InvariantCulture)); break;
            case AtModifier.Start: sb.Append(" @ start()"); break;
            case AtModifier.End: sb.Append(" @ end()"); break;
        }
        if (HasOffset && OffsetMs != 0)
            sb.Append(" offset ").Append(OffsetMs < 0 ? "-" + Durations.Format(-OffsetMs) : Durations.Format(OffsetMs));
    }
}

public sealed class VectorSelector(string? name, IReadOnlyList<LabelMatcher> matchers) : Expr
{
    /// <summary>The metric name when given outside braces; the matchers always include its <c>__name__</c> matcher.</summary>
    public string? Name { get; } = name;
    public IReadOnlyList<LabelMatcher> Matchers { get; } = matchers;
    public TimeModifiers Modifiers { get; } = new();
    /// <summary>
    /// The extended range modifiers: <c>anchored</c> also takes the last sample at or before a range's start, <c>smoothed</c>
    /// interpolates at the range's edges (and, on an instant selector, at the evaluation time).
    /// </summary>
    public bool Anchored { get; set; }
    public bool Smoothed { get; set; }
    public override PromValueType Type => PromValueType.Vector;

    public override string ToString()
    {
        // A metric named like a keyword (bool, on, sum, ...) is read as the keyword in some places (x and ignoring() bool
        // is a selector, x and bool is not): it prints as a __name__ matcher, which means the same everywhere.
        string? name = Name is not null && Tokens.TryKeyword(Name, out _) ? null : Name;
        var sb = new StringBuilder(name ?? "");
        var rest = Matchers.Where(m => !(name is not null && m.Name == LabelNames.MetricName && m.Type == MatchType.Equal)).ToList();
        if (rest.Count > 0 || name is null) sb.Append('{').Append(string.Join(", ", rest.Select(FormatMatcher))).Append('}');
        Modifiers.Append(sb);
        if (Smoothed) sb.Append(" smoothed");
        return sb.ToString();
    }

    /// <summary>A matcher as the parser reads it back: a name outside the legacy alphabet (<c>{"a b"="x"}</c>) stays quoted.</summary>
    private static string FormatMatcher(LabelMatcher m) =>
        (LabelNames.IsValid(m.Name) ? m.Name : Quote(m.Name)) + LabelMatcher.OperatorText(m.Type) + Quote(m.Value);
}

public sealed class MatrixSelector(VectorSelector selector, long rangeMs) : Expr
{
    public VectorSelector Selector { get; } = selector;
    /// <summary>The range; set when the query runs when <see cref="RangeExpr"/> depends on the query.</summary>
    public long RangeMs { get; set; } = rangeMs;
    /// <summary>A range written with <c>step()</c> or <c>range()</c>, resolved when the query runs; null otherwise.</summary>
    public DurationExpr? RangeExpr { get; init; }
    public override PromValueType Type => PromValueType.Matrix;

    public override string ToString()
    {
        var inner = new VectorSelector(Selector.Name, Selector.Matchers).ToString();
        var sb = new StringBuilder(inner).Append('[').Append(Durations.Format(RangeMs)).Append(']');
        Selector.Modifiers.Append(sb);
        if (Selector.Anchored) sb.Append(" anchored");
        if (Selector.Smoothed) sb.Append(" smoothed");
        return sb.ToString();
    }
}

public sealed class SubqueryExpr(Expr expr, long rangeMs, long stepMs) : Expr
{
    public Expr Expr { get; } = expr;
    public long RangeMs { get; set; } = rangeMs;
    /// <summary>The resolution; 0 means the engine's default evaluation interval.</summary>
    public long StepMs { get; set; } = stepMs;
    /// <summary>Range and step written with <c>step()</c> or <c>range()</c>, resolved when the query runs; null otherwise.</summary>
    public DurationExpr? RangeExpr { get; init; }
    public DurationExpr? StepExpr { get; init; }
    public TimeModifiers Modifiers { get; } = new();
    public override PromValueType Type => PromValueType.Matrix;

    public override string ToString()
    {
        var sb = new StringBuilder(Expr.ToString()).Append('[').Append(Durations.Format(RangeMs)).Append(':');
        if (StepMs > 0) sb.Append(Durations.Format(StepMs));
        sb.Append(']');
        Modifiers.Append(sb);
        return sb.ToString();
    }
}

// Types are computed once, when a node is built from its already-typed children: a getter that asked the children again
// would walk a 50,000-term chain for every node above it.

public sealed class ParenExpr(Expr expr) : Expr
{
    public Expr Expr { get; } = expr;
    public override PromValueType Type { get; } = expr.Type;
    public override string ToString() => $"({Expr})";
}

public sealed class UnaryExpr(TokenKind op, Expr expr) : Expr
{
    public TokenKind Op { get; } = op;
    public Expr Expr { get; } = expr;
    public override PromValueType Type { get; } = expr.Type;
    public override string ToString() => Tokens.Text(Op) + Expr;
}

/// <summary>How the series of two vectors are paired in a binary operation.</summary>
public enum VectorMatchCardinality { OneToOne, ManyToOne, OneToMany, ManyToMany }

public sealed class VectorMatching
{
    public VectorMatchCardinality Card { get; set; }
    /// <summary>True for <c>on(...)</c>, false for <c>ignoring(...)</c> (or no clause).</summary>
    public bool On { get; set; }
    public IReadOnlyList<string> MatchingLabels { get; set; } = [];
    /// <summary>Labels copied from the "one" side with group_left/group_right.</summary>
    public IReadOnlyList<string> Include { get; set; } = [];
    /// <summary>
    /// The fill modifiers: <c>fill_left(v)</c> stands in for a missing left-hand sample, <c>fill_right(v)</c> for a missing
    /// right-hand one (<c>fill(v)</c> sets both); the stand-in carries the match group's labels. Null: no fill.
    /// </summary>
    public double? FillLeft { get; set; }
    public double? FillRight { get; set; }
}

public sealed class BinaryExpr(TokenKind op, Expr lhs, Expr rhs, VectorMatching? matching, bool returnBool) : Expr
{
    public TokenKind Op { get; } = op;
    public Expr Lhs { get; } = lhs;
    public Expr Rhs { get; } = rhs;
    public VectorMatching? Matching { get; } = matching;
    public bool ReturnBool { get; } = returnBool;

    public override PromValueType Type { get; } =
        lhs.Type == PromValueType.Scalar && rhs.Type == PromValueType.Scalar ? PromValueType.Scalar : PromValueType.Vector;

    /// <summary>The left spine of a chain <c>a + b + c + ...</c>, outermost first, and the leftmost operand below it.</summary>
    public static List<BinaryExpr> LeftSpine(BinaryExpr top, out Expr leftmost)
    {
        var spine = new List<BinaryExpr>();
        Expr e = top;
        while (e is BinaryExpr b)
        {
            spine.Add(b);
            e = b.Lhs;
        }
        leftmost = e;
        return spine;
    }

    /// <summary>Printed iteratively along the left spine, so a chain of any length prints without deep recursion.</summary>
    public override string ToString()
    {
        var spine = LeftSpine(this, out var leftmost);
        var sb = new StringBuilder().Append(leftmost);
        for (int i = spine.Count - 1; i >= 0; i--)
        {
            var b = spine[i];
            sb.Append(' ').Append(Tokens.Text(b.Op));
            if (b.ReturnBool) sb.Append(" bool");
            if (b.Matching is { } m && (m.On || m.MatchingLabels.Count > 0))
                sb.Append(m.On ? " on (" : " ignoring (").Append(string.Join(", ", m.MatchingLabels)).Append(')');
            if (b.Matching is { Card: VectorMatchCardinality.ManyToOne or VectorMatchCardinality.OneToMany } g)
                sb.Append(g.Card == VectorMatchCardinality.ManyToOne ? " group_left (" : " group_right (").Append(string.Join(", ", g.Include)).Append(')');
            if (b.Matching is { FillLeft: { } fl, FillRight: { } fr } && (fl == fr || (double.IsNaN(fl) && double.IsNaN(fr))))
                sb.Append(" fill(").Append(new NumberLiteral(fl)).Append(')');
            else
            {
                if (b.Matching?.FillLeft is { } left) sb.Append(" fill_left(").Append(new NumberLiteral(left)).Append(')');
                if (b.Matching?.FillRight is { } right) sb.Append(" fill_right(").Append(new NumberLiteral(right)).Append(')');
            }
            sb.Append(' ').Append(b.Rhs);
        }
        return sb.ToString();
    }
}

public sealed class AggregateExpr(TokenKind op, Expr expr, Expr? param, IReadOnlyList<string> grouping, bool without) : Expr
{
    public TokenKind Op { get; } = op;
    public Expr Expr { get; } = expr;
    public Expr? Param { get; } = param;
    public IReadOnlyList<string> Grouping { get; } = grouping;
    public bool Without { get; } = without;
    /// <summary>True when a by/without clause was written (even an empty one).</summary>
    public bool HasGrouping { get; init; }
    public override PromValueType Type => PromValueType.Vector;

    public override string ToString()
    {
        var sb = new StringBuilder(Tokens.Text(Op));
        if (Without || Grouping.Count > 0) sb.Append(Without ? " without (" : " by (").Append(string.Join(", ", Grouping)).Append(") ");
        sb.Append('(');
        if (Param is not null) sb.Append(Param).Append(", ");
        return sb.Append(Expr).Append(')').ToString();
    }
}

public sealed class Call(FunctionDef function, IReadOnlyList<Expr> args) : Expr
{
    public FunctionDef Function { get; } = function;
    public IReadOnlyList<Expr> Args { get; } = args;
    public override PromValueType Type => Function.ReturnType;
    public override string ToString() => $"{Function.Name}({string.Join(", ", Args)})";
}
