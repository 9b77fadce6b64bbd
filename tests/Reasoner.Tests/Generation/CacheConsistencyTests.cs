using Reasoner.Models.Backends;
using static TorchSharp.torch;

namespace Reasoner.Tests.Generation;

/// <summary>
/// What the engine computes with its KV cache, prefix forking, prefix cache and ragged batches equals a plain
/// full-sequence forward of the same tokens.
/// </summary>
public class CacheConsistencyTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private const double Tolerance = 1e-4;

    [Fact]
    public async Task EveryGeneratedPositionMatchesFullRecompute()
    {
        using var engine = checkpoint.Engine();
        // Warm the prefix cache with the start of the prompt, so the prompt is prefilled from a cached prefix.
        await engine.CompleteAsync(new CompletionRequest("Question: What is 12", N: 1, MaxTokens: 2) { Seed = 1 });
        var plain = await engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, N: 4, MaxTokens: 16) { Seed = 21 });
        // A stop string that row 0 produces early, so rows finish at different steps and the others decode on past its masked slots.
        string text = plain[0].Text;
        string stop = text.Substring(Enumerable.Range(2, text.Length - 3).First(i => !text.Substring(i, 2).Contains('\uFFFD')), 2);

        var observed = new Dictionary<int, List<float[]>>();
        engine.LogProbsObserved = (row, logProbs) =>
        {
            if (!observed.TryGetValue(row, out var list)) observed[row] = list = [];
            list.Add(logProbs);
        };
        var completions = await engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, N: 4, MaxTokens: 16) { Seed = 21, Stop = [stop] });
        Assert.True(engine.PrefixCacheStats.ReusedTokens > 0);
        Assert.True(completions.Select(c => c.TokenCount).Distinct().Count() > 1, "rows should finish at different steps");

        var promptIds = engine.Tokenizer.Encode(TinyCheckpoint.Prompt);
        for (int row = 0; row < completions.Count; row++)
        {
            var tokens = completions[row].TokenIds;
            Assert.Equal(tokens.Count, observed[row].Count);
            var full = TinyCheckpoint.FullLogProbs(engine.Model, promptIds.Concat(tokens));
            for (int j = 0; j < tokens.Count; j++)
            {
                var reference = full[promptIds.Length - 1 + j];
                double diff = (reference - tensor(observed[row][j])).abs().max().item<float>();
                Assert.True(diff < Tolerance, $"row {row}, token {j}: max |difference| {diff}");
                Assert.Equal(observed[row][j][tokens[j]], completions[row].TokenLogProbs[j], 6);
            }
        }
    }

    [Fact]
    public async Task GreedyWithCacheEqualsGreedyByFullRecompute()
    {
        using var engine = checkpoint.Engine();
        const int maxTokens = 24;
        var completions = await engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, N: 2, MaxTokens: maxTokens) { Temperature = 0 });

        var endOfSequence = engine.Model.Config.EosTokenIds.Append(engine.Tokenizer.EosId).ToHashSet();
        var tokens = engine.Tokenizer.Encode(TinyCheckpoint.Prompt).ToList();
        var expected = new List<int>();
        while (expected.Count < maxTokens)
        {
            int next = (int)TinyCheckpoint.FullLogProbs(engine.Model, tokens)[-1].argmax().item<long>();
            expected.Add(next);
            tokens.Add(next);
            if (endOfSequence.Contains(next)) break;
        }
        foreach (var completion in completions) Assert.Equal(expected, completion.TokenIds);
    }

    [Fact]
    public async Task ScoringMatchesTheLogProbsReportedWhenSampling()
    {
        using var engine = checkpoint.Engine();
        var promptIds = engine.Tokenizer.Encode(TinyCheckpoint.Prompt);
        // Tempered sampling still reports the model's own (untempered) log-probabilities.
        foreach (var temperature in new[] { 1.0, 0.6 })
        {
            var completions = await engine.CompleteAsync(new CompletionRequest(TinyCheckpoint.Prompt, N: 3, MaxTokens: 12) { Seed = 4, Temperature = temperature });
            var scored = await engine.ScoreTokensAsync(promptIds, completions.Select(c => c.TokenIds).ToArray());
            for (int i = 0; i < completions.Count; i++)
            {
                Assert.Equal(completions[i].TokenCount, scored[i].Length);
                for (int j = 0; j < scored[i].Length; j++)
                    Assert.True(Math.Abs(completions[i].TokenLogProbs[j] - scored[i][j]) < Tolerance, $"T={temperature} row {i} token {j}");
            }
        }
    }

    [Fact]
    public async Task ScoringMatchesFullRecomputeForARaggedBatch()
    {
        using var engine = checkpoint.Engine();
        string[] continuations = [" 12 + 35 = 47.\nStep 2: 47", "", " 4", " 9 * 8 = 72."];
        var scored = await engine.ScoreAsync(TinyCheckpoint.Prompt, continuations);
        var promptIds = engine.Tokenizer.Encode(TinyCheckpoint.Prompt);
        for (int i = 0; i < continuations.Length; i++)
        {
            var ids = engine.Tokenizer.Encode(continuations[i]);
            Assert.Equal(continuations[i], scored[i].Continuation);
            Assert.Equal(ids, scored[i].TokenIds);
            Assert.Equal(ids.Length, scored[i].TokenLogProbs.Count);
            var full = TinyCheckpoint.FullLogProbs(engine.Model, promptIds.Concat(ids));
            for (int j = 0; j < ids.Length; j++)
            {
                double expected = full[promptIds.Length - 1 + j, ids[j]].item<float>();
                Assert.True(Math.Abs(expected - scored[i].TokenLogProbs[j]) < Tolerance, $"continuation {i} token {j}");
            }
        }
        Assert.Empty(scored[1].TokenLogProbs);
        Assert.True(scored[0].LogProb < 0);
    }
}
