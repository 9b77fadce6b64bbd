using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Tests.Models;

namespace Reasoner.Tests.Generation;

/// <summary>Stop strings, end of sequence and the token limit each end a row with the right reason, text and tokens.</summary>
public class FinishReasonTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private static CompletionRequest Greedy(int maxTokens, params string[] stop) =>
        new(TinyCheckpoint.Prompt, N: 2, maxTokens) { Temperature = 0, Stop = stop };

    [Fact]
    public async Task TokenLimitEndsWithLength()
    {
        using var engine = checkpoint.Engine();
        var completions = await engine.CompleteAsync(Greedy(5));
        Assert.All(completions, c =>
        {
            Assert.Equal(FinishReason.Length, c.Finish);
            Assert.Equal(5, c.TokenCount);
            Assert.Equal(engine.Tokenizer.Decode(c.TokenIds), c.Text);
        });
    }

    [Fact]
    public async Task StopStringEndsTheTextBeforeItAndKeepsTheTokenThatCompletedIt()
    {
        using var engine = checkpoint.Engine();
        var free = (await engine.CompleteAsync(Greedy(24)))[0];
        string text = free.Text;
        int start = Enumerable.Range(3, text.Length - 5).First(i => !text.Substring(i, 2).Contains('\uFFFD'));
        string stop = text.Substring(start, 2);
        int at = text.IndexOf(stop, StringComparison.Ordinal);

        var stopped = (await engine.CompleteAsync(Greedy(24, "never generated", stop)))[0];
        Assert.Equal(FinishReason.Stop, stopped.Finish);
        Assert.Equal(text[..at], stopped.Text);
        Assert.Equal(free.TokenIds.Take(stopped.TokenCount), stopped.TokenIds);
        Assert.Contains(stop, engine.Tokenizer.Decode(stopped.TokenIds));
        Assert.DoesNotContain(stop, engine.Tokenizer.Decode(stopped.TokenIds.Take(stopped.TokenCount - 1)));
    }

    [Fact]
    public async Task StopStringsInThePromptDoNotCount()
    {
        using var engine = checkpoint.Engine();
        var free = (await engine.CompleteAsync(Greedy(8)))[0];
        Assert.DoesNotContain("?", free.Text);
        var completion = (await engine.CompleteAsync(Greedy(8, "?")))[0];
        Assert.Equal(FinishReason.Length, completion.Finish);
        Assert.Equal(free.TokenIds, completion.TokenIds);
    }

    [Fact]
    public async Task EndOfSequenceTokenEndsTheRowAndIsLeftOutOfTheText()
    {
        // Make the token greedy decoding picks at some step the model's EOS, through config.json as a real checkpoint would.
        using var engine = checkpoint.Engine();
        var free = (await engine.CompleteAsync(Greedy(16)))[0];
        int step = Enumerable.Range(1, free.TokenCount - 1).First(j => !free.TokenIds.Take(j).Contains(free.TokenIds[j]));
        int eos = free.TokenIds[step];

        using var dir = new TestData.TempDirectory();
        foreach (var file in Directory.EnumerateFiles(checkpoint.Path)) File.Copy(file, Path.Combine(dir.Path, Path.GetFileName(file)));
        var config = ModelConfig.Load(Path.Combine(dir.Path, CheckpointFiles.Config)) with { EosTokenIds = [eos] };
        File.WriteAllText(Path.Combine(dir.Path, CheckpointFiles.Config), config.ToJson());

        using var ending = TorchEngine.Load(dir.Path);
        var completions = await ending.CompleteAsync(Greedy(16));
        Assert.All(completions, c =>
        {
            Assert.Equal(FinishReason.EndOfSequence, c.Finish);
            Assert.Equal(free.TokenIds.Take(step + 1), c.TokenIds);
            Assert.Equal(ending.Tokenizer.Decode(free.TokenIds.Take(step)), c.Text);
        });

        using var ignoring = TorchEngine.Load(dir.Path, options: new TorchEngineOptions { IgnoreEndOfSequence = true });
        var rollouts = await ignoring.RolloutAsync(TinyCheckpoint.Prompt, n: 2, maxTokens: 16, temperature: 0);
        Assert.All(rollouts, r => Assert.Equal(free.TokenIds, r.TokenIds));
    }

    [Fact]
    public async Task RolloutsIgnoreStepDelimitersAndRunToTheLimitOrEos()
    {
        using var engine = checkpoint.Engine();
        var rollouts = await engine.RolloutAsync(TinyCheckpoint.Prompt, n: 3, maxTokens: 40, seed: 2);
        Assert.Equal(3, rollouts.Count);
        Assert.All(rollouts, r => Assert.True(r.Finish == FinishReason.Length ? r.TokenCount == 40 : r.Finish == FinishReason.EndOfSequence));
    }

    [Fact]
    public async Task BadRequestsAreRejected()
    {
        using var engine = checkpoint.Engine();
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, N: 0)));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt) { TopP = 0 }));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt) { Stop = [""] }));
        await Assert.ThrowsAsync<ArgumentException>(() => engine.CompleteAsync(new CompletionRequest("")));
    }
}
