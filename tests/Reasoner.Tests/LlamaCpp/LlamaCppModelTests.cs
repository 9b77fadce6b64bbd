using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Gguf;
using Reasoner.Tests.Models;
using static Reasoner.Tests.LlamaCpp.LlamaCppCrossCheckTests;

namespace Reasoner.Tests.LlamaCpp;

/// <summary>The <see cref="ILanguageModel"/> behaviour of <see cref="LlamaCppModel"/>, checked against the TorchSharp forward.</summary>
public sealed class LlamaCppModelTests : IDisposable
{
    private const string Prompt = "Question: What is 100 / 4 + 3?\nStep 1:";
    private readonly TinyGguf tiny = new("llama-untied-padded-vocab");

    public void Dispose() => tiny.Dispose();

    /// <summary>The TorchSharp log-probabilities of <paramref name="tokens"/> after <paramref name="prompt"/>'s tokens.</summary>
    private List<double> TorchLogProbs(string prompt, IReadOnlyList<int> tokens)
    {
        var ids = tiny.Tokenizer.Encode(prompt).Concat(tokens).ToArray();
        var rows = tiny.TorchLogProbs(ids);
        int start = ids.Length - tokens.Count;
        return tokens.Select((token, i) => rows[start + i - 1][token]).ToList();
    }

    [Fact]
    public async Task SampledSiblingsShareThePromptAndCarryTheModelsLogProbs()
    {
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        var completions = await llama.CompleteAsync(new CompletionRequest(Prompt, N: 6, MaxTokens: 12) { Seed = 42, Temperature = 1.0 });

        Assert.Equal(6, completions.Count);
        Assert.True(completions.Select(c => string.Join(",", c.TokenIds)).Distinct().Count() > 1, "six samples at temperature 1 should not all be equal");
        foreach (var c in completions)
        {
            Assert.Equal(c.TokenIds.Count, c.TokenLogProbs.Count);
            AssertClose(TorchLogProbs(Prompt, c.TokenIds), c.TokenLogProbs, 1e-4);
            if (c.Finish == FinishReason.Length) Assert.Equal(tiny.Tokenizer.Decode(c.TokenIds), c.Text);
        }
    }

    [Fact]
    public async Task ASeedReproducesTheSamplesWhateverRanBefore()
    {
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        var request = new CompletionRequest(Prompt, N: 4, MaxTokens: 10) { Seed = 7, Temperature = 0.9, TopP = 0.95 };
        var first = await llama.CompleteAsync(request);
        await llama.CompleteAsync(new CompletionRequest("Question: Is (true and not false) or false?", N: 3, MaxTokens: 5) { Seed = 1 });
        var again = await llama.CompleteAsync(request);
        var otherSeed = await llama.CompleteAsync(request with { Seed = 8 });

        Assert.Equal(first.Select(c => c.TokenIds), again.Select(c => c.TokenIds));
        Assert.NotEqual(first.Select(c => string.Join(",", c.TokenIds)), otherSeed.Select(c => string.Join(",", c.TokenIds)));
    }

    [Fact]
    public async Task TemperatureZeroIsGreedyForEverySibling()
    {
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        var (greedy, _, _) = tiny.TorchGreedy(tiny.Tokenizer.Encode(Prompt), 8);
        var completions = await llama.CompleteAsync(new CompletionRequest(Prompt, N: 3, MaxTokens: 8) { Temperature = 0 });
        Assert.All(completions, c => Assert.Equal(greedy, c.TokenIds));
    }

    [Fact]
    public async Task AStopStringEndsTheTextBeforeItAndKeepsTheTokenThatCompletedIt()
    {
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        var request = new CompletionRequest(Prompt, N: 1, MaxTokens: 24) { Temperature = 0 };
        var full = Assert.Single(await llama.CompleteAsync(request));
        // An ASCII character from the middle of the greedy text: never part of a multi-byte character.
        int at = Enumerable.Range(4, full.Text.Length - 4).First(i => full.Text[i] is > ' ' and < '\x7f');
        string stop = full.Text[at].ToString();
        string expectedText = full.Text[..full.Text.IndexOf(stop, StringComparison.Ordinal)];

        var stopped = Assert.Single(await llama.CompleteAsync(request with { Stop = ["never appears \u0001", stop] }));
        Assert.Equal(FinishReason.Stop, stopped.Finish);
        Assert.Equal(expectedText, stopped.Text);
        Assert.Equal(full.TokenIds.Take(stopped.TokenCount), stopped.TokenIds);
        Assert.Contains(stop, tiny.Tokenizer.Decode(stopped.TokenIds));
        Assert.DoesNotContain(stop, tiny.Tokenizer.Decode(stopped.TokenIds.Take(stopped.TokenCount - 1)));
    }

    [Fact]
    public async Task TheEndOfSequenceTokenEndsACompletionWithItsLogProbAndNoText()
    {
        // The same weights with the greedy path's first token as EOS, so generation must end right after it.
        var (greedy, logProbs, _) = tiny.TorchGreedy(tiny.Tokenizer.Encode(Prompt), 1);
        using var dir = new TestData.TempDirectory();
        foreach (var file in Directory.GetFiles(tiny.CheckpointDirectory, "*.json").Append(Path.Combine(tiny.CheckpointDirectory, "model.safetensors")))
            File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        var configPath = Path.Combine(dir.Path, "config.json");
        File.WriteAllText(configPath, (ModelConfig.Load(configPath) with { EosTokenIds = [greedy[0]] }).ToJson());
        var gguf = GgufExporter.Export(dir.Path, Path.Combine(dir.Path, "eos.gguf")).Path;
        using var llama = LlamaCppModel.Load(gguf);
        var c = Assert.Single(await llama.CompleteAsync(new CompletionRequest(Prompt, N: 1, MaxTokens: 16) { Temperature = 0 }));
        Assert.Equal(FinishReason.EndOfSequence, c.Finish);
        Assert.Equal([greedy[0]], c.TokenIds);
        Assert.Equal("", c.Text);
        AssertClose(logProbs, c.TokenLogProbs, 1e-4);
    }

    [Fact]
    public async Task ScoresMatchTheTorchForwardAcrossSequenceGroupsAndBatchChunks()
    {
        // Two sequences and eight-token batches force several groups and continuations split across decodes.
        using var llama = LlamaCppModel.Load(tiny.GgufPath, new LlamaCppOptions { MaxSequences = 2, BatchSize = 8 });
        string[] continuations =
        [
            " 100 / 4 = 25.", "", "\nStep 2: 25 + 3 = 28.\nAnswer: 28 and then some more text to pass eight tokens", " x",
        ];
        var scored = await llama.ScoreAsync(Prompt, continuations);

        Assert.Equal(continuations, scored.Select(s => s.Continuation));
        foreach (var s in scored)
        {
            Assert.Equal(tiny.Tokenizer.Encode(s.Continuation), s.TokenIds);
            AssertClose(TorchLogProbs(Prompt, s.TokenIds), s.TokenLogProbs, 1e-4);
        }
    }

    [Fact]
    public async Task ReusingTheCachedPrefixGivesWhatAFreshModelGives()
    {
        using var warm = LlamaCppModel.Load(tiny.GgufPath);
        var parent = Assert.Single(await warm.CompleteAsync(new CompletionRequest(Prompt, MaxTokens: 6) { Temperature = 0 }));
        string child = Prompt + parent.Text;
        await warm.ScoreAsync(child, [" 25 + 3"]);
        await warm.CompleteAsync(new CompletionRequest(Prompt[..10], MaxTokens: 3) { Temperature = 0 }); // shorter than the cache
        var warmResult = Assert.Single(await warm.CompleteAsync(new CompletionRequest(child, MaxTokens: 8) { Temperature = 0 }));

        using var fresh = LlamaCppModel.Load(tiny.GgufPath);
        var freshResult = Assert.Single(await fresh.CompleteAsync(new CompletionRequest(child, MaxTokens: 8) { Temperature = 0 }));
        Assert.Equal(freshResult.TokenIds, warmResult.TokenIds);
        AssertClose(freshResult.TokenLogProbs, warmResult.TokenLogProbs, 1e-5);
    }

    [Fact]
    public async Task ConcurrentRequestsGetTheirOwnResults()
    {
        using var llama = LlamaCppModel.Load(tiny.GgufPath);
        string[] prompts = ["Question: What is 12 + 35?\n", "Question: What is 9 * 8 - 5?\n", Prompt, "Answer:"];
        var sequential = new List<IReadOnlyList<int>>();
        foreach (var p in prompts) sequential.Add((await llama.CompleteAsync(new CompletionRequest(p, N: 2, MaxTokens: 6) { Temperature = 0 }))[1].TokenIds);

        var concurrent = await Task.WhenAll(prompts.Select(p => Task.Run(() => llama.CompleteAsync(new CompletionRequest(p, N: 2, MaxTokens: 6) { Temperature = 0 }))));
        Assert.Equal(sequential, concurrent.Select(c => c[1].TokenIds));
    }

    [Fact]
    public async Task RequestsItCannotServeFailWithAReasonAndLeaveTheModelUsable()
    {
        using var llama = LlamaCppModel.Load(tiny.GgufPath, new LlamaCppOptions { ContextSize = 64, MaxSequences = 4 });
        await Assert.ThrowsAsync<ArgumentException>(() => llama.CompleteAsync(new CompletionRequest(Prompt, N: 5)));
        await Assert.ThrowsAsync<ArgumentException>(() => llama.CompleteAsync(new CompletionRequest("", N: 1)));
        var tooLong = await Assert.ThrowsAsync<ArgumentException>(() => llama.CompleteAsync(new CompletionRequest(Prompt, N: 4, MaxTokens: 16)));
        Assert.Contains("context size 64", tooLong.Message);
        Assert.Single(await llama.CompleteAsync(new CompletionRequest(Prompt, N: 1, MaxTokens: 4)));
        Assert.Throws<FileNotFoundException>(() => LlamaCppModel.Load(tiny.GgufPath + ".missing"));
    }
}
