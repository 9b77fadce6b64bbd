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
}
