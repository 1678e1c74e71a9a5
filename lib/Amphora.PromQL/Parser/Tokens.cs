namespace Amphora.PromQL.Parser;

/// <summary>The kinds of lexical items of PromQL.</summary>
public enum TokenKind
{
    Eof, Error, Identifier, MetricIdentifier, Number, Duration, String,
    LeftParen, RightParen, LeftBrace, RightBrace, LeftBracket, RightBracket, Comma, Colon, At,
    // operators
    Add, Sub, Mul, Div, Mod, Pow, Eql, Neq, Lss, Lte, Gtr, Gte, TrimUpper, TrimLower, EqlRegex, NeqRegex, Assign,
    And, Or, Unless, Atan2,
    // aggregators
    Sum, Avg, Count, Min, Max, Group, Stddev, Stdvar, Topk, Bottomk, CountValues, Quantile, Limitk, LimitRatio,
    // keywords
    Offset, By, Without, On, Ignoring, GroupLeft, GroupRight, Bool, Start, End,
}

/// <summary>Token texts, keyword lookup and operator properties.</summary>
public static class Tokens
{
    private static readonly Dictionary<string, TokenKind> Keywords = new(StringComparer.OrdinalIgnoreCase)
    {
        ["and"] = TokenKind.And, ["or"] = TokenKind.Or, ["unless"] = TokenKind.Unless, ["atan2"] = TokenKind.Atan2,
        ["sum"] = TokenKind.Sum, ["avg"] = TokenKind.Avg, ["count"] = TokenKind.Count, ["min"] = TokenKind.Min,
        ["max"] = TokenKind.Max, ["group"] = TokenKind.Group, ["stddev"] = TokenKind.Stddev, ["stdvar"] = TokenKind.Stdvar,
        ["topk"] = TokenKind.Topk, ["bottomk"] = TokenKind.Bottomk, ["count_values"] = TokenKind.CountValues,
        ["quantile"] = TokenKind.Quantile, ["limitk"] = TokenKind.Limitk, ["limit_ratio"] = TokenKind.LimitRatio,
        ["offset"] = TokenKind.Offset, ["by"] = TokenKind.By, ["without"] = TokenKind.Without, ["on"] = TokenKind.On,
        ["ignoring"] = TokenKind.Ignoring, ["group_left"] = TokenKind.GroupLeft, ["group_right"] = TokenKind.GroupRight,
        ["bool"] = TokenKind.Bool, ["start"] = TokenKind.Start, ["end"] = TokenKind.End,
    };

    public static bool TryKeyword(string word, out TokenKind kind) => Keywords.TryGetValue(word, out kind);

    public static bool IsAggregator(TokenKind k) => k is >= TokenKind.Sum and <= TokenKind.LimitRatio;

    public static bool IsAggregatorWithParam(TokenKind k) =>
        k is TokenKind.Topk or TokenKind.Bottomk or TokenKind.CountValues or TokenKind.Quantile or TokenKind.Limitk or TokenKind.LimitRatio;

    public static bool IsKeyword(TokenKind k) => k >= TokenKind.And;

    public static bool IsComparison(TokenKind k) => k is TokenKind.Eql or TokenKind.Neq or TokenKind.Lss or TokenKind.Lte or TokenKind.Gtr or TokenKind.Gte;

    /// <summary>The native-histogram trim operators <c>&lt;/</c> and <c>&gt;/</c>: a histogram cut at a value.</summary>
    public static bool IsTrim(TokenKind k) => k is TokenKind.TrimUpper or TokenKind.TrimLower;

    public static bool IsSetOperator(TokenKind k) => k is TokenKind.And or TokenKind.Or or TokenKind.Unless;

    /// <summary>Binary precedence, higher binds tighter; 0 = not a binary operator.</summary>
    public static int Precedence(TokenKind k) => k switch
    {
        TokenKind.Or => 1,
        TokenKind.And or TokenKind.Unless => 2,
        TokenKind.Eql or TokenKind.Neq or TokenKind.Lss or TokenKind.Lte or TokenKind.Gtr or TokenKind.Gte or TokenKind.TrimUpper or TokenKind.TrimLower => 3,
        TokenKind.Add or TokenKind.Sub => 4,
        TokenKind.Mul or TokenKind.Div or TokenKind.Mod or TokenKind.Atan2 => 5,
        TokenKind.Pow => 6,
        _ => 0,
    };

    public static bool IsRightAssociative(TokenKind k) => k == TokenKind.Pow;

    public static string Text(TokenKind k) => k switch
    {
        TokenKind.Add => "+", TokenKind.Sub => "-", TokenKind.Mul => "*", TokenKind.Div => "/", TokenKind.Mod => "%",
        TokenKind.Pow => "^", TokenKind.Eql => "==", TokenKind.Neq => "!=", TokenKind.Lss => "<", TokenKind.Lte => "<=",
        TokenKind.Gtr => ">", TokenKind.Gte => ">=", TokenKind.TrimUpper => "</", TokenKind.TrimLower => ">/", TokenKind.EqlRegex => "=~", TokenKind.NeqRegex => "!~", TokenKind.Assign => "=",
        TokenKind.LeftParen => "(", TokenKind.RightParen => ")", TokenKind.LeftBrace => "{", TokenKind.RightBrace => "}",
        TokenKind.LeftBracket => "[", TokenKind.RightBracket => "]", TokenKind.Comma => ",", TokenKind.Colon => ":", TokenKind.At => "@",
        TokenKind.CountValues => "count_values", TokenKind.LimitRatio => "limit_ratio", TokenKind.GroupLeft => "group_left",
        TokenKind.GroupRight => "group_right",
        _ => k.ToString().ToLowerInvariant(),
    };
}

/// <summary>A lexical item: its kind, position (character offset) and text.</summary>
public readonly record struct Token(TokenKind Kind, int Pos, string Text)
{
    /// <summary>How Prometheus names the item in "unexpected ..." errors.</summary>
    public string Describe() => Kind switch
    {
        TokenKind.Eof => "end of input",
        TokenKind.Identifier => $"identifier \"{Text}\"",
        TokenKind.MetricIdentifier => $"metric identifier \"{Text}\"",
        TokenKind.Number => $"number \"{Text}\"",
        TokenKind.Duration => $"duration \"{Text}\"",
        TokenKind.String => $"string {Text}",
        TokenKind.LeftParen => "\"(\"", TokenKind.RightParen => "\")\"", TokenKind.LeftBrace => "\"{\"", TokenKind.RightBrace => "\"}\"",
        TokenKind.LeftBracket => "\"[\"", TokenKind.RightBracket => "\"]\"", TokenKind.Comma => "\",\"", TokenKind.Colon => "\":\"",
        TokenKind.At => "\"@\"", TokenKind.Assign => "\"=\"",
        _ when Tokens.Precedence(Kind) > 0 && !Tokens.IsKeyword(Kind) => $"<op:{Text}>",
        _ when Tokens.IsAggregator(Kind) => $"<aggr:{Text}>",
        _ when Tokens.IsKeyword(Kind) && Tokens.Precedence(Kind) > 0 => $"<op:{Text}>",
        _ => $"<{Text}>",
    };
}
