using Reasoner.Models.Backends;

namespace Reasoner.Tests.LlamaCpp;

public class LlamaCppBenchTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void MeasuresPrefillAndDecodeOfAGreedyLoop(int k)
    {
        using var tiny = new TinyGguf("llama-tied");
        var prompt = tiny.Tokenizer.Encode("Question: What is 12 + 35?\nStep 1:");
        var result = LlamaCppBench.MeasureTokensPerSecond(tiny.GgufPath, prompt, newTokens: 20, k: k, repeats: 2);
        Assert.Equal((prompt.Length, 20, k), (result.PromptTokens, result.NewTokens, result.Sequences));
        Assert.True(result.Prefill > TimeSpan.Zero && result.Decode > TimeSpan.Zero);
        Assert.True(result.DecodeTokensPerSecond > result.TokensPerSecond && result.TokensPerSecond > 0);
        Assert.Equal(k * 20 / result.Decode.TotalSeconds, result.DecodeTokensPerSecond, 6);
    }

    [Fact]
    public void A_prefill_shared_by_copying_the_cache_decodes_what_a_prefill_per_sequence_does()
    {
        using var tiny = new TinyGguf("llama-tied");
        var prompt = tiny.Tokenizer.Encode("Question: What is 12 + 35?\nStep 1:");
        var shared = LlamaCppBench.MeasureTokensPerSecond(tiny.GgufPath, prompt, newTokens: 12, k: 4, prefill: LlamaCppPrefill.Shared);
        var perSequence = LlamaCppBench.MeasureTokensPerSecond(tiny.GgufPath, prompt, newTokens: 12, k: 4, prefill: LlamaCppPrefill.PerSequence);
        Assert.Equal(perSequence.Tokens, shared.Tokens);
        Assert.All(shared.Tokens, t => Assert.Equal(shared.Tokens[0], t)); // greedy from one prompt: every sequence alike
    }
}
