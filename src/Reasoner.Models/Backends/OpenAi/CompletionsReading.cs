using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Reasoner.Models.Backends.OpenAi;

/// <summary>A choice's tokens as the server reported them; any list may be empty when the server left it out.</summary>
sealed record TokenRun(IReadOnlyList<string> Texts, IReadOnlyList<int> Ids, IReadOnlyList<double?> LogProbs, IReadOnlyList<int>? Offsets)
{
    static readonly TokenRun Empty = new([], [], [], null);

    public static TokenRun Of(CompletionLogProbsBody? logprobs)
    {
        if (logprobs is null) return Empty;
        if (logprobs.Content is { } content)
        {
            var ids = content.All(t => t.Id is not null) ? content.Select(t => t.Id!.Value).ToList() : [];
            return new TokenRun([.. content.Select(t => t.Token)], ids, [.. content.Select(t => t.Logprob)], null);
        }
        var tokens = logprobs.Tokens ?? [];
        var values = logprobs.TokenLogprobs ?? [];
        var spelledAsIds = tokens.Count > 0 && tokens.All(t => t.StartsWith(TokenIdSpelling.Prefix, StringComparison.Ordinal));
        // Ids spelled as text have no text of their own, and vLLM's offsets count the spelling's characters.
        return spelledAsIds
            ? new TokenRun([], [.. tokens.Select(t => int.Parse(t.AsSpan(TokenIdSpelling.Prefix.Length), CultureInfo.InvariantCulture))], values, null)
            : new TokenRun(tokens, [], values, logprobs.TextOffset);
    }

    /// <summary>
    /// Log-probs as <see cref="Completion"/> and <see cref="ScoredContinuation"/> hold them. A null is a text's very
    /// first token, which servers give no log-prob (nothing conditions it); it counts as 0.
    /// </summary>
    public IReadOnlyList<double> LogProbValues => [.. LogProbs.Select(v => v ?? 0.0)];

    public TokenRun Slice(int start, int end) => new(
        Texts.Count > 0 ? [.. Texts.Skip(start).Take(end - start)] : [],
        Ids.Count > 0 ? [.. Ids.Skip(start).Take(end - start)] : [],
        [.. LogProbs.Skip(start).Take(end - start)],
        Offsets is null ? null : [.. Offsets.Skip(start).Take(end - start)]);
}

/// <summary>How the client reads what a completions server sends back.</summary>
static partial class CompletionsReading
{
    /// <summary>
    /// <c>length</c> is the token limit. <c>stop</c> is either a stop string or end of sequence: vLLM tells them apart
    /// with <c>stop_reason</c> (null for end of sequence). Servers without it (llama.cpp, SGLang) leave a guess:
    /// end of sequence when the last token is a special token (<c>&lt;/s&gt;</c>, <c>&lt;|im_end|&gt;</c>) or empty
    /// (how llama.cpp renders it) or when no stop string was asked for; otherwise a stop string. Any other reason
    /// (<c>abort</c>, <c>content_filter</c>) means the text stopped before it was finished, as at the token limit.
    /// </summary>
    public static FinishReason Finish(CompletionChoiceBody choice, TokenRun tokens, bool stopStringsRequested) => choice.FinishReason switch
    {
        "stop" => choice.StopReason.ValueKind switch
        {
            JsonValueKind.Null => FinishReason.EndOfSequence,
            JsonValueKind.Undefined => tokens.Texts.Count > 0 && LooksLikeEndOfSequence(tokens.Texts[^1]) || !stopStringsRequested
                ? FinishReason.EndOfSequence
                : FinishReason.Stop,
            _ => FinishReason.Stop,
        },
        _ => FinishReason.Length,
    };

    static bool LooksLikeEndOfSequence(string token) => token.Length == 0 || SpecialToken().IsMatch(token);

    [GeneratedRegex(@"^<(\|[^|\s]+\||/s|eos|end_of_text)>$")]
    private static partial Regex SpecialToken();

    /// <summary>
    /// The continuation's tokens out of an echoed prompt+continuation. The echoed part is the first
    /// <paramref name="echoedTokens"/> tokens (usage.prompt_tokens; a generated token may follow). Offsets are
    /// re-based so that the echoed part ends where the text does: vLLM counts a BOS token's text ("&lt;s&gt;") in
    /// its offsets, which shifts every later one. A token that straddles the prompt/continuation boundary (the
    /// tokenizer merged across it) belongs to the continuation, since its log-prob covers continuation text.
    /// </summary>
    public static TokenRun EchoedContinuation(TokenRun echoed, int? echoedTokens, string wholeText, int continuationLength)
    {
        var offsets = echoed.Offsets ?? throw new InvalidDataException("the server returned no logprobs.text_offset for an echoed prompt; scoring needs a server that supports echo with logprobs");
        var count = Math.Min(echoedTokens ?? offsets.Count(o => o < wholeText.Length), offsets.Count);
        if (count == 0) return echoed.Slice(0, 0);
        var end = count < offsets.Count ? offsets[count]
            : echoed.Texts.Count == offsets.Count ? offsets[count - 1] + echoed.Texts[count - 1].Length
            : wholeText.Length;
        var boundary = end - continuationLength;
        var first = 0;
        while (first < count && TokenEnd(first) <= boundary) first++;
        return echoed.Slice(first, count);

        int TokenEnd(int i) => i + 1 < count ? offsets[i + 1] : end;
    }

    /// <summary>The server's own words about a failure: <c>error.message</c>, <c>error</c>, <c>message</c> or <c>detail</c>, else the body.</summary>
    public static string ServerMessage(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            var root = json.RootElement;
            if (root.ValueKind == JsonValueKind.Object)
            {
                if (root.TryGetProperty("error", out var error))
                {
                    if (error.ValueKind == JsonValueKind.String) return error.GetString()!;
                    if (error.ValueKind == JsonValueKind.Object && error.TryGetProperty("message", out var m) && m.ValueKind == JsonValueKind.String) return m.GetString()!;
                }
                foreach (var name in (string[])["message", "detail"])
                    if (root.TryGetProperty(name, out var m) && m.ValueKind == JsonValueKind.String) return m.GetString()!;
            }
        }
        catch (JsonException)
        {
            // Not JSON: a proxy's HTML page or plain text; shown as it is.
        }
        var text = body.Trim().ReplaceLineEndings(" ");
        return text.Length <= 300 ? text : text[..300] + "…";
    }

    /// <summary>
    /// The context window and the prompt's length in tokens from a server's refusal of a too-long request, as vLLM words
    /// it ("maximum context length is 320 tokens … (301 in the prompt, 384 in the completion)"; older vLLM says
    /// "messages"); null when the message is about something else.
    /// </summary>
    public static (int Context, int PromptTokens)? ContextOverflow(string? message)
    {
        if (message is null) return null;
        var context = System.Text.RegularExpressions.Regex.Match(message, @"maximum context length is (\d+) tokens");
        var prompt = System.Text.RegularExpressions.Regex.Match(message, @"\((\d+) in the (?:prompt|messages|input)");
        return context.Success && prompt.Success
            ? (int.Parse(context.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(prompt.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture))
            : null;
    }
}
