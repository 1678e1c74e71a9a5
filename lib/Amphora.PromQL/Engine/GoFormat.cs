using System.Globalization;
using System.Text;
using Amphora.Model;

namespace Amphora.PromQL.Engine;

/// <summary>Values as Go's fmt prints them where Prometheus puts that text into results or annotations.</summary>
internal static class GoFormat
{
    /// <summary>Go's <c>%g</c>: the shortest digits, in exponent form (1e+06) when the decimal exponent is below -4 or at least 6.</summary>
    public static string G(double v)
    {
        if (double.IsNaN(v)) return "NaN";
        if (double.IsPositiveInfinity(v)) return "+Inf";
        if (double.IsNegativeInfinity(v)) return "-Inf";
        if (v == 0) return double.IsNegative(v) ? "-0" : "0";
        // "E16" gives the decimal exponent; "R" the shortest digits that read back.
        string e16 = Math.Abs(v).ToString("E16", CultureInfo.InvariantCulture);
        int exp = int.Parse(e16.AsSpan(e16.IndexOf('E') + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        string r = Math.Abs(v).ToString("R", CultureInfo.InvariantCulture);
        int ePos = r.IndexOfAny(['E', 'e']);
        string digits = (ePos < 0 ? r : r[..ePos]).Replace(".", "").TrimStart('0').TrimEnd('0');
        if (digits.Length == 0) digits = "0";
        // Rounding to the shortest digits may carry into a new decade (9.99...e5 printed as 1e6).
        if (ePos >= 0) exp = int.Parse(r.AsSpan(ePos + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) + (r.IndexOf('.') is var dot and > 0 && dot < ePos ? dot - 1 : (ePos - 1));
        string sign = v < 0 ? "-" : "";
        if (exp < -4 || exp >= 6)
        {
            string mantissa = digits.Length == 1 ? digits : digits[0] + "." + digits[1..];
            return $"{sign}{mantissa}e{(exp < 0 ? "-" : "+")}{Math.Abs(exp):00}";
        }
        return sign + FloatText.Format(Math.Abs(v));
    }

    /// <summary>A histogram as Prometheus's FloatHistogram.String(): count, sum, then the populated buckets, lowest first.</summary>
    public static string Histogram(FloatHistogram h)
    {
        var sb = new StringBuilder("{count:").Append(G(h.Count)).Append(", sum:").Append(G(h.Sum));
        var negative = new List<HistogramBucket>();
        foreach (var b in h.NegativeBucketsOutwards()) if (b.Count != 0) negative.Add(b);
        for (int i = negative.Count - 1; i >= 0; i--) sb.Append(", ").Append(Bucket(negative[i]));
        if (h.ZeroCount != 0) sb.Append(", ").Append(Bucket(h.ZeroBucket()));
        foreach (var b in h.PositiveBucketsAscending()) if (b.Count != 0) sb.Append(", ").Append(Bucket(b));
        return sb.Append('}').ToString();
    }

    private static string Bucket(HistogramBucket b) =>
        $"{(b.LowerInclusive ? '[' : '(')}{G(b.Lower)},{G(b.Upper)}{(b.UpperInclusive ? ']' : ')')}:{G(b.Count)}";
}
