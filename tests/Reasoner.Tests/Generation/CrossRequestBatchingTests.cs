using Reasoner.Models.Backends;
using Reasoner.Models;
using Reasoner.Models.Generation;

namespace Reasoner.Tests.Generation;

/// <summary>
/// The engine serves concurrent requests in shared forwards; each request's results equal the same request served
/// alone (same tokens, log-probabilities within fp32 rounding), whatever else shares its forwards.
/// </summary>
public class CrossRequestBatchingTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    /// <summary>Requests that differ in everything a row carries: prompt, N, stops, temperature, top-p, seed, token limit.</summary>
    internal static readonly CompletionRequest[] Mixed =
    [
        new(TinyCheckpoint.Prompt, 4, MaxTokens: 12) { Seed = 1, TopP = 0.95 },
        new("Question: What is 9 * 8 - 5?\nStep 1:", 2, MaxTokens: 20) { Seed = 2, Stop = ["\n"] },
        new("Question: Is (true and not false) or false?", 1, MaxTokens: 7) { Temperature = 0 },
        new(TinyCheckpoint.Prompt + " 12 + 35 = 47.\nStep 2:", 3, MaxTokens: 16) { Seed = 4, Temperature = 0.7, Stop = ["=", "\n"] },
        new("Question: What is 3 + 4?", 5, MaxTokens: 3) { Seed = 5, TopP = 0.5 },
        new("Q", 2, MaxTokens: 25) { Seed = 6, Temperature = 1.3 },
    ];

    private Task<IReadOnlyList<Completion>[]> Alone(IEnumerable<CompletionRequest> requests) => Alone(checkpoint, requests);

    /// <summary>Each request served alone, one after another, on an engine without batching or prefix cache.</summary>
    internal static async Task<IReadOnlyList<Completion>[]> Alone(TinyCheckpoint checkpoint, IEnumerable<CompletionRequest> requests)
    {
        using var engine = checkpoint.Engine(new TorchEngineOptions { BatchAcrossRequests = false, PrefixCacheTokens = 0 });
        var results = new List<IReadOnlyList<Completion>>();
        foreach (var request in requests) results.Add(await engine.CompleteAsync(request));
        return [.. results];
    }

    [Fact]
    public async Task ConcurrentRequestsShareForwardsAndGiveWhatEachGivesAlone()
    {
        var expected = await Alone(Mixed);
        using var engine = checkpoint.Engine();
        Task<IReadOnlyList<Completion>>[] batched;
        using (engine.HoldLoop()) batched = [.. Mixed.Select(r => engine.CompleteAsync(r))];
        var actual = await Task.WhenAll(batched);

        for (int r = 0; r < Mixed.Length; r++) CompletionAssert.Same(expected[r], actual[r]);
        Assert.Equal(Mixed.Length, engine.BatchStats.LargestBatch);
        // One forward prefills every prompt and gives every row its first token; each further forward gives every
        // unfinished row one more: as many forwards as the longest row has tokens.
        Assert.Equal(expected.Max(r => r.Max(c => c.TokenCount)), engine.BatchStats.Forwards);
    }

    [Fact]
    public async Task RequestsJoinWhileOthersDecodeAndLeaveWhenDone()
    {
        // A long request first, then others arriving one by one while it decodes: they join between its forwards, the
        // short ones leave early (their slots are compacted away), and nobody's tokens change.
        var longOne = new CompletionRequest("Question: What is 48 - 19?\nStep 1:", 2, MaxTokens: 60) { Seed = 11 };
        var expected = await Alone([longOne, .. Mixed]);
        using var engine = checkpoint.Engine();
        var tasks = new List<Task<IReadOnlyList<Completion>>> { engine.CompleteAsync(longOne) };
        foreach (var request in Mixed)
        {
            await Task.Delay(5);
            tasks.Add(engine.CompleteAsync(request));
        }
        var actual = await Task.WhenAll(tasks);
        for (int r = 0; r < tasks.Count; r++) CompletionAssert.Same(expected[r], actual[r]);
        Assert.True(engine.BatchStats.LargestBatch > 1);
    }

    [Fact]
    public async Task TheSharedRowStaysBoundedUnderLoadAndEmptiesWhenIdle()
    {
        // Waves of overlapping requests, as search workers make them: a finished request's cache is freed as it leaves,
        // so the row never holds more than what is in flight, and an idle engine holds nothing.
        using var engine = checkpoint.Engine();
        long largest = 0;
        var running = new List<Task>();
        for (int i = 0; i < 40; i++)
        {
            running.Add(engine.CompleteAsync(Mixed[i % Mixed.Length] with { Seed = i }));
            if (running.Count == 4)
            {
                await Task.WhenAny(running);
                running.RemoveAll(t => t.IsCompleted);
            }
            largest = Math.Max(largest, engine.SharedRowSlots);
        }
        await Task.WhenAll(running);
        // Four requests in flight hold at most 4 × (prompt + 5 rows × 25 tokens) ≈ 4 × 150 slots.
        Assert.InRange(largest, 1, 700);
        Assert.Equal(0, engine.SharedRowSlots);
    }

    [Fact]
    public async Task ScoringRequestsJoinTheSameForwards()
    {
        string[] continuations = [" 12 + 35 = 47.", " 47", "", " 12 + 35 = 46.\nStep 2: The answer is 46."];
        IReadOnlyList<ScoredContinuation> expected;
        IReadOnlyList<Completion> expectedCompletion;
        using (var alone = checkpoint.Engine(new TorchEngineOptions { BatchAcrossRequests = false }))
        {
            expected = await alone.ScoreAsync(TinyCheckpoint.Prompt, continuations);
            expectedCompletion = await alone.CompleteAsync(Mixed[1]);
        }
        using var engine = checkpoint.Engine();
        Task<IReadOnlyList<ScoredContinuation>> scored;
        Task<IReadOnlyList<Completion>> completed;
        using (engine.HoldLoop())
        {
            completed = engine.CompleteAsync(Mixed[1]);
            scored = engine.ScoreAsync(TinyCheckpoint.Prompt, continuations);
        }
        CompletionAssert.Same(expectedCompletion, await completed);
        var actual = await scored;
        for (int i = 0; i < continuations.Length; i++)
        {
            Assert.Equal(expected[i].TokenIds, actual[i].TokenIds);
            Assert.Equal(expected[i].TokenLogProbs.Count, actual[i].TokenLogProbs.Count);
            for (int j = 0; j < expected[i].TokenLogProbs.Count; j++)
                Assert.True(Math.Abs(expected[i].TokenLogProbs[j] - actual[i].TokenLogProbs[j]) < 1e-4);
        }
        Assert.Equal(2, engine.BatchStats.LargestBatch);
    }

    [Fact]
    public async Task ACancelledRequestLeavesAndTheOthersGoOn()
    {
        var expected = await Alone(Mixed);
        using var engine = checkpoint.Engine();
        using var cancel = new CancellationTokenSource();
        var victim = new CompletionRequest("Question: What is 48 - 19?\nStep 1:", 3, MaxTokens: 200) { Seed = 3 };
        Task<IReadOnlyList<Completion>> cancelled;
        Task<IReadOnlyList<Completion>>[] others;
        using (engine.HoldLoop())
        {
            cancelled = engine.CompleteAsync(victim, cancel.Token);
            others = [.. Mixed.Select(r => engine.CompleteAsync(r))];
        }
        cancel.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => cancelled);
        Assert.True(cancelled.IsCanceled);
        var actual = await Task.WhenAll(others);
        for (int r = 0; r < Mixed.Length; r++) CompletionAssert.Same(expected[r], actual[r]);
    }

    [Fact]
    public async Task DisposingFailsWhatIsWaitingInsteadOfHangingIt()
    {
        var engine = checkpoint.Engine();
        Task<IReadOnlyList<Completion>> waiting;
        using (engine.HoldLoop()) waiting = engine.CompleteAsync(new CompletionRequest("Question: What is 48 - 19?", 2, MaxTokens: 200) { Seed = 1 });
        engine.Dispose();
        await Assert.ThrowsAsync<ObjectDisposedException>(() => waiting);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => engine.CompleteAsync(Mixed[0]));
    }
}

/// <summary>The step profiler records decoding forwards only, by phase, and its phases fit inside the whole forward.</summary>
[Collection(nameof(StepProfilerCollection))]
public class StepProfilerTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    [Fact]
    public async Task DecodingForwardsAreRecordedByPhaseAndPrefillIsNot()
    {
        using var engine = checkpoint.Engine(new TorchEngineOptions { IgnoreEndOfSequence = true, PrefixCacheTokens = 0 });
        StepProfiler.Start();
        await engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, 2, MaxTokens: 10) { Seed = 1 });
        var (steps, phases) = StepProfiler.Stop();

        Assert.Equal(9, steps); // 10 tokens: the first comes from the prefill forward, which is not recorded
        var whole = phases[StepProfiler.WholeForward];
        foreach (var phase in new[] { "model: attention block", "model: MLP block", "logits, log-softmax, copy to .NET", "sampling, detokenizing, stop strings" })
            Assert.True(phases[phase] > TimeSpan.Zero, phase);
        var topLevel = phases.Where(p => p.Key != StepProfiler.WholeForward && !p.Key.StartsWith(' ')).Sum(p => p.Value.Ticks);
        Assert.True(topLevel <= whole.Ticks, $"phases {topLevel} ticks, whole {whole.Ticks}");
        Assert.True(phases["  of which: scaled dot-product attention"] <= phases["model: attention block"]);

        // Off again: nothing more is recorded.
        await engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, 1, MaxTokens: 4) { Seed = 2 });
        StepProfiler.Start();
        Assert.Equal(0, StepProfiler.Stop().Steps);
    }

    [Fact]
    public async Task BenchGenerateProfilePrintsEveryPhasePerThreadCount()
    {
        var r = await Reasoner.Tests.Cli.CliRunner.Run("bench", "generate", "--model", checkpoint.Path, "--prompt-tokens", "12", "--new-tokens", "4", "--repeat", "1",
            "--threads", "2", "--profile");
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        foreach (var expected in new[] { "decoding forward (1 row)", "ms/forward, 1 thread", "ms/forward, 2 threads", "model: attention block", "scaled dot-product attention", "whole forward",
            "the token's FLOPs at the matmul peak", "the weights read once at the copy bandwidth", "3 decoding forwards of 1 row(s) recorded",
            "the same calls with heads 2 wide", "floor: the calls plus the weights read", "tokens/s without fewer calls" })
            Assert.Contains(expected, System.Text.RegularExpressions.Regex.Replace(r.Out, @"\s+", " ")); // the console wraps long lines
        Assert.DoesNotContain("one by one", r.Out); // the profile replaces the comparisons
    }

    [Fact]
    public async Task BenchGenerateProfilesForkedRowsPerForward()
    {
        var r = await Reasoner.Tests.Cli.CliRunner.Run("bench", "generate", "--model", checkpoint.Path, "--prompt-tokens", "12", "--new-tokens", "4", "--repeat", "1",
            "--threads", "1", "--profile", "--profile-rows", "3");
        Assert.True(r.ExitCode == 0, r.Err + r.Out);
        foreach (var expected in new[] { "decoding forward (3 rows)", "ms/forward, 1 thread", "the forward's FLOPs at the matmul peak", "3 decoding forwards of 3 row(s) recorded" })
            Assert.Contains(expected, System.Text.RegularExpressions.Regex.Replace(r.Out, @"\s+", " ")); // the console wraps long lines

        var bad = await Reasoner.Tests.Cli.CliRunner.Run("bench", "generate", "--model", checkpoint.Path, "--profile", "--profile-rows", "0");
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("--profile-rows", bad.Err + bad.Out);
        var withoutProfile = await Reasoner.Tests.Cli.CliRunner.Run("bench", "generate", "--model", checkpoint.Path, "--profile-rows", "3");
        Assert.NotEqual(0, withoutProfile.ExitCode);
        Assert.Contains("--profile-rows applies to --profile only", withoutProfile.Err + withoutProfile.Out);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void TheProfilesSkeletonHasTheModelsCallsOnTinyTensors(string modelType)
    {
        using var model = Reasoner.Tests.Models.TinyModels.Create(Reasoner.Tests.Models.TinyModels.Config(modelType) with { HiddenSize = 64, IntermediateSize = 128 });
        using var skeleton = Reasoner.Cli.Bench.DecodeProfile.Skeleton(model, seed: 1);
        var (c, s) = (model.Config, skeleton.Config);
        Assert.Equal((c.NumHiddenLayers, c.NumAttentionHeads, c.NumKeyValueHeads, c.VocabSize, c.ModelType), (s.NumHiddenLayers, s.NumAttentionHeads, s.NumKeyValueHeads, s.VocabSize, s.ModelType));
        Assert.Equal(2, s.HeadDim);
        Assert.Equal(model.named_parameters().Select(p => p.name), skeleton.named_parameters().Select(p => p.name));
        Assert.True(skeleton.ParameterCount() * 4 < model.ParameterCount());
        using var ids = TorchSharp.torch.tensor(new long[,] { { 3, 5, 7 } });
        using var logits = skeleton.Forward(ids);
        Assert.Equal(new long[] { 1, 3, c.VocabSize }, logits.shape);
    }
}

/// <summary>The profiler is process-wide: its tests do not run beside each other.</summary>
[CollectionDefinition(nameof(StepProfilerCollection), DisableParallelization = true)]
public sealed class StepProfilerCollection;
