using System.Globalization;

namespace Amphora.Ruler;

/// <summary>Go's float formatting where the ruler needs it: strconv's 'e' and 'g' with and without a precision, fmt's
/// <c>%v</c>, and encoding/json's float64.</summary>
public static class GoFloat
{
    /// <summary>The decimal digits (no leading zeros, at least one) and the exponent of the first digit, rounded to
    /// <paramref name="significant"/> digits, or the shortest that reads back when it is -1.</summary>
    private static (string Digits, int Exponent) Decimal(double v, int significant)
    {
        v = Math.Abs(v);
        if (v == 0) return (significant > 0 ? new string('0', significant) : "0", 0);
        string e = significant < 0 ? v.ToString("E16", CultureInfo.InvariantCulture) : v.ToString("E" + (significant - 1), CultureInfo.InvariantCulture);
        if (significant < 0)
        {
            // Shortest round-trip digits: "R" then normalise to mantissa/exponent.
            string r = v.ToString("R", CultureInfo.InvariantCulture);
            int ei = r.IndexOfAny(['E', 'e']);
            string mant = ei < 0 ? r : r[..ei];
            int exp10 = ei < 0 ? 0 : int.Parse(r.AsSpan(ei + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            int dot = mant.IndexOf('.');
            string intPart = dot < 0 ? mant : mant[..dot];
            string frac = dot < 0 ? "" : mant[(dot + 1)..];
            string all = (intPart + frac).TrimStart('0');
            int lead = (intPart + frac).Length - all.Length;
            int exponent = intPart.Length - 1 - lead + exp10;
            all = all.TrimEnd('0');
            return (all.Length == 0 ? "0" : all, exponent);
        }
        int x = e.IndexOf('E');
        string digits = e[..x].Replace(".", "");
        return (digits, int.Parse(e.AsSpan(x + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture));
    }

    private static string Special(double v) => double.IsNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";

    /// <summary>strconv.FormatFloat(v, 'e', prec, 64): <c>1e+00</c>, <c>1.5e-07</c>.</summary>
    public static string FormatE(double v, int prec)
    {
        if (!double.IsFinite(v)) return Special(v);
        var (digits, exp) = Decimal(v, prec < 0 ? -1 : prec + 1);
        string mant = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
        return (v < 0 || double.IsNegative(v) && v == 0 ? "-" : "") + mant + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
    }

    /// <summary>strconv.FormatFloat(v, 'g', prec, 64) (what fmt's %g and %v print); prec -1 is the shortest digits, in
    /// exponent form from 1e+06 on, as Go decides with precision 6 then.</summary>
    public static string FormatG(double v, int prec, int shortestExponentLimit = 6)
    {
        if (!double.IsFinite(v)) return Special(v);
        if (prec == 0) prec = 1;
        var (digits, exp) = Decimal(v, prec);
        if (prec > 0) digits = digits.TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        int eprec = prec < 0 ? shortestExponentLimit : prec;
        if (prec > 0 && eprec > digits.Length && digits.Length >= exp + 1) eprec = digits.Length;
        string sign = v < 0 ? "-" : "";
        if (exp < -4 || exp >= eprec)
        {
            string mant = digits.Length > 1 ? digits[0] + "." + digits[1..] : digits;
            return sign + mant + "e" + (exp < 0 ? "-" : "+") + Math.Abs(exp).ToString("00", CultureInfo.InvariantCulture);
        }
        return sign + Positional(digits, exp);
    }

    /// <summary>fmt's <c>%v</c> of a float64: shortest digits, exponent form from 1e+06 (and below 1e-04).</summary>
    public static string Print(double v) => FormatG(v, -1);

    /// <summary>fmt's <c>%.Nf</c>.</summary>
    public static string FormatF(double v, int prec)
    {
        if (!double.IsFinite(v)) return Special(v);
        return v.ToString("F" + prec, CultureInfo.InvariantCulture);
    }

    /// <summary>encoding/json's float64: positional unless below 1e-6 or from 1e21.</summary>
    public static string Json(double v)
    {
        double a = Math.Abs(v);
        if (a != 0 && (a < 1e-6 || a >= 1e21)) return FormatE(v, -1).Replace("e-0", "e-").Replace("e+0", "e+");
        var (digits, exp) = Decimal(v, -1);
        return (v < 0 ? "-" : "") + Positional(digits, exp);
    }

    private static string Positional(string digits, int exp)
    {
        if (digits == "0") return "0";
        if (exp < 0) return "0." + new string('0', -exp - 1) + digits;
        if (exp + 1 >= digits.Length) return digits + new string('0', exp + 1 - digits.Length);
        return digits[..(exp + 1)] + "." + digits[(exp + 1)..];
    }
}
