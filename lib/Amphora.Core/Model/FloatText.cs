using System.Globalization;

namespace Amphora.Model;

/// <summary>Floats as Prometheus writes them in JSON values and in <c>le</c> and <c>quantile</c> labels.</summary>
public static class FloatText
{
    /// <summary>
    /// Go's <c>strconv.FormatFloat(v, 'f', -1, 64)</c> with Prometheus's spellings of infinities and NaN: the shortest digits
    /// that read back as the same value, in positional notation (0.0000001, 1500000000000000000000, 2.5, +Inf).
    /// </summary>
    public static string Format(double v)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsPositiveInfinity(v)) return "+Inf";
        if (double.IsNegativeInfinity(v)) return "-Inf";
        string r = v.ToString("R", CultureInfo.InvariantCulture);
        int e = r.IndexOfAny(['E', 'e']);
        if (e < 0) return r;
        // Expand d.dddE±x into positional notation: Go's 'f' format never uses an exponent.
        bool negative = r[0] == '-';
        string mantissa = r[(negative ? 1 : 0)..e];
        int exponent = int.Parse(r.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        int dot = mantissa.IndexOf('.');
        string digits = dot < 0 ? mantissa : mantissa.Remove(dot, 1);
        int pointPos = (dot < 0 ? mantissa.Length : dot) + exponent;
        string result;
        if (pointPos <= 0) result = "0." + new string('0', -pointPos) + digits;
        else if (pointPos >= digits.Length) result = digits + new string('0', pointPos - digits.Length);
        else result = digits[..pointPos] + "." + digits[pointPos..];
        return negative ? "-" + result : result;
    }
}
