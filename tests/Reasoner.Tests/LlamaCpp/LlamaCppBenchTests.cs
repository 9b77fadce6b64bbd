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

    [Fact]
    public async Task TheBenchCommandTimesLlamaCppAloneAndPrintsJson()
    {
        using var tiny = new TinyGguf("llama-tied");
        var ids = string.Join(',', tiny.Tokenizer.Encode("Question: What is 12 + 35?"));
        var r = await Reasoner.Tests.Cli.CliRunner.Run("bench", "llama-cpp", tiny.GgufPath, "--prompt-ids", ids, "--new-tokens", "5", "--rows", "2",
            "--threads", "1", "--repeat", "1", "--json");
        Assert.True(r.ExitCode == 0, r.Err);
        using var json = System.Text.Json.JsonDocument.Parse(r.Out.Trim().Split('\n')[^1]);
        Assert.Equal(5, json.RootElement.GetProperty("NewTokens").GetInt32());
        Assert.Equal(2, json.RootElement.GetProperty("Rows").GetInt32());
        Assert.True(json.RootElement.GetProperty("TokensPerSecond").GetDouble() > 0);

        var badIds = await Reasoner.Tests.Cli.CliRunner.Run("bench", "llama-cpp", tiny.GgufPath, "--prompt-ids", "1,x");
        Assert.NotEqual(0, badIds.ExitCode);
        Assert.Contains("'x' is not a token id", badIds.Err);
        var noFile = await Reasoner.Tests.Cli.CliRunner.Run("bench", "llama-cpp", "/no/such.gguf", "--prompt-ids", "1");
        Assert.NotEqual(0, noFile.ExitCode);
        Assert.Contains("GGUF file not found", noFile.Err);
    }
}
