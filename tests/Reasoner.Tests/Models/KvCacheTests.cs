using Reasoner.Models;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

/// <summary>Every way of using the KV cache gives the logits of a plain full-sequence forward.</summary>
public class KvCacheTests
{
    private const double Tolerance = 1e-4;

    private static Tensor Ids(params long[][] rows) => tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);

    internal static Tensor FullLogits(CausalLanguageModel model, long[] tokens)
    {
        using var _ = no_grad();
        return model.Forward(Ids(tokens))[0];
    }

    internal static void AssertClose(Tensor expected, Tensor actual)
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
}
