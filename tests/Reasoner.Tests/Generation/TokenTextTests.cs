using Reasoner.Models.Backends;

namespace Reasoner.Tests.Generation;

/// <summary>
/// The engine reports each token's text (what servers put in <c>logprobs.tokens</c> and <c>text_offset</c>), and scores a
/// text with no prompt as OpenAI's echo does: the first token unconditioned, the rest given it.
/// </summary>
public class TokenTextTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    [Fact]
    public async Task CompletionTokenTextsConcatenateToTheTextAndTheStopString()
    {
        using var engine = checkpoint.Engine();
        var completions = await engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, N: 4, MaxTokens: 12) { Stop = ["+"], Seed = 3 });

        foreach (var c in completions)
        {
            Assert.Equal(c.TokenIds.Count, c.TokenTexts.Count);
            var joined = string.Concat(c.TokenTexts);
            Assert.StartsWith(c.Text, joined);
            if (c.Finish == FinishReason.Stop) Assert.Contains("+", joined[c.Text.Length..]);
            else Assert.Equal(c.Text, joined);
        }
    }

    [Fact]
    public async Task ScoringWithoutAPromptLeavesTheFirstTokenUnscoredAndConditionsTheRestOnIt()
    {
        using var engine = checkpoint.Engine();
        const string text = "Question: What is 12 + 35?";
        var ids = engine.Tokenizer.Encode(text);

        var echoed = Assert.Single(await engine.ScoreAsync("", [text]));
        var rest = await engine.ScoreTokensAsync([ids[0]], [ids[1..]]);

        Assert.Equal(ids, echoed.TokenIds);
        Assert.Equal(text, string.Concat(echoed.TokenTexts));
        Assert.True(double.IsNaN(echoed.TokenLogProbs[0]));
        for (int i = 1; i < ids.Length; i++) Assert.Equal(rest[0][i - 1], echoed.TokenLogProbs[i], 1e-5);
    }
}
