using Reasoner.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

/// <summary>Every way of using the KV cache gives the logits of a plain full-sequence forward.</summary>
public class KvCacheTests
{
    private const double Tolerance = 1e-4;

    private static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    private static Tensor FullLogits(CausalLanguageModel model, long[] tokens)
    {
        using var _ = no_grad();
        return model.Forward(Ids(tokens))[0];
    }

    private static void AssertClose(Tensor expected, Tensor actual)
    {
        double diff = (expected - actual).abs().max().item<float>();
        Assert.True(diff < Tolerance, $"max |difference| {diff}");
    }

    [Theory]
    [InlineData("llama", true)]
    [InlineData("qwen2", false)]
    [InlineData("qwen3", false)]
    public void PrefillThenOneTokenAtATimeMatchesFullForward(string modelType, bool tied)
    {
        using var model = TinyModels.Create(TinyModels.Config(modelType, tied));
        long[] tokens = [5, 17, 42, 8, 99, 3, 61, 27, 14, 70];
        var full = FullLogits(model, tokens);

        using var cache = new KvCache(model.Config.NumHiddenLayers);
        var prefill = model.Forward(Ids(tokens[..4]), cache);
        AssertClose(full[..4], prefill[0]);
        for (int i = 4; i < tokens.Length; i++)
        {
            var step = model.Forward(Ids([tokens[i]]), cache);
            AssertClose(full[i], step[0, 0]);
        }
        Assert.Equal(tokens.Length, cache.Length);
        Assert.Equal(tokens.Length, cache.RowLengths[0].item<long>());
    }

    [Fact]
    public void ForkedSiblingsContinueTheParentPrefixIndependently()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        long[] prefix = [5, 17, 42, 8, 99];
        long[][] continuations = [[3, 61, 27], [14, 70, 1], [3, 9, 88]];

        using var parent = new KvCache(model.Config.NumHiddenLayers);
        model.Forward(Ids(prefix), parent);
        using var children = parent.Expand(continuations.Length);
        Assert.Equal(3, children.BatchSize);
        for (int step = 0; step < 3; step++)
        {
            var logits = model.Forward(Ids(continuations.Select(c => new[] { c[step] }).ToArray()), children);
            for (int child = 0; child < continuations.Length; child++)
            {
                var full = FullLogits(model, [.. prefix, .. continuations[child][..(step + 1)]]);
                AssertClose(full[prefix.Length + step], logits[child, 0]);
            }
        }

        // The parent is untouched by its children and can still be extended on its own.
        Assert.Equal(prefix.Length, parent.Length);
        var parentNext = model.Forward(Ids([50]), parent);
        AssertClose(FullLogits(model, [.. prefix, 50])[^1], parentNext[0, 0]);
    }

    [Fact]
    public void SelectPicksReordersAndRepeatsRows()
    {
        using var model = TinyModels.Create(TinyModels.Config("qwen2", tied: false));
        long[][] rows = [[5, 17, 42], [8, 99, 3], [61, 27, 14]];
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        model.Forward(Ids(rows), cache);

        using var picked = cache.Select([2, 0, 2]);
        var logits = model.Forward(Ids([7], [7], [11]), picked);
        AssertClose(FullLogits(model, [.. rows[2], 7])[^1], logits[0, 0]);
        AssertClose(FullLogits(model, [.. rows[0], 7])[^1], logits[1, 0]);
        AssertClose(FullLogits(model, [.. rows[2], 11])[^1], logits[2, 0]);
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void LeftPaddedRowsOfDifferentLengthsMatchTheirUnpaddedForward(string modelType)
    {
        using var model = TinyModels.Create(TinyModels.Config(modelType, tied: modelType == "llama"));
        long[][] prompts = [[5, 17, 42, 8, 99], [61, 27], [14, 70, 3, 9]];
        long[][] continuations = [[11, 12], [13, 14], [15, 16]];
        int width = prompts.Max(p => p.Length);
        const long pad = 0;
        var padded = prompts.Select(p => Enumerable.Repeat(pad, width - p.Length).Concat(p).ToArray()).ToArray();
        var mask = tensor(prompts.SelectMany(p => Enumerable.Range(0, width).Select(i => i >= width - p.Length)).ToArray(), [prompts.Length, width]);

        // Without a cache: a padded batch gives each row its own logits at its real positions.
        using (no_grad())
        {
            var batch = model.Forward(Ids(padded), attentionMask: mask);
            for (int r = 0; r < prompts.Length; r++)
                AssertClose(FullLogits(model, prompts[r]), batch[r, (width - prompts[r].Length)..]);
        }

        using var cache = new KvCache(model.Config.NumHiddenLayers);
        var prefill = model.Forward(Ids(padded), cache, attentionMask: mask);
        Assert.Equal(prompts.Select(p => (long)p.Length).ToArray(), cache.RowLengths.data<long>().ToArray());
        for (int r = 0; r < prompts.Length; r++)
            AssertClose(FullLogits(model, prompts[r])[^1], prefill[r, ^1]);
        for (int step = 0; step < 2; step++)
        {
            var logits = model.Forward(Ids(continuations.Select(c => new[] { c[step] }).ToArray()), cache);
            for (int r = 0; r < prompts.Length; r++)
                AssertClose(FullLogits(model, [.. prompts[r], .. continuations[r][..(step + 1)]])[^1], logits[r, 0]);
        }
    }

    [Fact]
    public void ConcatBatchesCachesOfDifferentLengths()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        long[] shortPrompt = [61, 27], longPrompt = [5, 17, 42, 8, 99, 3];
        using var shortCache = new KvCache(model.Config.NumHiddenLayers);
        using var longCache = new KvCache(model.Config.NumHiddenLayers);
        model.Forward(Ids(shortPrompt), shortCache);
        model.Forward(Ids(longPrompt), longCache);
        using var longPair = longCache.Expand(2);

        using var joined = KvCache.Concat([shortCache, longPair]);
        Assert.Equal(3, joined.BatchSize);
        Assert.Equal(longPrompt.Length, joined.Length);
        var logits = model.Forward(Ids([7], [8], [9]), joined);
        AssertClose(FullLogits(model, [.. shortPrompt, 7])[^1], logits[0, 0]);
        AssertClose(FullLogits(model, [.. longPrompt, 8])[^1], logits[1, 0]);
        AssertClose(FullLogits(model, [.. longPrompt, 9])[^1], logits[2, 0]);
    }

    [Fact]
    public void GrowingPastTheHeadroomKeepsEarlierKeys()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        var tokens = Enumerable.Range(0, 150).Select(i => (long)(i * 37 % 100)).ToArray();
        var full = FullLogits(model, tokens);
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        model.Forward(Ids(tokens[..2]), cache);
        for (int i = 2; i < tokens.Length; i++)
        {
            var step = model.Forward(Ids([tokens[i]]), cache);
            if (i % 37 == 0 || i == tokens.Length - 1) AssertClose(full[i], step[0, 0]);
        }
    }

    [Fact]
    public void ForkingAnEmptyCacheOrARowOutOfRangeFails()
    {
        using var empty = new KvCache(2);
        Assert.Throws<InvalidOperationException>(() => empty.Expand(2));
        using var model = TinyModels.Create(TinyModels.Config());
        using var cache = new KvCache(model.Config.NumHiddenLayers);
        model.Forward(Ids([1, 2]), cache);
        Assert.Throws<ArgumentOutOfRangeException>(() => cache.Select([1]));
        Assert.Throws<ArgumentException>(() => model.Forward(Ids([1], [2]), cache));
    }

    [Fact]
    public void APromptCopiedOutOfASharedRowStillContinuesAsItsOwnCache()
    {
        // Two prompts' caches side by side in one row; copying out the second one's slots gives a cache that continues
        // exactly as a cache of its own (positions were applied when the keys were written).
        using var model = TinyModels.Create(TinyModels.Config());
        long[] first = [9, 33, 4], second = [5, 17, 42, 8, 99], next = [3, 61];
        var full = FullLogits(model, [.. second, .. next]);
        using var a = new KvCache(model.Config.NumHiddenLayers);
        using var b = new KvCache(model.Config.NumHiddenLayers);
        using (no_grad())
        {
            model.Forward(Ids(first), a);
            model.Forward(Ids(second), b);
        }
        using var row = new KvCache(model.Config.NumHiddenLayers);
        row.AppendSlots(a);
        row.AppendSlots(b);
        Assert.Equal(first.Length + second.Length, row.Length);
        using var copied = row.CopySlots([.. Enumerable.Range(first.Length, second.Length).Select(j => (long)j)]);
        Assert.Equal(second.Length, copied.Length);
        Assert.Equal(second.Length, copied.RowLengths[0].item<long>());
        using (no_grad())
            AssertClose(full[second.Length..], model.Forward(Ids(next), copied)[0]);
        Assert.Equal(first.Length, a.Length); // the sources are only read
        Assert.Equal(first.Length + second.Length, row.Length);
    }

    [Fact]
    public void GroupsInOneRowAttendOnlyToTheirOwnCachesAndGetTheLogitsOfSeparateRows()
    {
        // Two requests in one row: the first continues a cached prompt by two tokens, the second starts from nothing. Each
        // group's tokens see only its own cache (grouped-query model, so kv heads are repeated per group too), and both
        // get exactly the logits of their own full sequence.
        using var model = TinyModels.Create(TinyModels.Config());
        long[] prompt = [9, 33, 4, 17], next = [3, 61], other = [5, 42, 8];
        using var first = new KvCache(model.Config.NumHiddenLayers);
        using var second = new KvCache(model.Config.NumHiddenLayers);
        using (no_grad()) model.Forward(Ids(prompt), first);
        static Tensor Causal(int past, int count) => tril(ones(count, past + count, ScalarType.Bool), past).reshape(1, 1, count, past + count);
        using var hidden = model.HiddenStatesGrouped(Ids([.. next, .. other]), tensor(new long[] { 4, 5, 0, 1, 2 }).reshape(1, 5),
            [new AttentionGroup(first, 0, 2, Causal(4, 2)), new AttentionGroup(second, 2, 3, Causal(0, 3))]);
        using var logits = model.Logits(hidden)[0];
        AssertClose(FullLogits(model, [.. prompt, .. next])[4..], logits[..2]);
        AssertClose(FullLogits(model, other), logits[2..]);
        Assert.Equal(6, first.Length);
        Assert.Equal(3, second.Length);
        // The groups must cover the row's tokens in order.
        Assert.Throws<ArgumentException>(() => model.HiddenStatesGrouped(Ids([1, 2]), tensor(new long[] { 0, 1 }).reshape(1, 2),
            [new AttentionGroup(second, 0, 1, Causal(3, 1))]));
    }
}
