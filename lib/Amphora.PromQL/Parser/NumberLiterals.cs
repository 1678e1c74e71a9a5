using System.Globalization;

namespace Amphora.PromQL.Parser;

/// <summary>
/// The value of a number token, read as Prometheus reads it: first as Go's <c>strconv.ParseInt(text, 0, 64)</c> (so
/// <c>0x1f</c> is hexadecimal and <c>010</c> is octal 8, and either must fit a signed 64-bit integer), then as Go's
/// <c>strconv.ParseFloat(text, 64)</c> (decimals with a fraction or exponent, <c>Inf</c>, <c>NaN</c>; a hexadecimal
/// mantissa needs a <c>p</c> exponent there, which the lexer never produces). What neither accepts is Prometheus's
/// <c>error parsing number: strconv.ParseFloat: parsing "TEXT": invalid syntax</c> (or <c>value out of range</c> for a
/// decimal beyond ±1.8e308).
/// </summary>
public static class NumberLiterals
{
    /// <summary>The value of <paramref name="text"/>, or false with Prometheus's error text in <paramref name="error"/>.</summary>
    public static bool TryParse(string text, out double value, out string? error)
    {
        error = null;
        if (TryParseInt(text, out long integer))
        {
            value = integer;
            return true;
        }
        if (text.Equals("inf", StringComparison.OrdinalIgnoreCase)) { value = double.PositiveInfinity; return true; }
        if (text.Equals("nan", StringComparison.OrdinalIgnoreCase)) { value = double.NaN; return true; }
        if (IsDecimalFloat(text) && double.TryParse(text, NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent,
                CultureInfo.InvariantCulture, out value))
        {
            if (double.IsFinite(value)) return true;
            error = $"error parsing number: strconv.ParseFloat: parsing \"{text}\": value out of range";
            value = 0;
            return false;
        }
        error = $"error parsing number: strconv.ParseFloat: parsing \"{text}\": invalid syntax";
        value = 0;
        return false;
    }

    /// <summary>Go's base-0 integer syntax for the texts a number token can have: <c>0x</c> hex, a leading-0 octal, decimal.</summary>
    private static bool TryParseInt(string text, out long value)
    {
        value = 0;
        if (text.Length > 2 && text[0] == '0' && text[1] is 'x' or 'X')
            return AllDigits(text, 2, 16) && Accumulate(text, 2, 16, out value);
        if (text.Length > 1 && text[0] == '0')
            return AllDigits(text, 1, 8) && Accumulate(text, 1, 8, out value);
        return text.Length > 0 && AllDigits(text, 0, 10) && Accumulate(text, 0, 10, out value);
    }

    private static bool AllDigits(string text, int from, int radix)
    {
        for (int i = from; i < text.Length; i++)
            if (Digit(text[i]) is var d && (d < 0 || d >= radix)) return false;
        return true;
    }

    /// <summary>False when the value does not fit a signed 64-bit integer (Go's range error).</summary>
    private static bool Accumulate(string text, int from, int radix, out long value)
    {
        value = 0;
        for (int i = from; i < text.Length; i++)
        {
            int d = Digit(text[i]);
            if (value > (long.MaxValue - d) / radix) return false;
            value = value * radix + d;
        }
        return true;
    }

    private static int Digit(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    /// <summary>Go's decimal float syntax: digits with an optional fraction (<c>5.</c> and <c>.5</c> included) and exponent.</summary>
    private static bool IsDecimalFloat(string s)
    {
        int i = 0, mantissaDigits = 0;
        while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; mantissaDigits++; }
        if (i < s.Length && s[i] == '.')
        {
            i++;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; mantissaDigits++; }
        }
        if (mantissaDigits == 0) return false;
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-') i++;
            int exponentDigits = 0;
            while (i < s.Length && char.IsAsciiDigit(s[i])) { i++; exponentDigits++; }
            if (exponentDigits == 0) return false;
        }
        return i == s.Length;
    }
}
