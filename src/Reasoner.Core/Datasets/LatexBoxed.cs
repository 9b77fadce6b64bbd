namespace Reasoner.Core.Datasets;

/// <summary>Finds <c>\boxed{...}</c> answers in LaTeX, where the braces nest and can be escaped.</summary>
internal static class LatexBoxed
{
    private static readonly string[] Commands = [@"\boxed{", @"\fbox{"];

    /// <summary>The content of the last <c>\boxed{}</c> (or <c>\fbox{}</c>), or null when there is none or it never closes.</summary>
    public static string? Last(string latex)
    {
        var start = Commands.Max(c => latex.LastIndexOf(c, StringComparison.Ordinal) is var i and >= 0 ? i + c.Length : -1);
        if (start < 0) return null;
        var end = MatchingBrace(latex, start);
        return end < 0 ? null : latex[start..end];
    }

    /// <summary>
    /// The index of the '}' closing the group whose content starts at <paramref name="contentStart"/>, or -1.
    /// A backslash escapes the next character, so <c>\{</c> and <c>\}</c> are literal braces and <c>\\{</c> opens a group.
    /// </summary>
    public static int MatchingBrace(string latex, int contentStart)
    {
        var depth = 1;
        for (var i = contentStart; i < latex.Length; i++)
        {
            switch (latex[i])
            {
                case '\\': i++; break;
                case '{': depth++; break;
                case '}' when --depth == 0: return i;
            }
        }
        return -1;
    }
}
