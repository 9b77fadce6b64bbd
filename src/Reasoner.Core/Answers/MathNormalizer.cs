using System.Text;
using System.Text.RegularExpressions;

namespace Reasoner.Core.Answers;

/// <summary>
/// Rewrites a LaTeX answer into a canonical string: presentation-only markup (delimiters, spacing, \left/\right,
/// degree signs, units, thousands separators, \dfrac, \frac12 shorthand) is removed so that answers that differ only
/// in typesetting compare equal as strings, and what remains is plain enough for <see cref="MathParser"/>.
/// </summary>
internal static partial class MathNormalizer
{
    private const int MaxRewrites = 32;

    public static string Normalize(string answer)
    {
        string s = ReplaceUnicode(answer.Trim());
        s = s.Replace("\\$", "").Replace("$", "");
        s = StripWrappers(s);
        s = ThousandsSpacingRegex().Replace(s, "");
        s = RemoveSpacingCommands(s);
        s = SizingRegex().Replace(s, "");
        s = s.Replace("\\langle", "(").Replace("\\rangle", ")");
        s = FracVariantRegex().Replace(s, "\\frac");
        s = DegreeRegex().Replace(s, "");
        s = s.Replace("\\%", "").Replace("%", "");
        s = ConjunctionRegex().Replace(s, ",");
        s = UnwrapText(s);
        s = TrailingUnitRegex().Replace(s, "").Trim();
        // Before spaces go: "58,500" is one number, while "3, 5, 7" is a list.
        if (ThousandsRegex().IsMatch(s)) s = s.Replace(",", "");
        s = InfinityWordRegex().Replace(s, "\\infty");
        s = BraceArguments(s);
        s = MixedNumberRegex().Replace(s, "($1+\\frac{$2}{$3})");
        s = RemoveSpaces(s);
        s = SingleCharGroupRegex().Replace(s, "$1$2");
        s = StripLeadingVariable(s);
        s = BaseSubscriptRegex().Replace(s, "$1");
        s = LeadingDecimalPointRegex().Replace(s, "0.");
        s = s.TrimEnd('.', ',', ';');
        s = StripWrappers(s);
        return ParenthesisedLetterRegex().Replace(s, "$1");
    }

    private static string ReplaceUnicode(string s) => s
        .Replace('\u2212', '-').Replace('\u2013', '-')
        .Replace("\u00d7", "\\times ").Replace("\u00b7", "\\cdot ").Replace("\u03c0", "\\pi ")
        .Replace("\u221e", "\\infty ").Replace("\u221a", "\\sqrt").Replace("\u00b0", "");

    /// <summary>Removes whole-answer wrappers: \boxed{..}, \(..\), \[..\] and a redundant outer {..}.</summary>
    private static string StripWrappers(string s)
    {
        for (int i = 0; i < MaxRewrites; i++)
        {
            string before = s;
            var boxed = BoxedPrefixRegex().Match(s);
            if (boxed.Success && Latex.MatchingBrace(s, boxed.Length - 1) == s.Length - 1)
                s = s[boxed.Length..^1].Trim();
            else if (s.Length >= 4 && (s.StartsWith("\\(") && s.EndsWith("\\)") || s.StartsWith("\\[") && s.EndsWith("\\]")))
                s = s[2..^2].Trim();
            else if (s.Length >= 2 && s[0] == '{' && Latex.MatchingBrace(s, 0) == s.Length - 1)
                s = s[1..^1].Trim();
            if (s == before) return s;
        }
        return s;
    }

    /// <summary>Drops \! \, \; \: \> "\ " \quad \qquad and ~, while keeping the matrix row separator \\ intact.</summary>
    private static string RemoveSpacingCommands(string s)
    {
        var sb = new StringBuilder(s.Length);
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c == '~') { sb.Append(' '); continue; }
            if (c != '\\' || i + 1 >= s.Length) { sb.Append(c); continue; }
            char next = s[i + 1];
            if (next == '\\') { sb.Append("\\\\"); i++; }
            else if (next is '!' or ',' or ';' or ':' or '>' or ' ') { sb.Append(' '); i++; }
            else if (QuadRegex().Match(s, i) is { Success: true } quad)
            {
                sb.Append(' ');
                i += quad.Length - 1;
            }
            else sb.Append(c);
        }
        return sb.ToString();
    }

    /// <summary>
    /// Replaces \text{..}-like commands by their content, except that trailing words after a value
    /// (<c>15\mbox{ cm}^2</c>, <c>5.4 \text{ cents}</c>) are units and are dropped.
    /// </summary>
    private static string UnwrapText(string s)
    {
        for (int i = 0; i < MaxRewrites; i++)
        {
            var m = TextCommandRegex().Match(s);
            if (!m.Success) return s;
            int open = m.Index + m.Length - 1;
            int close = Latex.MatchingBrace(s, open);
            if (close < 0) return s.Remove(m.Index, m.Length);
            string before = s[..m.Index], inner = s[(open + 1)..close], after = s[(close + 1)..];
            bool isUnit = before.Trim().Length > 0 && UnitWordsRegex().IsMatch(inner) && UnitTailRegex().IsMatch(after);
            s = isUnit ? before : before + inner + after;
        }
        return s;
    }

    /// <summary>Braces the TeX one-token arguments of \frac and \sqrt: <c>\frac12</c> → <c>\frac{1}{2}</c>.</summary>
    private static string BraceArguments(string s)
    {
        var sb = new StringBuilder(s.Length + 8);
        int i = 0;
        while (i < s.Length)
        {
            var m = FracOrSqrtRegex().Match(s, i);
            if (!m.Success)
            {
                sb.Append(s, i, s.Length - i);
                break;
            }
            sb.Append(s, i, m.Index - i).Append(m.Value);
            int pos = m.Index + m.Length;
            if (m.Value == "\\sqrt" && pos < s.Length && s[pos] == '[')
            {
                int close = Latex.MatchingBracket(s, pos);
                if (close > 0)
                {
                    sb.Append(s, pos, close + 1 - pos);
                    pos = close + 1;
                }
            }
            int arguments = m.Value == "\\frac" ? 2 : 1;
            for (int a = 0; a < arguments && Latex.ReadArgument(s, pos) is { } arg; a++)
            {
                sb.Append('{').Append(BraceArguments(arg.Text)).Append('}');
                pos = arg.End;
            }
            i = pos;
        }
        return sb.ToString();
    }

    /// <summary>Removes whitespace, except the one space that keeps a control word apart from a following letter.</summary>
    private static string RemoveSpaces(string s) =>
        ControlWordSpaceRegex().Replace(WhitespaceRegex().Replace(s.Trim(), " "), "");

    /// <summary>Drops a leading <c>x =</c> or <c>x \in</c> naming the variable the answer is for.</summary>
    private static string StripLeadingVariable(string s)
    {
        var m = LeadingVariableRegex().Match(s);
        if (!m.Success || m.Length == s.Length) return s;
        string rest = s[m.Length..];
        return rest.Contains('=') ? s : rest;
    }

    [GeneratedRegex(@"^\\(?:boxed|fbox)\s*\{")]
    private static partial Regex BoxedPrefixRegex();

    // "10,\!080": a comma followed by a negative thin space is LaTeX's way of typesetting a thousands separator.
    [GeneratedRegex(@"(?<=\d)(?:,\\!|\{,\})\s*(?=\d)")]
    private static partial Regex ThousandsSpacingRegex();

    [GeneratedRegex(@"\G\\q?quad(?![A-Za-z])")]
    private static partial Regex QuadRegex();

    [GeneratedRegex(@"\\(?:left|right)\.|\\(?:left|right|[bB]igg?[lr]?|displaystyle|limits)(?![A-Za-z])")]
    private static partial Regex SizingRegex();

    [GeneratedRegex(@"\\[dtc]frac(?![A-Za-z])")]
    private static partial Regex FracVariantRegex();

    [GeneratedRegex(@"\^\s*\{?\s*\\circ\s*\}?|\\circ(?![A-Za-z])|\^?\\degree(?![A-Za-z])")]
    private static partial Regex DegreeRegex();

    [GeneratedRegex(@"\\(?:text|textbf|textit|textrm|textnormal|textsf|mbox|mathrm|mathbf|mathit|mathsf|mathtt|operatorname|rm|bf)\s*\{")]
    private static partial Regex TextCommandRegex();

    // "x = 2 \text{ or } x = 3" lists solutions, as "2, 3" does.
    [GeneratedRegex(@"\s*\\(?:text|mbox|textrm)\s*\{\s*(?:or|and)\s*\}\s*|\s+(?:or|and)\s+")]
    private static partial Regex ConjunctionRegex();

    [GeneratedRegex(@"^\s*[A-Za-z][A-Za-z.\s]*$")]
    private static partial Regex UnitWordsRegex();

    [GeneratedRegex(@"^\s*(?:\^\s*\{?\s*[23]\s*\}?)?\s*[.,]?\s*$")]
    private static partial Regex UnitTailRegex();

    // Units written without \text. Single-letter units (m, g, s) are left alone: they read as variables.
    [GeneratedRegex(@"(?<=[\d}\s])\s*(?:sq\.?\s*units|square\s+[a-z]+|units?|cm|mm|km|inches|inch|feet|foot|ft|yards?|miles?|meters?|metres?|centimeters?|kilometers?|cents?|dollars?|degrees?|radians?|hours?|minutes?|seconds?|days?|weeks?|months?|years?|mph|pounds?|lbs?|kg|grams?|liters?|litres?)(?:\s*\^\s*\{?[23]\}?)?\.?\s*$", RegexOptions.IgnoreCase)]
    private static partial Regex TrailingUnitRegex();

    [GeneratedRegex(@"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")]
    private static partial Regex ThousandsRegex();

    [GeneratedRegex(@"(?<![\\A-Za-z])(?:infinity|inf)(?![A-Za-z])", RegexOptions.IgnoreCase)]
    private static partial Regex InfinityWordRegex();

    [GeneratedRegex(@"\\(?:frac|sqrt)(?![A-Za-z])")]
    private static partial Regex FracOrSqrtRegex();

    // "2\frac{1}{2}" and "137 \frac{1}{2}" are mixed numbers, not products; a letter, command or bracket after the
    // fraction ("2\frac{1}{2}\pi", "4\frac{1}{3}r") makes it a coefficient again.
    [GeneratedRegex(@"(?<![\w.}^_\\])(\d+)\s*\\frac\{(\d+)\}\{(\d+)\}(?![A-Za-z\\({\[^])")]
    private static partial Regex MixedNumberRegex();

    [GeneratedRegex(@"\s+")]
    private static partial Regex WhitespaceRegex();

    [GeneratedRegex(@"(?<!\\[A-Za-z]+) |(?<=\\[A-Za-z]+) (?![A-Za-z])")]
    private static partial Regex ControlWordSpaceRegex();

    [GeneratedRegex(@"([\^_])\{([A-Za-z0-9])\}")]
    private static partial Regex SingleCharGroupRegex();

    [GeneratedRegex(@"^(?:[A-Za-z]|\\[A-Za-z]+)(?:_\{?[A-Za-z0-9]+\}?)?(?:=|\\in(?![A-Za-z]) ?)")]
    private static partial Regex LeadingVariableRegex();

    // "204_5" and "4210_{5}": base subscripts; the question already fixes the base.
    [GeneratedRegex(@"^(\d+)_\d+$")]
    private static partial Regex BaseSubscriptRegex();

    [GeneratedRegex(@"(?<![\d.])\.(?=\d)")]
    private static partial Regex LeadingDecimalPointRegex();

    [GeneratedRegex(@"^\(([A-Z])\)$")]
    private static partial Regex ParenthesisedLetterRegex();
}
