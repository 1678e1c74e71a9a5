using System.Globalization;

namespace Amphora.PromQL.Parser;

/// <summary>
/// A duration written as arithmetic (Prometheus 3's duration expressions): in a range <c>x[26m+4m]</c>, a subquery
/// <c>[1h:step()*2]</c> or an offset <c>offset (2 * 5m)</c>. Numbers are seconds; <c>step()</c> is the query's step,
/// <c>range()</c> its end minus start; <c>min_of</c>/<c>max_of</c> and + - * / % ^ work on seconds.
/// </summary>
public abstract record DurationExpr
{
    /// <summary>The value in seconds for a query with the given step and range (both in ms).</summary>
    public abstract double Seconds(long stepMs, long rangeMs);

    /// <summary>Whether the value depends on the query (<c>step()</c> or <c>range()</c>).</summary>
    public abstract bool DependsOnQuery { get; }

    /// <summary>The value in milliseconds, as Prometheus converts it (to nanoseconds, then whole milliseconds).</summary>
    public long Milliseconds(long stepMs, long rangeMs)
    {
        double ns = Math.Round(Seconds(stepMs, rangeMs) * 1e9);
        if (double.IsNaN(ns) || Math.Abs(ns) > 9.2e18) throw new ParseException(0, 0, Durations.OutOfRangeMessage);
        return (long)ns / 1_000_000;
    }

    public sealed record Constant(double Value) : DurationExpr
    {
        public override double Seconds(long stepMs, long rangeMs) => Value;
        public override bool DependsOnQuery => false;
        public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary><c>step()</c> or <c>range()</c>.</summary>
    public sealed record QueryValue(bool Step) : DurationExpr
    {
        public override double Seconds(long stepMs, long rangeMs) => (Step ? stepMs : rangeMs) / 1000.0;
        public override bool DependsOnQuery => true;
        public override string ToString() => Step ? "step()" : "range()";
    }

    public sealed record Negate(DurationExpr Inner) : DurationExpr
    {
        public override double Seconds(long stepMs, long rangeMs) => -Inner.Seconds(stepMs, rangeMs);
        public override bool DependsOnQuery => Inner.DependsOnQuery;
        public override string ToString() => "-" + Inner;
    }

    /// <summary>An operator (+ - * / % ^) or min_of / max_of.</summary>
    public sealed record Binary(string Op, DurationExpr Lhs, DurationExpr Rhs) : DurationExpr
    {
        public override double Seconds(long stepMs, long rangeMs)
        {
            double l = Lhs.Seconds(stepMs, rangeMs), r = Rhs.Seconds(stepMs, rangeMs);
            return Op switch
            {
                "+" => l + r,
                "-" => l - r,
                "*" => l * r,
                "/" => l / r,
                "%" => l % r,
                "^" => Math.Pow(l, r),
                "min_of" => Math.Min(l, r),
                _ => Math.Max(l, r),
            };
        }

        public override bool DependsOnQuery => Lhs.DependsOnQuery || Rhs.DependsOnQuery;
        public override string ToString() => Op.Length > 1 ? $"{Op}({Lhs}, {Rhs})" : $"({Lhs} {Op} {Rhs})";
    }
}
