namespace Amphora.Model;

/// <summary>Compensated (Kahan-Babuška-Neumaier) summation, as PromQL sums floats and histogram counts.</summary>
public static class KahanSum
{
    /// <summary>Adds <paramref name="inc"/> to the running <paramref name="sum"/> with compensation <paramref name="c"/>; the result is sum + c.</summary>
    public static (double Sum, double C) Inc(double inc, double sum, double c)
    {
        double t = sum + inc;
        if (double.IsInfinity(t)) c = 0;
        else if (Math.Abs(sum) >= Math.Abs(inc)) c += (sum - t) + inc;
        else c += (inc - t) + sum;
        return (t, c);
    }
}
