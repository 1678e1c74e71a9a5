namespace Amphora.PromQL.Parser;

public sealed partial class PromQLParser
{
    private Expr ParseCall(Token name)
    {
        if (!Functions.TryGet(name.Text, out var function))
            throw new ParseException(name.Pos, name.Pos + name.Text.Length, $"unknown function with name \"{name.Text}\"");
        var args = ParseArguments(out int end, labelSelectorArg: function.Name == "info" ? 1 : -1);
        var call = new Call(function, args) { Position = new(name.Pos, end) };
        int n = args.Count;
        if (function.Variadic == 0 && n != function.ArgTypes.Length)
            throw Error(call, $"expected {function.ArgTypes.Length} argument(s) in call to \"{function.Name}\", got {n}");
        if (n < function.MinArgs)
            throw Error(call, $"expected at least {function.MinArgs} argument(s) in call to \"{function.Name}\", got {n}");
        if (n > function.MaxArgs)
            throw Error(call, $"expected at most {function.MaxArgs} argument(s) in call to \"{function.Name}\", got {n}");
        for (int i = 0; i < n; i++)
        {
            var expected = function.ArgType(i);
            var actual = args[i].Type;
            if (actual != expected)
                throw Error(args[i], $"expected type {TypeName(expected)} in call to function \"{function.Name}\", got {TypeName(actual)}");
        }
        if (function.Name == "info" && n > 1 &&
            (args[1] is not VectorSelector sel || sel.Modifiers.HasOffset || sel.Modifiers.At != default || sel.Smoothed || sel.Anchored))
            throw Error(args[1], "expected label selectors as the second argument to \"info\" function, got " + args[1]);
        return call;
    }

    /// <summary>
    /// Parses <c>(expr, expr, ...)</c>; sets <paramref name="end"/> past the closing parenthesis. The argument at
    /// <paramref name="labelSelectorArg"/> may be a selector whose matchers all match the empty string (info()'s).
    /// </summary>
    private List<Expr> ParseArguments(out int end, int labelSelectorArg = -1)
    {
        Advance(); // (
        var args = new List<Expr>();
        while (true)
        {
            var t = Peek;
            if (t.Kind == TokenKind.RightParen && args.Count == 0)
            {
                Advance();
                end = t.Pos + 1;
                return args;
            }
            if (t.Kind == TokenKind.Eof) throw new ParseException(t.Pos, t.Pos, "unclosed left parenthesis");
            _labelSelectorNext = args.Count == labelSelectorArg;
            using (Nest()) args.Add(ParseBinary(1));
            _labelSelectorNext = false;
            var sep = Peek;
            if (sep.Kind == TokenKind.Comma)
            {
                Advance();
                if (Peek.Kind == TokenKind.RightParen)
                {
                    end = Advance().Pos + 1; // trailing comma
                    return args;
                }
                continue;
            }
            if (sep.Kind == TokenKind.RightParen)
            {
                Advance();
                end = sep.Pos + 1;
                return args;
            }
            if (sep.Kind == TokenKind.Eof) throw new ParseException(sep.Pos, sep.Pos, "unclosed left parenthesis");
            throw Unexpected(sep);
        }
    }

    private Expr ParseAggregate(Token op)
    {
        List<string>? grouping = null;
        bool without = false;
        if (Peek.Kind is TokenKind.By or TokenKind.Without)
        {
            without = Advance().Kind == TokenKind.Without;
            grouping = ParseLabelList();
        }
        if (Peek.Kind != TokenKind.LeftParen) throw Unexpected(Peek, "in aggregation", "\"(\"");
        var args = ParseArguments(out int end);
        if (Peek.Kind is TokenKind.By or TokenKind.Without)
        {
            if (grouping is not null) throw Unexpected(Peek);
            without = Advance().Kind == TokenKind.Without;
            grouping = ParseLabelList();
            end = _tokens[_i - 1].Pos + 1;
        }
        var position = new PositionRange(op.Pos, end);
        int expected = Tokens.IsAggregatorWithParam(op.Kind) ? 2 : 1;
        if (args.Count != expected)
            throw new ParseException(op.Pos, end, $"wrong number of arguments for aggregate expression provided, expected {expected}, got {args.Count}");
        var expr = args[^1];
        Expr? param = expected == 2 ? args[0] : null;
        if (expr.Type != PromValueType.Vector)
            throw Error(expr, $"expected type instant vector in aggregation expression, got {TypeName(expr.Type)}");
        if (param is not null)
        {
            var want = op.Kind == TokenKind.CountValues ? PromValueType.String : PromValueType.Scalar;
            if (param.Type != want)
                throw Error(param, $"expected type {TypeName(want)} in aggregation parameter, got {TypeName(param.Type)}");
        }
        return new AggregateExpr(op.Kind, expr, param, grouping ?? [], without) { Position = position, HasGrouping = grouping is not null };
    }

    private BinaryExpr CheckBinary(BinaryExpr b, Token op)
    {
        var lt = b.Lhs.Type;
        var rt = b.Rhs.Type;
        bool bothScalar = lt == PromValueType.Scalar && rt == PromValueType.Scalar;
        if (b.ReturnBool && !Tokens.IsComparison(b.Op))
            throw Error(b, "bool modifier can only be used on comparison operators");
        if (Tokens.IsComparison(b.Op) && bothScalar && !b.ReturnBool)
            throw new ParseException(op.Pos, op.Pos + op.Text.Length, "comparisons between scalars must use BOOL modifier");
        if (Tokens.IsTrim(b.Op) && lt == PromValueType.Scalar)
            throw Error(b, $"operator \"{Tokens.Text(b.Op)}\" needs an instant vector of histograms on its left");
        if (lt is not (PromValueType.Scalar or PromValueType.Vector) || rt is not (PromValueType.Scalar or PromValueType.Vector))
            throw Error(b, "binary expression must contain only scalar and instant vector types");
        if (Tokens.IsSetOperator(b.Op))
        {
            if (lt == PromValueType.Scalar || rt == PromValueType.Scalar)
                throw Error(b, $"set operator \"{Tokens.Text(b.Op)}\" not allowed in binary scalar expression");
            if (b.Matching is { Card: VectorMatchCardinality.ManyToOne or VectorMatchCardinality.OneToMany })
                throw Error(b, $"no grouping allowed for \"{Tokens.Text(b.Op)}\" operation");
        }
        if (b.Matching is { } m && (m.On || m.MatchingLabels.Count > 0 || m.Card != VectorMatchCardinality.OneToOne) &&
            !(lt == PromValueType.Vector && rt == PromValueType.Vector) && !Tokens.IsSetOperator(b.Op))
            throw Error(b, "vector matching only allowed between instant vectors");
        if (b.Matching is { Card: VectorMatchCardinality.ManyToOne or VectorMatchCardinality.OneToMany } g && g.On)
        {
            foreach (var l in g.MatchingLabels)
                if (g.Include.Contains(l))
                    throw Error(b, $"label \"{l}\" must not occur in ON and GROUP clause at once");
        }
        return b;
    }
}
