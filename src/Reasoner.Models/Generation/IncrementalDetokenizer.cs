using System.Text;
using Reasoner.Models.Tokenization;

namespace Reasoner.Models.Generation;

/// <summary>
/// Turns a growing token sequence into text a piece at a time, so stop strings can be checked after every token
/// without decoding the whole sequence again. Byte-level BPE splits multi-byte characters across tokens: text is
/// held back while its decoding ends in a replacement character, and released once the next tokens complete the
/// character (vLLM's incremental detokenization). Only a short window of recent tokens is decoded each time.
/// </summary>
internal sealed class IncrementalDetokenizer(ITextTokenizer tokenizer)
{
    // A UTF-8 character has at most 4 bytes: a replacement character still pending after this many tokens is real.
    private const int MaxPendingTokens = 4;

    private readonly List<int> tokens = [];
    private readonly StringBuilder text = new();
    private int windowStart, pendingStart; // tokens [windowStart, pendingStart) are in the text; [pendingStart, ..) not yet

    public int Length => text.Length;

    /// <summary>
    /// Each token's own text, as servers report it (<c>logprobs.tokens</c>, whose lengths make <c>text_offset</c>): the
    /// characters that token released, a token inside a multi-byte character getting "" and the one completing it the
    /// character. The pieces concatenate to the decoded text.
    /// </summary>
    public static string[] Pieces(ITextTokenizer tokenizer, IReadOnlyList<int> ids)
    {
        var detokenizer = new IncrementalDetokenizer(tokenizer);
        var ends = ids.Select(id => { detokenizer.Append(id); return detokenizer.Length; }).ToList();
        detokenizer.Flush();
        return Pieces(detokenizer.Text, ends);
    }

    /// <param name="text">The whole text, flushed.</param>
    /// <param name="ends">The text's length after each token, before the flush: what a flush releases belongs to the last token.</param>
    public static string[] Pieces(string text, IReadOnlyList<int> ends)
    {
        var pieces = new string[ends.Count];
        for (int i = 0, start = 0; i < ends.Count; i++)
        {
            int end = i == ends.Count - 1 ? text.Length : ends[i];
            pieces[i] = text[start..end];
            start = end;
        }
        return pieces;
    }

    public string Text => text.ToString();

    public string Substring(int start) => text.ToString(start, text.Length - start);

    /// <summary>Adds a token; returns how many characters it added to <see cref="Text"/> (0 while a character is incomplete).</summary>
    public int Append(int token)
    {
        tokens.Add(token);
        bool complete = tokens.Count - pendingStart >= MaxPendingTokens;
        return Release(complete);
    }

    /// <summary>Releases whatever is still held back (the sequence is over).</summary>
    public void Flush() => Release(complete: true);

    private int Release(bool complete)
    {
        string before = Decode(windowStart, pendingStart), after = Decode(windowStart, tokens.Count);
        if (after.Length <= before.Length || (!complete && after.EndsWith('\uFFFD'))) return 0;
        text.Append(after, before.Length, after.Length - before.Length);
        // The window keeps the last released token as context for decoders that depend on the token before.
        windowStart = pendingStart;
        pendingStart = tokens.Count;
        return after.Length - before.Length;
    }

    private string Decode(int start, int end) =>
        start == end ? "" : tokenizer.Decode(tokens.GetRange(start, end - start));
}
