using System.Globalization;
using System.Text.RegularExpressions;

namespace Reasoner.Core.Answers;

/// <summary>
/// A plain numeric answer as written in word problems: "$1,000", "18 cm", "25%", "-3/4", "5.00 dollars".
/// Trailing words are taken to be units; a second number or an operator makes the text something else (null).
/// </summary>
internal readonly partial record struct NumberAnswer(double Value, bool IsPercent)
{
    public static NumberAnswer? TryParse(string text)
    {
        string s = TextCommandRegex().Replace(text, " $1");
        s = s.Replace('\u2212', '-').Replace("\\!", "").Replace("{,}", ",").Replace("\\,", " ")
            .Replace("\\%", "%").Replace("\\$", "").Replace("$", "");
        s = LeadingVariableRegex().Replace(s.Trim(), "");

        var m = NumberRegex().Match(s);
        if (!m.Success || m.Groups["int"].Length + m.Groups["frac"].Length == 0) return null;
        string rest = UnitPowerRegex().Replace(m.Groups["rest"].Value, "");
        if (rest.Any(c => char.IsAsciiDigit(c) || "=+-*/^\\{}<>|".Contains(c))) return null;

        double value = double.Parse(m.Groups["int"].Value.Replace(",", "") + m.Groups["frac"].Value,
            NumberStyles.Float, CultureInfo.InvariantCulture);
        if (m.Groups["den"].Success)
        {
            double denominator = double.Parse(m.Groups["den"].Value, NumberStyles.Float, CultureInfo.InvariantCulture);
            if (denominator == 0) return null;
            value /= denominator;
        }
        return new NumberAnswer(m.Groups["neg"].Success ? -value : value, m.Groups["pct"].Success);
    }

    /// <summary>Equal values, where "25%" may stand for 25 (the number asked for) or for 0.25 (its meaning).</summary>
    public static bool Equivalent(NumberAnswer a, NumberAnswer b) =>
        Tolerance.Close(a.Value, b.Value)
        || (a.IsPercent != b.IsPercent && Tolerance.Close(a.IsPercent ? a.Value / 100 : a.Value, b.IsPercent ? b.Value / 100 : b.Value));

    [GeneratedRegex(@"\\(?:text|textbf|mbox|mathrm)\s*\{([^{}]*)\}")]
    private static partial Regex TextCommandRegex();

    [GeneratedRegex(@"^[A-Za-z]\s*=\s*")]
    private static partial Regex LeadingVariableRegex();

    [GeneratedRegex(@"^(?:(?<neg>-)|\+)?\s*(?<int>\d{1,3}(?:,\d{3})+|\d+)?(?<frac>\.\d+)?(?:\s*/\s*(?<den>\d+(?:\.\d+)?))?\s*(?<pct>%|percent\b)?(?<rest>.*)$", RegexOptions.Singleline)]
    private static partial Regex NumberRegex();

    // The exponent of a unit ("cm^2") is not a second number.
    [GeneratedRegex(@"\^\s*\{?\s*\d\s*\}?")]
    private static partial Regex UnitPowerRegex();
}
