using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;

namespace Reasoner.Tests.Generation;

/// <summary>
/// The engine runs small forwards on one thread and large ones on <see cref="TorchEngineOptions.Threads"/>, set on its
/// own thread only: the results are the same request's, and no other thread's count moves.
/// </summary>
public class EngineThreadsTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private static readonly CompletionRequest[] Requests =
    [
        new(TinyCheckpoint.Prompt, 4, MaxTokens: 12) { Seed = 1 },
        new(string.Concat(Enumerable.Repeat("Question: What is 9 * 8 - 5?\nStep 1: 9 * 8 = 72.\n", 6)), 2, MaxTokens: 10) { Seed = 2 },
    ];

    private async Task<IReadOnlyList<Completion>[]> Complete(TorchEngineOptions options)
    {
        using var engine = checkpoint.Engine(options with { PrefixCacheTokens = 0 });
        var results = new List<IReadOnlyList<Completion>>();
        foreach (var request in Requests) results.Add(await engine.CompleteAsync(request));
        return [.. results];
    }

    [Fact]
    public async Task SwitchingThreadsByForwardSizeGivesTheSameCompletions()
    {
        var oneThread = await Complete(new TorchEngineOptions { Threads = 1 });
        // Three threads for every forward past 4 tokens: the long prompt's prefill runs on three, decoding on one.
        var switching = await Complete(new TorchEngineOptions { Threads = 3, SmallForwardTokens = 4 });
        for (int r = 0; r < Requests.Length; r++) CompletionAssert.Same(oneThread[r], switching[r]);
    }

    [Fact]
    public void TheEngineLeavesOtherThreadsCountsAlone()
    {
        // On a thread of its own, waiting without await: the thread that asks is the thread that is checked.
        int before = 0, after = 0, fresh = 0;
        var caller = new Thread(() =>
        {
            before = IntraOpThreads.ForCurrentThread;
            Complete(new TorchEngineOptions { Threads = 3, SmallForwardTokens = 0 }).GetAwaiter().GetResult();
            after = IntraOpThreads.ForCurrentThread;
            var other = new Thread(() => fresh = IntraOpThreads.ForCurrentThread);
            other.Start();
            other.Join();
        });
        caller.Start();
        caller.Join();
        Assert.Equal(before, after);
        Assert.NotEqual(3, fresh);
    }

    [Fact]
    public void BadThreadSettingsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.Engine(new TorchEngineOptions { Threads = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => checkpoint.Engine(new TorchEngineOptions { SmallForwardTokens = -1 }));
    }

    [Fact]
    public async Task ABf16EngineScoresCloseToFp32AndSamplesValidTokens()
    {
        using var fp32 = TorchEngine.Load(checkpoint.Path);
        using var bf16 = TorchEngine.Load(checkpoint.Path, dtype: TorchSharp.torch.ScalarType.BFloat16);
        Assert.Equal(TorchSharp.torch.ScalarType.BFloat16, bf16.Dtype);
        var exact = await fp32.ScoreAsync(TinyCheckpoint.Prompt, [" 12 + 35 = 47.", " 12 + 35 = 46."]);
        var rounded = await bf16.ScoreAsync(TinyCheckpoint.Prompt, [" 12 + 35 = 47.", " 12 + 35 = 46."]);
        for (int c = 0; c < exact.Count; c++)
            for (int t = 0; t < exact[c].TokenLogProbs.Count; t++)
                Assert.InRange(rounded[c].TokenLogProbs[t], exact[c].TokenLogProbs[t] - 0.1, exact[c].TokenLogProbs[t] + 0.1);
        var completions = await bf16.CompleteAsync(Requests[0]);
        Assert.Equal(4, completions.Count);
        Assert.All(completions, c => Assert.True(c.TokenCount > 0));
    }

    [Fact]
    public void AnUnknownDtypeIsRefusedByName()
    {
        Assert.Equal(TorchSharp.torch.ScalarType.BFloat16, TorchRuntime.ParseDtype(" BF16"));
        Assert.Equal(TorchSharp.torch.ScalarType.Float32, TorchRuntime.ParseDtype("float32"));
        Assert.Contains("fp16", Assert.Throws<ArgumentException>(() => TorchRuntime.ParseDtype("fp16")).Message);
    }
}
