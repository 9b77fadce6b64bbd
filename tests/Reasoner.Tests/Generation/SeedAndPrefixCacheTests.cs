using Reasoner.Models.Backends;
using Reasoner.Models.Generation;

namespace Reasoner.Tests.Generation;

/// <summary>Seeded requests repeat exactly, whatever the engine did before, and prefix-cache hits change nothing.</summary>
public class SeedAndPrefixCacheTests(TinyCheckpoint checkpoint) : IClassFixture<TinyCheckpoint>
{
    private static CompletionRequest Request(string prompt, long seed, int n = 4) =>
        new(prompt, n, MaxTokens: 12) { Seed = seed, TopP = 0.95 };

    [Fact]
    public async Task SameSeedSameCompletionsDifferentSeedDifferent()
    {
        using var engine = checkpoint.Engine();
        var first = await engine.CompleteAsync(Request(TinyCheckpoint.Prompt, seed: 7));
        await engine.CompleteAsync(Request("Question: Is (true and not false) or false?", seed: 8));
        var again = await engine.CompleteAsync(Request(TinyCheckpoint.Prompt, seed: 7));
        CompletionAssert.Same(first, again);

        var other = await engine.CompleteAsync(Request(TinyCheckpoint.Prompt, seed: 9));
        Assert.Contains(Enumerable.Range(0, 4), i => !first[i].TokenIds.SequenceEqual(other[i].TokenIds));
        // Siblings of one request differ from each other too.
        Assert.True(first.Select(c => string.Join(',', c.TokenIds)).Distinct().Count() > 1);
    }

    [Fact]
    public async Task RowsDependOnlyOnSeedAndIndex()
    {
        using var engine = checkpoint.Engine();
        var four = await engine.CompleteAsync(Request(TinyCheckpoint.Prompt, seed: 3, n: 4));
        var two = await engine.CompleteAsync(Request(TinyCheckpoint.Prompt, seed: 3, n: 2));
        CompletionAssert.Same(four.Take(2).ToArray(), two);
    }

    [Fact]
    public async Task PrefixCacheHitsGiveTheColdEnginesCompletions()
    {
        const string parent = "Question: What is 9 * 8 - 5?\nStep 1:";
        const string child = parent + " 9 * 8 = 72.\nStep 2:";
        using var cold = checkpoint.Engine();
        var expected = await cold.CompleteAsync(Request(child, seed: 5));

        using var warm = checkpoint.Engine();
        await warm.CompleteAsync(Request(parent, seed: 1));
        var fromParent = await warm.CompleteAsync(Request(child, seed: 5));
        CompletionAssert.Same(expected, fromParent);
        var stats = warm.PrefixCacheStats;
        Assert.Equal(warm.Tokenizer.Encode(parent).Length, stats.ReusedTokens);
        Assert.Equal(warm.Tokenizer.Encode(parent).Length + warm.Tokenizer.Encode(child).Length - stats.ReusedTokens, stats.PrefilledTokens);

        // The same prompt again is an exact hit: nothing is prefilled.
        var exact = await warm.CompleteAsync(Request(child, seed: 5));
        CompletionAssert.Same(expected, exact);
        Assert.Equal(stats.PrefilledTokens, warm.PrefixCacheStats.PrefilledTokens);
        Assert.Equal(stats.Entries, warm.PrefixCacheStats.Entries);
    }

    [Fact]
    public async Task PartialMatchAcrossABpeSeamReusesTheSharedTokens()
    {
        // The step ends in "." and the delimiter follows: the tokenizer merges ".\n" into one token, so the parent's
        // last token "." is not part of the child's ids.
        const string parent = TinyCheckpoint.Prompt + " 12 + 35 = 47.";
        const string child = parent + "\nStep 2:";
        using var warm = checkpoint.Engine();
        var parentIds = warm.Tokenizer.Encode(parent);
        var childIds = warm.Tokenizer.Encode(child);
        int shared = parentIds.AsSpan().CommonPrefixLength(childIds);
        Assert.True(shared < parentIds.Length, "the test needs a prompt whose tokens change at the seam");

        using var cold = checkpoint.Engine();
        var expected = await cold.CompleteAsync(Request(child, seed: 6));
        await warm.CompleteAsync(Request(parent, seed: 1));
        CompletionAssert.Same(expected, await warm.CompleteAsync(Request(child, seed: 6)));
        Assert.Equal(shared, warm.PrefixCacheStats.ReusedTokens);
    }

    [Fact]
    public async Task TheTokenBudgetEvictsLeastRecentlyUsedPrompts()
    {
        string[] prompts = ["Question: What is 1 + 2?", "Question: What is 3 + 4?", "Question: What is 5 + 6?"];
        using var probe = checkpoint.Engine();
        int tokens = probe.Tokenizer.Encode(prompts[0]).Length;
        Assert.All(prompts, p => Assert.Equal(tokens, probe.Tokenizer.Encode(p).Length));

        using var engine = checkpoint.Engine(new TorchEngineOptions { PrefixCacheTokens = 2 * tokens });
        await engine.CompleteAsync(Request(prompts[0], 1, n: 1));
        await engine.CompleteAsync(Request(prompts[1], 1, n: 1));
        await engine.CompleteAsync(Request(prompts[0], 1, n: 1)); // prompts[0] is now the most recent
        await engine.CompleteAsync(Request(prompts[2], 1, n: 1)); // evicts prompts[1]
        Assert.Equal(2, engine.PrefixCacheStats.Entries);
        long prefilled = engine.PrefixCacheStats.PrefilledTokens;
        await engine.CompleteAsync(Request(prompts[0], 1, n: 1));
        Assert.Equal(prefilled, engine.PrefixCacheStats.PrefilledTokens);
        await engine.CompleteAsync(Request(prompts[1], 1, n: 1));
        Assert.True(engine.PrefixCacheStats.PrefilledTokens > prefilled);

        engine.ClearPrefixCache();
        Assert.Equal(0, engine.PrefixCacheStats.Entries);
    }

    [Fact]
    public async Task ConcurrentRequestsGiveTheirSequentialResults()
    {
        using var engine = checkpoint.Engine();
        var requests = Enumerable.Range(0, 4).Select(i => Request(i % 2 == 0 ? TinyCheckpoint.Prompt : "Question: What is 100 / 4 + 3?", seed: i, n: 2)).ToArray();
        var concurrent = await Task.WhenAll(requests.Select(r => engine.CompleteAsync(r)));
        using var sequentialEngine = checkpoint.Engine();
        for (int i = 0; i < requests.Length; i++)
            CompletionAssert.Same(await sequentialEngine.CompleteAsync(requests[i]), concurrent[i]);
    }
}
