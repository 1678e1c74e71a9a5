namespace Amphora.Model;

/// <summary>Why a regular expression was refused; the texts are Go's regexp/syntax error codes, which Prometheus reports.</summary>
public enum Re2ErrorCode
{
    InvalidCharClass,
    InvalidCharRange,
    InvalidEscape,
    InvalidNamedCapture,
    InvalidPerlOp,
    InvalidRepeatOp,
    InvalidRepeatSize,
    MissingBracket,
    MissingParen,
    MissingRepeatArgument,
    TrailingBackslash,
    UnexpectedParen,
    NestingDepth,
    Large,
}

/// <summary>
/// A pattern RE2 (Prometheus's regexp) would refuse, or one beyond a <see cref="Re2Limits"/> bound. The message reads as
/// Go's: <c>error parsing regexp: invalid escape sequence: `\1`</c>.
/// </summary>
public sealed class Re2SyntaxException : ArgumentException
{
    public Re2SyntaxException(Re2ErrorCode code, string fragment)
        : base($"error parsing regexp: {Text(code)}: `{fragment}`")
    {
        Code = code;
        Fragment = fragment;
    }

    /// <summary>A refusal by one of Amphora's own bounds: the message names the limit instead of echoing a huge pattern.</summary>
    public Re2SyntaxException(Re2ErrorCode code, string detail, bool isLimit)
        : base($"error parsing regexp: {Text(code)}: {detail}")
    {
        Code = code;
        Fragment = "";
        IsLimit = isLimit;
    }

    public Re2ErrorCode Code { get; }

    /// <summary>The part of the pattern the error is about.</summary>
    public string Fragment { get; }

    /// <summary>True when a <see cref="Re2Limits"/> bound refused the pattern rather than RE2's syntax.</summary>
    public bool IsLimit { get; }

    public static string Text(Re2ErrorCode code) => code switch
    {
        Re2ErrorCode.InvalidCharClass => "invalid character class",
        Re2ErrorCode.InvalidCharRange => "invalid character class range",
        Re2ErrorCode.InvalidEscape => "invalid escape sequence",
        Re2ErrorCode.InvalidNamedCapture => "invalid named capture",
        Re2ErrorCode.InvalidPerlOp => "invalid or unsupported Perl syntax",
        Re2ErrorCode.InvalidRepeatOp => "invalid nested repetition operator",
        Re2ErrorCode.InvalidRepeatSize => "invalid repeat count",
        Re2ErrorCode.MissingBracket => "missing closing ]",
        Re2ErrorCode.MissingParen => "missing closing )",
        Re2ErrorCode.MissingRepeatArgument => "missing argument to repetition operator",
        Re2ErrorCode.TrailingBackslash => "trailing backslash at end of expression",
        Re2ErrorCode.UnexpectedParen => "unexpected )",
        Re2ErrorCode.NestingDepth => "expression nests too deeply",
        Re2ErrorCode.Large => "expression too large",
        _ => "invalid regular expression",
    };
}
