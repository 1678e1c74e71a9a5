using System.Globalization;
using System.Text;

namespace Amphora.Ruler.Templates;

/// <summary>
/// Go's fmt.Sprintf for the verbs templates use: <c>%v %s %q %d %f %F %e %E %g %G %x %X %o %b %c %t %%</c>, the flags
/// <c>- + # 0</c> and space, width and precision (also <c>*</c>). A verb that does not fit its operand prints Go's
/// <c>%!d(string=x)</c>; missing and extra operands print <c>%!d(MISSING)</c> and <c>%!(EXTRA type=value)</c>.
/// </summary>
internal static class GoFmt
{
    public static string Sprintf(string format, IReadOnlyList<object?> args)
    {
        var sb = new StringBuilder();
        int argi = 0;
        for (int i = 0; i < format.Length; i++)
        {
            char c = format[i];
            if (c != '%') { sb.Append(c); continue; }
            if (++i >= format.Length) { sb.Append("%!(NOVERB)"); break; }
            bool minus = false, plus = false, sharp = false, zero = false, space = false;
            for (; i < format.Length; i++)
            {
                char f = format[i];
                if (f == '-') minus = true; else if (f == '+') plus = true; else if (f == '#') sharp = true;
                else if (f == '0') zero = true; else if (f == ' ') space = true; else break;
            }
            int? width = ReadNumber(format, ref i, args, ref argi);
            int? prec = null;
            if (i < format.Length && format[i] == '.')
            {
                i++;
                prec = ReadNumber(format, ref i, args, ref argi) ?? 0;
            }
            if (i >= format.Length) { sb.Append("%!(NOVERB)"); break; }
            char verb = format[i];
            if (verb == '%') { sb.Append('%'); continue; }
            if (argi >= args.Count) { sb.Append("%!").Append(verb).Append("(MISSING)"); continue; }
            var arg = args[argi++];
            string? body = Format(verb, arg, prec, plus, sharp, space);
            if (body is null) { sb.Append("%!").Append(verb).Append('(').Append(GoValues.TypeName(arg)).Append('=').Append(GoValues.Print(arg)).Append(')'); continue; }
            if (width is { } w && body.Length < w)
            {
                if (minus) body = body.PadRight(w);
                else if (zero && verb is not ('s' or 'q' or 'v' or 'c' or 't') && arg is long or double)
                {
                    bool signed = body.Length > 0 && body[0] is '-' or '+' or ' ';
                    body = signed ? body[0] + body[1..].PadLeft(w - 1, '0') : body.PadLeft(w, '0');
                }
                else body = body.PadLeft(w);
            }
            sb.Append(body);
        }
        if (argi < args.Count)
        {
            sb.Append("%!(EXTRA ");
            sb.Append(string.Join(", ", args.Skip(argi).Select(a => GoValues.TypeName(a) + "=" + GoValues.Print(a))));
            sb.Append(')');
        }
        return sb.ToString();
    }

    private static int? ReadNumber(string format, ref int i, IReadOnlyList<object?> args, ref int argi)
    {
        if (i < format.Length && format[i] == '*')
        {
            i++;
            return argi < args.Count && args[argi++] is long n ? (int)n : null;
        }
        int start = i;
        while (i < format.Length && char.IsAsciiDigit(format[i])) i++;
        return i > start ? int.Parse(format.AsSpan(start, i - start), CultureInfo.InvariantCulture) : null;
    }

    private static string Sign(string s, bool negative, bool plus, bool space) => negative ? "-" + s : plus ? "+" + s : space ? " " + s : s;

    private static string? Format(char verb, object? arg, int? prec, bool plus, bool sharp, bool space)
    {
        switch (arg)
        {
            case double d:
                string? f = verb switch
                {
                    'v' or 'g' => prec is { } p ? GoFloat.FormatG(Math.Abs(d), p) : GoFloat.FormatG(Math.Abs(d), -1),
                    'G' => (prec is { } p2 ? GoFloat.FormatG(Math.Abs(d), p2) : GoFloat.FormatG(Math.Abs(d), -1)).ToUpperInvariant(),
                    'f' or 'F' => GoFloat.FormatF(Math.Abs(d), prec ?? 6),
                    'e' => GoFloat.FormatE(Math.Abs(d), prec ?? 6),
                    'E' => GoFloat.FormatE(Math.Abs(d), prec ?? 6).ToUpperInvariant(),
                    _ => null,
                };
                if (f is null) return null;
                if (double.IsNaN(d)) return "NaN";
                return Sign(f.TrimStart('+'), d < 0 || double.IsNegative(d) && d == 0 && false, plus, space);
            case long l:
                ulong mag = l < 0 ? (ulong)(-(l + 1)) + 1 : (ulong)l;
                string? s = verb switch
                {
                    'v' or 'd' => mag.ToString(CultureInfo.InvariantCulture),
                    'x' => (sharp ? "0x" : "") + mag.ToString("x", CultureInfo.InvariantCulture),
                    'X' => (sharp ? "0X" : "") + mag.ToString("X", CultureInfo.InvariantCulture),
                    'o' => (sharp ? "0" : "") + Convert.ToString((long)mag, 8),
                    'b' => Convert.ToString((long)mag, 2),
                    'c' => char.ConvertFromUtf32((int)l),
                    'q' => "'" + char.ConvertFromUtf32((int)l) + "'",
                    'e' or 'f' or 'g' => null,
                    _ => null,
                };
                if (s is null) return null;
                if (verb is 'c' or 'q') return s;
                if (prec is { } pr && s.Length < pr) s = s.PadLeft(pr, '0');
                return Sign(s, l < 0, plus, space);
            case string str:
                return verb switch
                {
                    'v' or 's' => prec is { } p && p < str.Length ? str[..p] : str,
                    'q' => sharp && !str.Contains('`') ? "`" + str + "`" : GoValues.Quote(str),
                    'x' => Convert.ToHexString(Encoding.UTF8.GetBytes(str)).ToLowerInvariant(),
                    'X' => Convert.ToHexString(Encoding.UTF8.GetBytes(str)),
                    _ => null,
                };
            case bool b:
                return verb is 'v' or 't' ? (b ? "true" : "false") : null;
            default:
                return verb switch
                {
                    'v' or 's' => GoValues.Print(arg),
                    'q' when arg is GoTime t => GoValues.Quote(t.ToString()),
                    _ => null,
                };
        }
    }
}
