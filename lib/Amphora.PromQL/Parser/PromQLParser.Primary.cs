using Amphora.Model;

namespace Amphora.PromQL.Parser;

public sealed partial class PromQLParser
{
    private Expr ParsePrimary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.Number:
                Advance();
                return new NumberLiteral(Lexer.ParseNumber(t)) { Position = new(t.Pos, t.Pos + t.Text.Length) };
            case TokenKind.String:
                Advance();
                return new StringLiteral(Lexer.Unquote(t)) { Position = new(t.Pos, t.Pos + t.Text.Length) };
            case TokenKind.LeftParen:
            {
                Advance();
                if (Peek.Kind == TokenKind.Eof) throw new ParseException(Peek.Pos, Peek.Pos, "unclosed left parenthesis");
                Expr inner;
                using (Nest()) inner = ParseBinary(1);
                if (Peek.Kind == TokenKind.Eof) throw new ParseException(Peek.Pos, Peek.Pos, "unclosed left parenthesis");
                if (Peek.Kind != TokenKind.RightParen) throw Unexpected(Peek);
                var close = Advance();
                return new ParenExpr(inner) { Position = new(t.Pos, close.Pos + 1) };
            }
            case TokenKind.LeftBrace:
                return ParseVectorSelector(null, t.Pos);
            case TokenKind.Identifier or TokenKind.MetricIdentifier:
                Advance();
                if (Peek.Kind == TokenKind.LeftParen && t.Kind == TokenKind.Identifier) return ParseCall(t);
                return ParseVectorSelector(t.Text, t.Pos);
            case TokenKind.Duration when Durations.TryParse(t.Text, out long durationMs):
                // Prometheus 3 reads a duration where a number is expected as that many seconds.
                Advance();
                return new NumberLiteral(durationMs / 1000.0) { Position = new(t.Pos, t.Pos + t.Text.Length) };
            case TokenKind.Duration:
                throw Unexpected(t);
            case TokenKind.Eof:
                throw Unexpected(t);
        }
        if (Tokens.IsAggregator(t.Kind))
        {
            Advance();
            if (Peek.Kind is TokenKind.LeftParen or TokenKind.By or TokenKind.Without) return ParseAggregate(t);
            return ParseVectorSelector(t.Text, t.Pos);
        }
        if (t.Kind is TokenKind.Start or TokenKind.End && PeekAt(1).Kind == TokenKind.LeftParen)
        {
            Advance();
            return ParseCall(t);
        }
        // Keywords that are not operators may be metric names (e.g. a metric called "start" or "offset"... as Prometheus allows some).
        if (t.Kind is TokenKind.Start or TokenKind.End or TokenKind.By or TokenKind.Without or TokenKind.On or TokenKind.Ignoring
            or TokenKind.GroupLeft or TokenKind.GroupRight or TokenKind.Bool or TokenKind.Offset && PeekAt(1).Kind != TokenKind.LeftParen)
        {
            Advance();
            return ParseVectorSelector(t.Text, t.Pos);
        }
        throw Unexpected(t);
    }

    /// <summary>Range selectors, subqueries, offset and @ after an expression.</summary>
    private Expr ParsePostfix(Expr expr)
    {
        while (true)
        {
            var t = Peek;
            if (t.Kind == TokenKind.LeftBracket)
            {
                expr = ParseRangeOrSubquery(expr);
                continue;
            }
            if (t.Kind == TokenKind.Offset)
            {
                Advance();
                ApplyOffset(expr, t);
                continue;
            }
            if (t.Kind == TokenKind.Identifier && t.Text is "anchored" or "smoothed" &&
                (expr as VectorSelector ?? (expr as MatrixSelector)?.Selector) is { } selector)
            {
                Advance();
                if (t.Text == "anchored") selector.Anchored = true; else selector.Smoothed = true;
                if (selector.Anchored && selector.Smoothed)
                    throw new ParseException(t.Pos, t.Pos + t.Text.Length, "anchored and smoothed modifiers cannot be used together");
                if (selector.Anchored && expr is VectorSelector)
                    throw new ParseException(t.Pos, t.Pos + t.Text.Length, "anchored modifier can only be used on range selectors");
                continue;
            }
            if (t.Kind == TokenKind.At)
            {
                Advance();
                ApplyAt(expr, t);
                continue;
            }
            return expr;
        }
    }

    private Expr ParseRangeOrSubquery(Expr expr)
    {
        var open = Advance();
        var (range, rangeExpr) = ParseRangeDuration("in range selector");
        if (Peek.Kind == TokenKind.Colon)
        {
            Advance();
            long step = 0;
            DurationExpr? stepExpr = null;
            if (Peek.Kind != TokenKind.RightBracket && Peek.Kind != TokenKind.Eof) (step, stepExpr) = ParseRangeDuration("in subquery");
            var close = Peek;
            if (close.Kind == TokenKind.Eof) throw new ParseException(close.Pos, close.Pos, "unclosed left bracket");
            if (!Accept(TokenKind.RightBracket)) throw Unexpected(close, "in subquery selector", "\"]\"");
            if (expr.Type is not (PromValueType.Vector or PromValueType.Scalar) && expr is not ParenExpr { Type: PromValueType.Vector or PromValueType.Scalar })
                throw Error(expr, $"subquery is only allowed on instant vector, got {TypeName(expr.Type)} instead");
            return new SubqueryExpr(expr, range, step) { Position = new(expr.Position.Start, close.Pos + 1), RangeExpr = rangeExpr, StepExpr = stepExpr };
        }
        var end = Peek;
        if (end.Kind == TokenKind.Eof) throw new ParseException(end.Pos, end.Pos, "unclosed left bracket");
        if (!Accept(TokenKind.RightBracket)) throw Unexpected(end, "in range selector", "\"]\"");
        if (expr is not VectorSelector vs)
            throw Error(expr, "ranges only allowed for vector selectors");
        if (vs.Modifiers.HasOffset || vs.Modifiers.At != AtModifier.None)
            throw new ParseException(open.Pos, end.Pos + 1, "no offset or @ modifiers allowed before range");
        return new MatrixSelector(vs, range) { Position = new(vs.Position.Start, end.Pos + 1), RangeExpr = rangeExpr };
    }

    /// <summary>
    /// A range or subquery step: a duration or a number of seconds, or arithmetic over them (a duration expression). A
    /// constant expression is evaluated here; one using <c>step()</c> or <c>range()</c> is returned to resolve when the query runs.
    /// </summary>
    private (long Ms, DurationExpr? Expr) ParseRangeDuration(string context)
    {
        if (Peek.Kind is TokenKind.Duration or TokenKind.Number && PeekAt(1).Kind is TokenKind.RightBracket or TokenKind.Colon)
            return (ParseDurationToken(context), null);
        if (Peek.Kind == TokenKind.Eof) throw new ParseException(Peek.Pos, Peek.Pos, "unclosed left bracket");
        var first = Peek;
        var e = ParseDurationSum();
        if (e.DependsOnQuery) return (0, e);
        long ms = e.Milliseconds(0, 0);
        if (ms <= 0) throw new ParseException(first.Pos, Peek.Pos, "duration must be greater than 0");
        return (ms, null);
    }

    private DurationExpr ParseDurationSum()
    {
        var l = ParseDurationProduct();
        while (Peek.Kind is TokenKind.Add or TokenKind.Sub)
        {
            string op = Advance().Kind == TokenKind.Add ? "+" : "-";
            l = new DurationExpr.Binary(op, l, ParseDurationProduct());
        }
        return l;
    }

    private DurationExpr ParseDurationProduct()
    {
        var l = ParseDurationUnary();
        while (Peek.Kind is TokenKind.Mul or TokenKind.Div or TokenKind.Mod)
        {
            string op = Tokens.Text(Advance().Kind);
            l = new DurationExpr.Binary(op, l, ParseDurationUnary());
        }
        return l;
    }

    /// <summary>A unary sign binds looser than ^ (-2^2 is -(2^2)), as in PromQL.</summary>
    private DurationExpr ParseDurationUnary()
    {
        if (Peek.Kind is TokenKind.Sub or TokenKind.Add)
        {
            bool negative = Advance().Kind == TokenKind.Sub;
            DurationExpr inner;
            using (Nest()) inner = ParseDurationUnary();
            return negative ? new DurationExpr.Negate(inner) : inner;
        }
        var b = ParseDurationAtom();
        if (Peek.Kind != TokenKind.Pow) return b;
        Advance();
        using (Nest()) return new DurationExpr.Binary("^", b, ParseDurationUnary());
    }

    private DurationExpr ParseDurationAtom()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.Duration when Durations.TryParse(t.Text, out long ms):
                Advance();
                return new DurationExpr.Constant(ms / 1000.0);
            case TokenKind.Number when NumberLiterals.TryParse(t.Text, out double seconds, out _):
                Advance();
                return new DurationExpr.Constant(seconds);
            case TokenKind.LeftParen:
            {
                Advance();
                DurationExpr inner;
                using (Nest()) inner = ParseDurationSum();
                if (!Accept(TokenKind.RightParen)) throw Unexpected(Peek, "in duration expression", "\")\"");
                return inner;
            }
            case TokenKind.Identifier:
            {
                string name = t.Text.ToLowerInvariant();
                if (name is not ("step" or "range" or "min_of" or "max_of") || PeekAt(1).Kind != TokenKind.LeftParen) break;
                Advance();
                Advance();
                if (name is "step" or "range")
                {
                    if (!Accept(TokenKind.RightParen)) throw Unexpected(Peek, "in duration expression", "\")\"");
                    return new DurationExpr.QueryValue(name == "step");
                }
                DurationExpr a, b;
                using (Nest())
                {
                    a = ParseDurationSum();
                    if (!Accept(TokenKind.Comma)) throw Unexpected(Peek, "in duration expression", "\",\"");
                    b = ParseDurationSum();
                }
                if (!Accept(TokenKind.RightParen)) throw Unexpected(Peek, "in duration expression", "\")\"");
                return new DurationExpr.Binary(name, a, b);
            }
        }
        throw Unexpected(t, "in duration expression", "duration");
    }

    /// <summary>Reads a duration token (or a number of seconds) that must be positive.</summary>
    private long ParseDurationToken(string context)
    {
        var t = Peek;
        if (t.Kind == TokenKind.Eof) throw new ParseException(t.Pos, t.Pos, "unclosed left bracket");
        long ms;
        if (t.Kind == TokenKind.Duration)
        {
            if (!Durations.TryParse(t.Text, out ms)) throw new ParseException(t.Pos, t.Pos + t.Text.Length, $"not a valid duration string: \"{t.Text}\"");
        }
        else if (!TrySecondsToken(t, out ms))
        {
            throw Unexpected(t, context, "duration");
        }
        Advance();
        if (ms <= 0) throw new ParseException(t.Pos, t.Pos + t.Text.Length, "duration must be greater than 0");
        return ms;
    }

    /// <summary>
    /// A number token where a duration goes (Prometheus 3 reads <c>x[300]</c> as 300 seconds): false when it is not a finite
    /// number; a parse error when it is beyond the longest duration.
    /// </summary>
    private static bool TrySecondsToken(Token t, out long ms)
    {
        ms = 0;
        if (t.Kind != TokenKind.Number || !NumberLiterals.TryParse(t.Text, out double seconds, out _) || !double.IsFinite(seconds))
            return false;
        double rounded = Math.Round(seconds * 1000);
        if (Math.Abs(rounded) > Durations.MaxMs) throw new ParseException(t.Pos, t.Pos + t.Text.Length, Durations.OutOfRangeMessage);
        ms = (long)rounded;
        return true;
    }

    private void ApplyOffset(Expr expr, Token offsetToken)
    {
        bool negative = false;
        if (Peek.Kind is TokenKind.Sub or TokenKind.Add)
            negative = Advance().Kind == TokenKind.Sub;
        var t = Peek;
        long ms;
        DurationExpr? offsetExpr = null;
        if (t.Kind == TokenKind.Duration && Durations.TryParse(t.Text, out ms)) Advance();
        else if (TrySecondsToken(t, out ms)) Advance();
        else if (t.Kind is TokenKind.LeftParen or TokenKind.Identifier)
        {
            // A duration expression: one parenthesised expression or function, so that "offset 1m + 2" stays (x offset 1m) + 2.
            var e = ParseDurationAtom();
            if (e.DependsOnQuery) offsetExpr = e;
            else ms = e.Milliseconds(0, 0);
        }
        else throw Unexpected(t, "in offset", "duration");
        if (negative)
        {
            ms = -ms;
            if (offsetExpr is not null) offsetExpr = new DurationExpr.Negate(offsetExpr);
        }
        var modifiers = ModifiersOf(expr, offsetToken, "offset");
        if (modifiers.HasOffset) throw new ParseException(offsetToken.Pos, t.Pos + t.Text.Length, "offset may not be set multiple times");
        modifiers.HasOffset = true;
        modifiers.OffsetMs = ms;
        modifiers.OffsetExpr = offsetExpr;
    }

    private void ApplyAt(Expr expr, Token atToken)
    {
        var modifiers = ModifiersOf(expr, atToken, "@");
        if (modifiers.At != AtModifier.None) throw new ParseException(atToken.Pos, atToken.Pos + 1, "@ <timestamp> may not be set multiple times");
        var t = Peek;
        if (t.Kind is TokenKind.Start or TokenKind.End)
        {
            Advance();
            if (!Accept(TokenKind.LeftParen) || !Accept(TokenKind.RightParen))
                throw Unexpected(Peek, "in @", "timestamp");
            modifiers.At = t.Kind == TokenKind.Start ? AtModifier.Start : AtModifier.End;
            return;
        }
        bool negative = false;
        if (t.Kind is TokenKind.Sub or TokenKind.Add)
        {
            negative = Advance().Kind == TokenKind.Sub;
            t = Peek;
        }
        double seconds;
        if (t.Kind == TokenKind.Number) seconds = Lexer.ParseNumber(t);
        else if (t.Kind == TokenKind.Duration && Durations.TryParse(t.Text, out long atMs)) seconds = atMs / 1000.0;
        else throw Unexpected(t, "in @", "timestamp");
        Advance();
        if (negative) seconds = -seconds;
        if (!double.IsFinite(seconds) || Math.Abs(seconds * 1000) > long.MaxValue / 2.0)
            throw new ParseException(expr.Position.Start, t.Pos + t.Text.Length, $"timestamp out of bounds for @ modifier: {GoFloat(seconds)}");
        modifiers.At = AtModifier.Timestamp;
        modifiers.AtMs = (long)Math.Round(seconds * 1000);
    }

    /// <summary>Go's <c>%f</c> of a float, as Prometheus's @ error prints it (exact digits, six decimals, <c>+Inf</c>).</summary>
    private static string GoFloat(double v) =>
        double.IsNaN(v) ? "NaN" : double.IsPositiveInfinity(v) ? "+Inf" : double.IsNegativeInfinity(v) ? "-Inf"
        : v.ToString("F6", System.Globalization.CultureInfo.InvariantCulture);

    private static TimeModifiers ModifiersOf(Expr expr, Token at, string what) => expr switch
    {
        VectorSelector vs => vs.Modifiers,
        MatrixSelector ms => ms.Selector.Modifiers,
        SubqueryExpr sq => sq.Modifiers,
        _ => throw new ParseException(at.Pos, at.Pos + at.Text.Length,
            what == "offset" ? "offset modifier must be preceded by an instant vector selector or range vector selector or a subquery"
                             : "@ modifier must be preceded by an instant vector selector or range vector selector or a subquery"),
    };

    private VectorSelector ParseVectorSelector(string? name, int start)
    {
        var matchers = new List<LabelMatcher>();
        int end = start + (name?.Length ?? 0);
        if (Peek.Kind == TokenKind.LeftBrace)
        {
            Advance();
            end = ParseMatchers(matchers);
        }
        if (name is not null)
        {
            foreach (var m in matchers)
                if (m.Name == LabelNames.MetricName)
                    throw new ParseException(start, end, $"metric name must not be set twice: \"{name}\" or \"{m.Value}\"");
            matchers.Insert(0, LabelMatcher.Equal(LabelNames.MetricName, name));
        }
        var selector = new VectorSelector(name, matchers) { Position = new(start, end) };
        // info()'s data-label selector may match only empty values ({data=~".*"}): it filters info series, it selects none.
        bool labelSelector = _labelSelectorNext;
        _labelSelectorNext = false;
        if (labelSelector) return selector;
        bool anyNonEmpty = false;
        foreach (var m in matchers) anyNonEmpty |= !m.MatchesEmpty;
        if (!anyNonEmpty) throw new ParseException(start, end, "vector selector must contain at least one non-empty matcher");
        return selector;
    }

    /// <summary>Parses <c>a="b", c=~"d", "quoted name"="x"</c> up to and including the closing brace; returns the end offset.</summary>
    private int ParseMatchers(List<LabelMatcher> matchers)
    {
        while (true)
        {
            var t = Peek;
            if (t.Kind == TokenKind.RightBrace) { Advance(); return t.Pos + 1; }
            if (t.Kind == TokenKind.Eof) throw new ParseException(t.Pos, t.Pos, "unexpected end of input inside braces");
            string name;
            if (IsLabelNameToken(t)) name = t.Text;
            else if (t.Kind == TokenKind.String) name = Lexer.Unquote(t);
            else throw Unexpected(t, "in label matching", "label matching operator");
            Advance();
            var op = Peek;
            if (op.Kind == TokenKind.Eof) throw new ParseException(op.Pos, op.Pos, "unexpected end of input inside braces");
            if (t.Kind == TokenKind.String && op.Kind is TokenKind.Comma or TokenKind.RightBrace)
            {
                // {"metric_name"} selects by metric name (Prometheus 3's quoted-name syntax).
                matchers.Add(LabelMatcher.Equal(LabelNames.MetricName, name));
            }
            else
            {
                var type = op.Kind switch
                {
                    TokenKind.Assign => MatchType.Equal,
                    TokenKind.Neq => MatchType.NotEqual,
                    TokenKind.EqlRegex => MatchType.Regex,
                    TokenKind.NeqRegex => MatchType.NotRegex,
                    _ => throw Unexpected(op, "in label matching", "label matching operator"),
                };
                Advance();
                var value = Peek;
                if (value.Kind == TokenKind.Eof) throw new ParseException(value.Pos, value.Pos, "unexpected end of input inside braces");
                if (value.Kind != TokenKind.String) throw Unexpected(value, "in label matching", "string");
                Advance();
                try
                {
                    matchers.Add(LabelMatcher.Create(type, name, Lexer.Unquote(value)));
                }
                catch (ArgumentException e)
                {
                    throw new ParseException(t.Pos, value.Pos + value.Text.Length, e.Message);
                }
            }
            var sep = Peek;
            if (sep.Kind == TokenKind.Comma) { Advance(); continue; }
            if (sep.Kind == TokenKind.RightBrace) continue;
            if (sep.Kind == TokenKind.Eof) throw new ParseException(sep.Pos, sep.Pos, "unexpected end of input inside braces");
            throw Unexpected(sep, "in label matching", "\",\" or \"}\"");
        }
    }
}
