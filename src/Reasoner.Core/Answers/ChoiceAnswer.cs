using System.Text.RegularExpressions;

namespace Reasoner.Core.Answers;

/// <summary>Multiple-choice labels: letters, case-insensitive, with digits 1–5 standing for A–E.</summary>
internal static partial class ChoiceAnswer
{
    /// <summary>The canonical label of a whole answer ("(c)", "C)", "C.", "\text{(C)}", "Option C", "3"), or null.</summary>
    public static string? Normalize(string text)
    {
        var m = LabelRegex().Match(Unwrap(text));
        return m.Success ? Canonical(m.Groups["label"].Value[0]) : null;
    }

    /// <summary>
    /// The label at the start of an answer phrase ("(C) Paris", "C, because", "b."). A lower-case letter followed by
    /// more words is the English article in "the answer is a bird", not option A.
    /// </summary>
    public static string? FromPhrase(string phrase)
    {
        var m = PhraseRegex().Match(Unwrap(phrase));
        if (!m.Success) return null;
        char label = m.Groups["label"].Value[0];
        if (char.IsAsciiLetterLower(label) && !m.Groups["paren"].Success && ArticleTailRegex().IsMatch(m.Groups["rest"].Value))
            return null;
        return Canonical(label);
    }

    private static string Canonical(char label) =>
        label is >= '1' and <= '5' ? ((char)('A' + label - '1')).ToString() : char.ToUpperInvariant(label).ToString();

    private static string Unwrap(string text) =>
        TextCommandRegex().Replace(text, "$1").Replace("$", "").Replace("*", "").Trim();

    [GeneratedRegex(@"\\(?:text|textbf|mathrm|mbox|boxed)\s*\{([^{}]*)\}")]
    private static partial Regex TextCommandRegex();

    [GeneratedRegex(@"^(?:(?:option|choice)\s*)?\(?\s*(?<label>[A-Za-z]|[1-9])\s*\)?\s*[.:)]?$", RegexOptions.IgnoreCase)]
    private static partial Regex LabelRegex();

    [GeneratedRegex(@"^[\s:]*(?:(?:option|choice)\s*)?(?<paren>\()?(?<label>[A-Ea-e1-5])(?(paren)\)|(?![A-Za-z0-9]))(?<rest>.*)", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex PhraseRegex();

    [GeneratedRegex(@"^\s+[A-Za-z]")]
    private static partial Regex ArticleTailRegex();
}
