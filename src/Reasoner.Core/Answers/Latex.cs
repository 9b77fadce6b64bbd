namespace Reasoner.Core.Answers;

/// <summary>Brace-aware scanning shared by the extractor, the normaliser and the structural splitter.</summary>
internal static class Latex
{
    /// <summary>
    /// Index of the '}' closing the '{' at <paramref name="open"/>, or -1 when the text ends first.
    /// Escaped braces (\{ \}) are skipped so set notation inside an argument does not confuse the count.
    /// </summary>
    public static int MatchingBrace(string s, int open)
    {
        int depth = 0;
        for (int i = open; i < s.Length; i++)
        {
            switch (s[i])
            {
                case '\\': i++; break;
                case '{': depth++; break;
                case '}' when --depth == 0: return i;
            }
        }
        return -1;
    }

    /// <summary>
    /// Reads one macro argument starting at <paramref name="start"/> (after optional spaces): a braced group, or,
    /// as TeX allows, a single character or control word (<c>\frac12</c>, <c>\sqrt2</c>, <c>\frac\pi2</c>).
    /// Returns the argument text without braces and the index just after it, or null when there is none.
    /// </summary>
    public static (string Text, int End)? ReadArgument(string s, int start)
    {
        int i = start;
        while (i < s.Length && char.IsWhiteSpace(s[i])) i++;
        if (i >= s.Length) return null;
        if (s[i] == '{')
        {
            int close = MatchingBrace(s, i);
            return close < 0 ? null : (s[(i + 1)..close], close + 1);
        }
        if (s[i] == '\\')
        {
            int j = i + 1;
            while (j < s.Length && char.IsAsciiLetter(s[j])) j++;
            if (j == i + 1) return null;
            return (s[i..j], j);
        }
        return s[i] is '}' or '^' or '_' or '&' ? null : (s[i].ToString(), i + 1);
    }

    /// <summary>
    /// Splits at <paramref name="separator"/> where it is outside every bracket. Brackets are counted without
    /// caring about their kind, because half-open intervals like <c>[1,2)</c> pair a '[' with a ')'.
    /// </summary>
    public static List<string> SplitTopLevel(string s, string separator)
    {
        var parts = new List<string>();
        int depth = 0, last = 0;
        for (int i = 0; i < s.Length; i++)
        {
            char c = s[i];
            if (c is '(' or '[' or '{') depth++;
            else if (c is ')' or ']' or '}') depth--;
            else if (depth == 0 && string.CompareOrdinal(s, i, separator, 0, separator.Length) == 0
                     && !IsInsideControlWord(s, i, separator))
            {
                parts.Add(s[last..i]);
                i += separator.Length - 1;
                last = i + 1;
            }
        }
        parts.Add(s[last..]);
        return parts;
    }

    /// <summary>Index of the bracket closing the one at <paramref name="open"/>, of any kind, or -1.</summary>
    public static int MatchingBracket(string s, int open)
    {
        int depth = 0;
        for (int i = open; i < s.Length; i++)
        {
            if (s[i] is '(' or '[' or '{') depth++;
            else if (s[i] is ')' or ']' or '}' && --depth == 0) return i;
        }
        return -1;
    }

    // "\cup" must not match inside "\cupcake", and "," must not match the comma of the spacing command "\,".
    private static bool IsInsideControlWord(string s, int i, string separator)
    {
        if (char.IsAsciiLetter(separator[^1]))
        {
            int end = i + separator.Length;
            return end < s.Length && char.IsAsciiLetter(s[end]);
        }
        return separator[0] != '\\' && i > 0 && s[i - 1] == '\\';
    }
}
