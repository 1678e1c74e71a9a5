using Amphora.Model;

namespace Amphora.PromQL.Parser;

/// <summary>
/// A hand-written precedence-climbing parser for the whole PromQL grammar, with Prometheus's type checks and error
/// messages (<c>line:column: parse error: ...</c>).
/// </summary>
public sealed partial class PromQLParser
{
    /// <summary>
    /// The default for <see cref="ParseExpr(string, int)"/>'s nesting limit: how many parentheses, function calls,
    /// aggregations, unary operators and <c>^</c> operands may enclose one another. Real queries nest a few dozen levels
    /// at most; the limit keeps the parser's and the evaluator's recursion far from the end of a thread's stack. Long
    /// chains of left-associative operators (<c>a + b + c + ...</c>) and runs of unary signs are not nesting: they are
    /// parsed and evaluated iteratively, whatever their length.
    /// </summary>
    public const int DefaultMaxNestingDepth = 256;

    private readonly List<Token> _tokens;
    private readonly int _maxDepth;
    private int _i;
    /// <summary>Set while parsing info()'s second argument: its selector may have only empty-matching matchers.</summary>
    private bool _labelSelectorNext;
    private int _depth;

    private PromQLParser(string input, int maxDepth)
    {
        _tokens = new Lexer(input).Tokenize();
        _maxDepth = maxDepth;
    }

    /// <summary>Parses and type-checks a query. Throws <see cref="ParseException"/> with Prometheus's message.</summary>
    public static Expr ParseExpr(string input) => ParseExpr(input, DefaultMaxNestingDepth);

    /// <summary>Parses a query, refusing one nested deeper than <paramref name="maxNestingDepth"/> (a <see cref="ParseException"/>).</summary>
    public static Expr ParseExpr(string input, int maxNestingDepth)
    {
        try
        {
            var p = new PromQLParser(input, maxNestingDepth);
            if (p.Peek.Kind == TokenKind.Eof) throw new ParseException(0, 0, "no expression found in input");
            var expr = p.ParseBinary(1);
            if (p.Peek.Kind != TokenKind.Eof) throw p.Unexpected(p.Peek);
            return expr;
        }
        catch (ParseException e)
        {
            throw e.WithInput(input);
        }
        catch (InsufficientExecutionStackException)
        {
            // A backstop below the nesting limit, for a thread with a small stack or a limit set very high.
            throw new ParseException(0, input.Length, "query is nested too deeply for the parser's stack").WithInput(input);
        }
    }

    /// <summary>Parses a series selector as the series, labels and label-values APIs take it (<c>match[]</c>).</summary>
    public static IReadOnlyList<LabelMatcher> ParseMetricSelector(string input) => ParseMetricSelector(input, DefaultMaxNestingDepth);

    /// <summary>Parses a <c>match[]</c> selector with the given nesting limit.</summary>
    public static IReadOnlyList<LabelMatcher> ParseMetricSelector(string input, int maxNestingDepth)
    {
        var expr = ParseExpr(input, maxNestingDepth);
        if (expr is VectorSelector { Modifiers: { HasOffset: false, At: AtModifier.None } } vs) return vs.Matchers;
        throw new ParseException(0, input.Length, "expected vector selector, got " + TypeName(expr.Type)).WithInput(input);
    }

    /// <summary>Parses a PromQL duration (<c>5m</c>, <c>1h30m</c>) into milliseconds.</summary>
    public static long ParseDuration(string text) =>
        Durations.TryParse(text, out long ms) ? ms : throw new FormatException($"not a valid duration string: \"{text}\"");

    private Token Peek => _tokens[_i];
    private Token PeekAt(int ahead) => _tokens[Math.Min(_i + ahead, _tokens.Count - 1)];
    private Token Advance() => _tokens[_i++];

    private bool Accept(TokenKind kind)
    {
        if (Peek.Kind != kind) return false;
        _i++;
        return true;
    }

    private ParseException Unexpected(Token t, string? context = null, string? expected = null)
    {
        string what = t.Kind switch
        {
            TokenKind.Eof => "end of input",
            TokenKind.RightParen => "right parenthesis ')'",
            TokenKind.RightBracket => "right bracket ']'",
            TokenKind.RightBrace => "right brace '}'",
            _ => t.Describe(),
        };
        string message = "unexpected " + what + (context is null ? "" : " " + context) + (expected is null ? "" : ", expected " + expected);
        int pos = t.Kind is TokenKind.RightParen or TokenKind.RightBracket ? t.Pos + 1 : t.Pos;
        return new ParseException(pos, pos + Math.Max(1, t.Text.Length), message);
    }

    internal static string TypeName(PromValueType t) => t switch
    {
        PromValueType.Scalar => "scalar",
        PromValueType.Vector => "instant vector",
        PromValueType.Matrix => "range vector",
        PromValueType.String => "string",
        _ => "none",
    };

    private static ParseException Error(Expr at, string message) => new(at.Position.Start, at.Position.End, message);

    /// <summary>Precedence climbing over binary operators; <paramref name="minPrecedence"/> 1 parses a whole expression.</summary>
    private Expr ParseBinary(int minPrecedence)
    {
        var lhs = ParseUnary();
        while (true)
        {
            var op = Peek;
            int precedence = Tokens.Precedence(op.Kind);
            if (precedence == 0 || precedence < minPrecedence) return lhs;
            Advance();
            bool returnBool = false;
            if (Peek.Kind == TokenKind.Bool)
            {
                if (!Tokens.IsComparison(op.Kind)) throw new ParseException(Peek.Pos, Peek.Pos + 4, "bool modifier can only be used on comparison operators");
                Advance();
                returnBool = true;
            }
            var matching = ParseVectorMatching(op);
            Expr rhs;
            if (Tokens.IsRightAssociative(op.Kind))
            {
                // a ^ b ^ c is a ^ (b ^ c): each operand nests one level deeper.
                using (Nest()) rhs = ParseBinary(precedence);
            }
            else
            {
                // Left-associative: the loop builds a + b + c iteratively; the recursion here is bounded by the precedence levels.
                rhs = ParseBinary(precedence + 1);
            }
            lhs = CheckBinary(new BinaryExpr(op.Kind, lhs, rhs, matching, returnBool)
            {
                Position = new PositionRange(lhs.Position.Start, rhs.Position.End),
            }, op);
        }
    }

    private VectorMatching? ParseVectorMatching(Token op)
    {
        VectorMatching? matching = null;
        if (Peek.Kind is TokenKind.On or TokenKind.Ignoring)
        {
            bool on = Advance().Kind == TokenKind.On;
            matching = new VectorMatching { On = on, MatchingLabels = ParseLabelList(), Card = VectorMatchCardinality.OneToOne };
        }
        if (Peek.Kind is TokenKind.GroupLeft or TokenKind.GroupRight)
        {
            var g = Advance();
            matching ??= new VectorMatching();
            matching.Card = g.Kind == TokenKind.GroupLeft ? VectorMatchCardinality.ManyToOne : VectorMatchCardinality.OneToMany;
            matching.Include = Peek.Kind == TokenKind.LeftParen ? ParseLabelList() : [];
        }
        while (Peek.Kind == TokenKind.Identifier && Peek.Text is "fill" or "fill_left" or "fill_right" && PeekAt(1).Kind == TokenKind.LeftParen)
        {
            string fill = Advance().Text;
            Advance();
            double value = ParseFillValue();
            matching ??= new VectorMatching { Card = VectorMatchCardinality.OneToOne };
            if (fill != "fill_right") matching.FillLeft = value;
            if (fill != "fill_left") matching.FillRight = value;
        }
        if (Tokens.IsSetOperator(op.Kind))
        {
            matching ??= new VectorMatching();
            if (matching.Card is VectorMatchCardinality.OneToOne) matching.Card = VectorMatchCardinality.ManyToMany;
        }
        return matching;
    }

    /// <summary>The number of a fill modifier, after its "(": a signed number, Inf or NaN, then ")".</summary>
    private double ParseFillValue()
    {
        bool negative = false;
        if (Peek.Kind is TokenKind.Sub or TokenKind.Add) negative = Advance().Kind == TokenKind.Sub;
        var t = Peek;
        if (t.Kind is not (TokenKind.Number or TokenKind.Identifier) || !NumberLiterals.TryParse(t.Text, out double value, out _))
            throw Unexpected(t, "in fill modifier", "number");
        Advance();
        if (!Accept(TokenKind.RightParen)) throw Unexpected(Peek, "in fill modifier", "\")\"");
        return negative ? -value : value;
    }

    /// <summary>Parses <c>(a, b, ...)</c>: label names, keywords allowed, trailing comma allowed.</summary>
    private List<string> ParseLabelList()
    {
        var open = Peek;
        if (!Accept(TokenKind.LeftParen)) throw Unexpected(Peek, "in grouping opts", "\"(\"");
        var names = new List<string>();
        while (true)
        {
            var t = Peek;
            if (t.Kind == TokenKind.RightParen) { Advance(); return names; }
            if (t.Kind == TokenKind.Eof) throw new ParseException(t.Pos, t.Pos, "unclosed left parenthesis");
            if (!IsLabelNameToken(t)) throw Unexpected(t, "in grouping opts", "label");
            Advance();
            if (!LabelNames.IsValid(t.Text)) throw new ParseException(t.Pos, t.Pos + t.Text.Length, $"invalid label name \"{t.Text}\"");
            names.Add(t.Text);
            if (Peek.Kind == TokenKind.Comma) { Advance(); continue; }
            if (Peek.Kind == TokenKind.RightParen) continue;
            if (Peek.Kind == TokenKind.Eof) throw new ParseException(Peek.Pos, Peek.Pos, "unclosed left parenthesis");
            throw Unexpected(Peek, "in grouping opts", "\",\" or \")\"");
        }
    }

    private static bool IsLabelNameToken(Token t) =>
        t.Kind == TokenKind.Identifier || (Tokens.IsKeyword(t.Kind) && t.Text.Length > 0 && char.IsAsciiLetter(t.Text[0])) ||
        (t.Kind == TokenKind.Number && char.IsAsciiLetter(t.Text[0]));

    /// <summary>
    /// A run of unary signs is read in one loop and folded: <c>+</c> changes nothing, two <c>-</c> give back the values (with the
    /// metric name dropped), so any run is at most two nodes deep and 100,000 signs cost no recursion.
    /// </summary>
    private Expr ParseUnary()
    {
        var t = Peek;
        if (t.Kind is not (TokenKind.Add or TokenKind.Sub)) return ParsePostfix(ParsePrimary());
        int minuses = 0;
        while (Peek.Kind is TokenKind.Add or TokenKind.Sub)
            if (Advance().Kind == TokenKind.Sub) minuses++;
        // Unary operators bind tighter than every binary operator except ^: -2^2 is -(2^2).
        Expr operand;
        using (Nest()) operand = ParseBinary(Tokens.Precedence(TokenKind.Pow));
        if (operand.Type is not (PromValueType.Scalar or PromValueType.Vector))
            throw Error(operand, $"unary expression only allowed on expressions of type scalar or instant vector, got \"{TypeName(operand.Type)}\"");
        var range = new PositionRange(t.Pos, operand.Position.End);
        if (operand is NumberLiteral n)
            return minuses == 0 ? operand : new NumberLiteral(minuses % 2 == 1 ? -n.Value : n.Value) { Position = range };
        if (minuses == 0) return new UnaryExpr(TokenKind.Add, operand) { Position = range };
        if (minuses % 2 == 1) return new UnaryExpr(TokenKind.Sub, operand) { Position = range };
        return new UnaryExpr(TokenKind.Sub, new UnaryExpr(TokenKind.Sub, operand) { Position = range }) { Position = range };
    }

    /// <summary>Enters one level of nesting; disposing leaves it. Beyond the limit the query is refused.</summary>
    private NestingScope Nest()
    {
        if (++_depth > _maxDepth)
        {
            var at = Peek;
            throw new ParseException(at.Pos, at.Pos + Math.Max(1, at.Text.Length),
                $"query is nested too deeply: more than {_maxDepth} levels of parentheses, function calls, aggregations, " +
                "unary operators or ^ operands (the limit is --query.max-nesting-depth)");
        }
        System.Runtime.CompilerServices.RuntimeHelpers.EnsureSufficientExecutionStack();
        return new NestingScope(this);
    }

    private readonly struct NestingScope(PromQLParser parser) : IDisposable
    {
        public void Dispose() => parser._depth--;
    }
}
