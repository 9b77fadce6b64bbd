using System.Text.RegularExpressions;
using Reasoner.Core.Problems;

namespace Reasoner.Core.Answers;

/// <summary>
/// Finds the final answer in free model text. Explicit markers come first, strongest kind first —
/// <c>\boxed{..}</c> / <c>\fbox{..}</c>, then <c>#### ..</c> (GSM8K), then <c>The answer is ..</c> /
/// <c>Answer: ..</c> — and within a kind the one written last wins, because models revise themselves. The ranking
/// keeps a verification remark after the box ("we check our answer: 17*44 = 748") from replacing it. Only when no
/// marker yields an answer is a per-kind fallback tried.
/// </summary>
public static partial class AnswerExtractor
{
    /// <summary>
    /// The final answer in <paramref name="text"/>, or null when there is none. Number answers come back as a bare
    /// number ("1000", "-3/4", "25%"), choices as a capital letter, yes/no as "yes" or "no", math as the LaTeX found.
    /// </summary>
    public static string? Extract(string text, AnswerKind kind)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        if (ExtractMarked(text, kind) is { } marked) return marked;
        return kind switch
        {
            AnswerKind.Number => LastResult(text) ?? NumberTokens(text).LastOrDefault(),
            AnswerKind.Choice => FallbackChoice(text),
            AnswerKind.YesNo => FallbackYesNo(text),
            _ => null,
        };
    }

    /// <summary>
    /// The answer given with an explicit marker (<c>\boxed{..}</c>, <c>#### ..</c>, <c>The answer is ..</c>), or null.
    /// Unlike <see cref="Extract"/> there is no fallback to the last number or a bare letter, so a reasoning step
    /// that merely mentions a number is not taken for the final answer: tree search uses this to decide that a
    /// step ends the solution.
    /// </summary>
    public static string? ExtractMarked(string text, AnswerKind kind)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        foreach (var marked in MarkedAnswers(text))
        {
            if (Interpret(marked, kind) is { } answer) return answer;
        }
        return null;
    }

    /// <summary>The choice whose text the answer names ("The answer is Paris."), for models that skip the label.</summary>
    internal static string? MatchChoiceText(string text, IReadOnlyList<AnswerChoice> choices)
    {
        foreach (var marked in MarkedAnswers(text))
        {
            string named = ChoiceTextTrimRegex().Replace(marked.Content.Split('\n')[0], "");
            foreach (var choice in choices)
            {
                if (string.Equals(named, choice.Text.Trim(), StringComparison.OrdinalIgnoreCase))
                    return ChoiceAnswer.Normalize(choice.Label) ?? choice.Label;
            }
        }
        return null;
    }

    /// <summary>Answer markers, strongest first.</summary>
    private enum Marker { Boxed, Hashes, AnswerIs }

    private readonly record struct MarkedAnswer(int Position, Marker Marker, string Content);

    /// <summary>Every explicitly marked answer: strongest marker first, then the last written first.</summary>
    private static IEnumerable<MarkedAnswer> MarkedAnswers(string text)
    {
        var found = new List<MarkedAnswer>();
        foreach (Match m in BoxedRegex().Matches(text))
        {
            if (BoxedContent(text, m.Index + m.Length) is { } content)
                found.Add(new MarkedAnswer(m.Index, Marker.Boxed, content));
        }
        foreach (Match m in HashesRegex().Matches(text))
            found.Add(new MarkedAnswer(m.Index, Marker.Hashes, m.Groups["content"].Value));
        foreach (Match m in AnswerIsRegex().Matches(text))
            found.Add(new MarkedAnswer(m.Index, Marker.AnswerIs, m.Groups["content"].Value));
        return found.OrderBy(a => a.Marker).ThenByDescending(a => a.Position);
    }

    /// <summary>The argument of \boxed: a braced group (nested braces allowed) or, unbraced, the next word.</summary>
    private static string? BoxedContent(string text, int start)
    {
        int i = start;
        while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
        if (i < text.Length && text[i] == '{')
        {
            int close = Latex.MatchingBrace(text, i);
            return close < 0 ? null : text[(i + 1)..close];
        }
        int end = i;
        while (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] != '$') end++;
        return end > i ? text[i..end] : null;
    }

    private static string? Interpret(MarkedAnswer marked, AnswerKind kind) => kind switch
    {
        AnswerKind.Number => NumberTokens(marked.Content).FirstOrDefault(),
        AnswerKind.Choice => ChoiceAnswer.FromPhrase(marked.Content),
        AnswerKind.YesNo => YesNoAnswer.FromPhrase(marked.Content),
        _ => marked.Marker == Marker.Boxed ? NonEmpty(marked.Content.Trim()) : MathPhrase(marked.Content),
    };

    /// <summary>
    /// The math in "The answer is ..." text: the first $..$ (or \(..\)) when the phrase starts with one, else the
    /// phrase up to the end of the sentence.
    /// </summary>
    private static string? MathPhrase(string phrase)
    {
        string s = phrase.Trim().Trim('*').Trim();
        var delimited = DelimitedMathRegex().Match(s);
        if (delimited.Success) return NonEmpty(delimited.Groups["math"].Value.Trim());
        var sentenceEnd = SentenceEndRegex().Match(s);
        if (sentenceEnd.Success) s = s[..sentenceEnd.Index];
        return NonEmpty(s.TrimEnd('.', '*', ' '));
    }

    private static string? NonEmpty(string s) => s.Length == 0 ? null : s;

    /// <summary>
    /// The result of the last line's last equation ("… = 15 liters out of the 24 liters" gives 15, not 24): without a
    /// marker, a worked solution states its answer as the outcome of its final computation, and a trailing number is
    /// more often a unit or a count restated than the answer. Null when the last line has no equals sign.
    /// </summary>
    private static string? LastResult(string text)
    {
        var line = text.TrimEnd().Split('\n')[^1];
        int equals = line.LastIndexOf('=');
        return equals < 0 ? null : NumberTokens(line[(equals + 1)..]).FirstOrDefault();
    }

    /// <summary>Numbers as bare tokens, in order of appearance, with "$" and thousands separators dropped.</summary>
    private static IEnumerable<string> NumberTokens(string text)
    {
        string s = LatexFractionRegex().Replace(text.Replace("\\!", "").Replace("{,}", ","), "$1/$2");
        return NumberTokenRegex().Matches(s).Select(m => SpaceDollarCommaRegex().Replace(m.Value, ""));
    }

    private static string? FallbackChoice(string text)
    {
        var parenthesised = ParenthesisedLetterRegex().Matches(text);
        if (parenthesised.Count > 0) return parenthesised[^1].Groups["label"].Value;
        // A reply that names its choice as "C: a farm" or "C) a farm": a capital label, then the choice's text.
        return ChoiceAnswer.Normalize(text) ?? (LabelledChoiceRegex().Match(text) is { Success: true } m ? m.Groups["label"].Value : null);
    }

    /// <summary>A reply that opens with yes/no ("No, because ..."), or a closing line that is only yes/no.</summary>
    private static string? FallbackYesNo(string text)
    {
        if (LeadingYesNoRegex().Match(text) is { Success: true } leading) return YesNoAnswer.FromPhrase(leading.Value);
        var lines = YesNoLineRegex().Matches(text);
        return lines.Count > 0 ? YesNoAnswer.FromPhrase(lines[^1].Value) : null;
    }

    [GeneratedRegex(@"\\(?:boxed|fbox)(?![A-Za-z])")]
    private static partial Regex BoxedRegex();

    [GeneratedRegex(@"####[ \t]*(?=(?<content>[^\n]*))")]
    private static partial Regex HashesRegex();

    // "[\s:*]*" also crosses a line break, so "The answer is:\n\n$$x$$" finds the math on the next line. The content
    // is captured in a lookahead so that it cannot swallow a later "answer is" on the same line.
    [GeneratedRegex(@"\banswer\s*(?:is\b|:)[\s:*]*(?=(?<content>[^\n]*))", RegexOptions.IgnoreCase)]
    private static partial Regex AnswerIsRegex();

    [GeneratedRegex(@"^(?:\$\$(?<math>.+?)\$\$|\$(?<math>.+?)\$|\\\((?<math>.+?)\\\)|\\\[(?<math>.+?)\\\])")]
    private static partial Regex DelimitedMathRegex();

    // A period ends the sentence only when followed by a space: "4.5" and "\ldots" stay whole.
    [GeneratedRegex(@"\.\s")]
    private static partial Regex SentenceEndRegex();

    [GeneratedRegex(@"\\[dt]?frac\s*\{\s*(-?\d+(?:\.\d+)?)\s*\}\s*\{\s*(\d+(?:\.\d+)?)\s*\}")]
    private static partial Regex LatexFractionRegex();

    // A minus sign counts only where it cannot be subtraction ("16-3" has no negative number in it).
    [GeneratedRegex(@"(?<![\w.])(?:(?<![\w)\]])-\s?)?(?:\\?\$\s?)?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:\s?/\s?\d+(?:\.\d+)?)?(?:\s?%)?(?![\d])")]
    private static partial Regex NumberTokenRegex();

    [GeneratedRegex(@"[\s$,\\]")]
    private static partial Regex SpaceDollarCommaRegex();

    [GeneratedRegex(@"\((?<label>[A-E])\)")]
    private static partial Regex ParenthesisedLetterRegex();

    [GeneratedRegex(@"^\s*(?<label>[A-E])\s*[:)]\s+\S")]
    private static partial Regex LabelledChoiceRegex();

    [GeneratedRegex(@"^\W*(?:yes|no)\b", RegexOptions.IgnoreCase)]
    private static partial Regex LeadingYesNoRegex();

    [GeneratedRegex(@"^\W*(?:yes|no)\W*$", RegexOptions.IgnoreCase | RegexOptions.Multiline)]
    private static partial Regex YesNoLineRegex();

    [GeneratedRegex(@"^[\s*""'(]+|[\s*""'.!)]+$")]
    private static partial Regex ChoiceTextTrimRegex();
}
