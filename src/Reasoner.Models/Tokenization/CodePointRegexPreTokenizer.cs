using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace Reasoner.Models.Tokenization;

/// <summary>
/// HF's Split pre-tokenizer (behavior Isolated) with added tokens cut out first, as HF tokenizers does.
/// HF matches its regex over code points; a .NET regex sees UTF-16 units, so a letter outside the BMP
/// (𝑥, 𝒜, CJK extension B) would fail \p{L} and split differently ("the 𝑥-axis" must give " 𝑥" + "-axis").
/// The regex therefore runs over a stand-in copy of the text in which each surrogate pair that is a letter or
/// number becomes two BMP characters of that category; offsets are the same in both strings.
/// </summary>
internal sealed class CodePointRegexPreTokenizer : PreTokenizer
{
    private readonly Regex split;
    private readonly Regex? addedTokens;

    public CodePointRegexPreTokenizer(Regex split, IEnumerable<string> addedTokens)
    {
        this.split = split;
        var alternatives = addedTokens.OrderByDescending(t => t.Length).Select(Regex.Escape).ToList();
        if (alternatives.Count > 0) this.addedTokens = new Regex(string.Join("|", alternatives), RegexOptions.Compiled);
    }

    public override IEnumerable<(int Offset, int Length)> PreTokenize(string text) => Pieces(text);

    public override IEnumerable<(int Offset, int Length)> PreTokenize(ReadOnlySpan<char> text) => Pieces(text.ToString());

    private List<(int Offset, int Length)> Pieces(string text)
    {
        var pieces = new List<(int, int)>();
        int start = 0;
        if (addedTokens is not null)
            foreach (Match m in addedTokens.Matches(text))
            {
                SplitSegment(text, start, m.Index, pieces);
                pieces.Add((m.Index, m.Length));
                start = m.Index + m.Length;
            }
        SplitSegment(text, start, text.Length, pieces);
        return pieces;
    }

    private void SplitSegment(string text, int start, int end, List<(int, int)> pieces)
    {
        if (end <= start) return;
        string segment = text[start..end];
        int cursor = 0, pendingStart = -1;
        void Emit(int from, int to)
        {
            if (pendingStart >= 0) from = pendingStart;
            // A piece may not end between the halves of a surrogate pair (a number stand-in can split there).
            if (to < segment.Length && char.IsLowSurrogate(segment[to]))
            {
                pendingStart = from;
                return;
            }
            pieces.Add((start + from, to - from));
            pendingStart = -1;
        }
        foreach (Match m in split.Matches(StandIn(segment)))
        {
            if (m.Index > cursor) Emit(cursor, m.Index); // Isolated keeps unmatched text as pieces too
            Emit(m.Index, m.Index + m.Length);
            cursor = m.Index + m.Length;
        }
        if (cursor < segment.Length) Emit(cursor, segment.Length);
    }

    private static string StandIn(string s)
    {
        if (!s.Any(char.IsSurrogate)) return s;
        var b = new StringBuilder(s);
        for (int i = 0; i + 1 < s.Length; i++)
        {
            if (!char.IsSurrogatePair(s[i], s[i + 1])) continue;
            char? standIn = CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(s[i], s[i + 1])) switch
            {
                UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                    or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => 'a',
                UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => '0',
                _ => null, // symbols such as emoji are neither \s, \p{L} nor \p{N}, as their surrogates already are
            };
            if (standIn is { } c) b[i] = b[i + 1] = c;
            i++;
        }
        return b.ToString();
    }
}
