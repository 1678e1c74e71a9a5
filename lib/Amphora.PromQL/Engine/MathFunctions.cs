namespace Amphora.PromQL.Engine;

/// <summary>Per-sample math functions; extra arguments are the call's scalar arguments at the step.</summary>
internal static class MathFunctions
{
    public static Func<double, double[], double>? Get(string name) => name switch
    {
        "abs" => (v, _) => Math.Abs(v),
        "ceil" => (v, _) => Math.Ceiling(v),
        "floor" => (v, _) => Math.Floor(v),
        "exp" => (v, _) => Math.Exp(v),
        "sqrt" => (v, _) => Math.Sqrt(v),
        "ln" => (v, _) => Math.Log(v),
        "log2" => (v, _) => Math.Log2(v),
        "log10" => (v, _) => Math.Log10(v),
        "sin" => (v, _) => Math.Sin(v),
        "cos" => (v, _) => Math.Cos(v),
        "tan" => (v, _) => Math.Tan(v),
        "asin" => (v, _) => Math.Asin(v),
        "acos" => (v, _) => Math.Acos(v),
        "atan" => (v, _) => Math.Atan(v),
        "sinh" => (v, _) => Math.Sinh(v),
        "cosh" => (v, _) => Math.Cosh(v),
        "tanh" => (v, _) => Math.Tanh(v),
        "asinh" => (v, _) => Math.Asinh(v),
        "acosh" => (v, _) => Math.Acosh(v),
        "atanh" => (v, _) => Math.Atanh(v),
        "deg" => (v, _) => v * 180 / Math.PI,
        "rad" => (v, _) => v * Math.PI / 180,
        "sgn" => (v, _) => double.IsNaN(v) ? v : Math.Sign(v),
        "clamp_max" => (v, a) => Math.Min(a[0], v),
        "clamp_min" => (v, a) => Math.Max(a[0], v),
        "round" => (v, a) => Round(v, a.Length > 0 ? a[0] : 1),
        _ => null,
    };

    /// <summary>Rounds to the nearest multiple of toNearest, ties up (Prometheus uses floor(v/n + 0.5) * n).</summary>
    private static double Round(double v, double toNearest)
    {
        double inverse = 1 / toNearest;
        return Math.Floor(v * inverse + 0.5) / inverse;
    }
}
