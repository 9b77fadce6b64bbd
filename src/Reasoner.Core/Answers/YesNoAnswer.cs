using System.Text.RegularExpressions;

namespace Reasoner.Core.Answers;

/// <summary>Yes/no answers, canonically "yes" or "no"; true/false count as yes/no.</summary>
internal static partial class YesNoAnswer
{
    /// <summary>The canonical form of the first word of <paramref name="text"/>, or null when it is not yes/no.</summary>
    public static string? FromPhrase(string text)
    {
        var word = WordRegex().Match(text);
        return word.Success ? Canonical(word.Value) : null;
    }

    /// <summary>The canonical form of a whole answer ("Yes.", "\text{No}", "TRUE"), or null.</summary>
    public static string? Normalize(string text)
    {
        var words = WordRegex().Matches(text);
        return words.Count == 1 ? Canonical(words[0].Value) : null;
    }

    private static string? Canonical(string word) => word.ToLowerInvariant() switch
    {
        "yes" or "true" => "yes",
        "no" or "false" => "no",
        _ => null,
    };

    // Letters not belonging to a LaTeX command, so "\text{Yes}" yields "Yes" and not "text".
    [GeneratedRegex(@"(?<![\\A-Za-z])[A-Za-z]+")]
    private static partial Regex WordRegex();
}
