using Reasoner.Models;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

/// <summary>
/// Requests decoded together in one grouped forward (one row each of a <see cref="GroupedKvCache"/>) get the logits each
/// gets alone, whether they attend in the shared padded call or by themselves.
/// </summary>
public class GroupedKvCacheTests
{
    private static Tensor Ids(long[] tokens) => tensor(tokens, [1, tokens.Length]);

    // The same logits and tolerance as every other cache path (KvCacheTests).
    private static Tensor FullLogits(CausalLanguageModel model, long[] tokens) => KvCacheTests.FullLogits(model, tokens);

    private static void AssertClose(Tensor expected, Tensor actual) => KvCacheTests.AssertClose(expected, actual);

    private static bool[] Causal(int past, int count)
    {
        var visible = new bool[count * (past + count)];
        for (int i = 0; i < count; i++)
            for (int j = 0; j <= past + i; j++) visible[i * (past + count) + j] = true;
        return visible;
    }

    private static KvCache Prefilled(CausalLanguageModel model, long[] tokens)
    {
        var cache = new KvCache(model.Config.NumHiddenLayers);
        using (no_grad()) model.Forward(Ids(tokens), cache);
        return cache;
    }

    /// <summary>Feeds each request's next tokens in one forward; returns each request's logits.</summary>
    private static Tensor[] Step(CausalLanguageModel model, GroupedKvCache cache, params (int Row, long[] Tokens)[] requests)
    {
        var feeds = new List<GroupFeed>();
        var ids = new List<long>();
        var positions = new List<long>();
        foreach (var (row, tokens) in requests)
        {
            int past = (int)cache.RowLength(row);
            feeds.Add(new GroupFeed(row, ids.Count, tokens.Length, past, Causal(past, tokens.Length)));
            ids.AddRange(tokens);
            positions.AddRange(Enumerable.Range(past, tokens.Length).Select(p => (long)p));
        }
        using var plan = cache.Plan(feeds, ids.Count);
        using var hidden = model.HiddenStatesGrouped(Ids([.. ids]), Ids([.. positions]), plan);
        var logits = model.Logits(hidden)[0];
        return [.. feeds.Select(f => logits.narrow(0, f.Start, f.Count))];
    }

    [Theory]
    [InlineData("llama")]
    [InlineData("qwen3")]
    public void RequestsInOneForwardGetTheLogitsOfTheirOwnSequences(string modelType)
    {
        // Four requests (grouped-query model, so kv heads are repeated too): two continue cached prompts of different
        // lengths by a few tokens and are padded into one call, with a released row between them as padding; one starts
        // from nothing with 40 tokens, too many to pad the others to, and attends alone (the split is
        // ACallIsPaddedOnlyWhereThePaddingCostsLessThanTheCallsItSaves). Then all decode one token each.
        using var model = TinyModels.Create(TinyModels.Config(modelType));
        long[] a = [9, 33, 4, 17], b = [5, 17, 42, 8, 99, 7, 3], c = [.. Enumerable.Range(1, 40).Select(i => (long)(i * 5 % 97))];
        using var cache = GroupedKvCache.For(model);
        using var cachedA = Prefilled(model, a);
        using var cachedB = Prefilled(model, b);
        int rowA = cache.AddRow(), gone = cache.AddRow(), rowB = cache.AddRow(), rowC = cache.AddRow();
        cache.AppendSlots(rowA, cachedA, a.Length);
        cache.AppendSlots(gone, cachedB, 3);
        cache.AppendSlots(rowB, cachedB, b.Length);
        cache.Release(gone);

        long[] nextA = [3, 61], nextB = [12, 44, 70];
        var first = Step(model, cache, (rowA, nextA), (rowB, nextB), (rowC, c));
        AssertClose(FullLogits(model, [.. a, .. nextA])[a.Length..], first[0]);
        AssertClose(FullLogits(model, [.. b, .. nextB])[b.Length..], first[1]);
        AssertClose(FullLogits(model, c), first[2]);
        Assert.Equal(a.Length + nextA.Length + b.Length + nextB.Length + c.Length, cache.Length);

        var second = Step(model, cache, (rowC, [11]), (rowA, [2]), (rowB, [8]));
        AssertClose(FullLogits(model, [.. c, 11])[^1..], second[0]);
        AssertClose(FullLogits(model, [.. a, .. nextA, 2])[^1..], second[1]);
        AssertClose(FullLogits(model, [.. b, .. nextB, 8])[^1..], second[2]);

        // A freed row is the next one handed out, and starts empty.
        Assert.Equal(gone, cache.AddRow());
        Assert.Equal(0, cache.RowLength(gone));
    }

    [Fact]
    public void ACallIsPaddedOnlyWhereThePaddingCostsLessThanTheCallsItSaves()
    {
        static GroupFeed Feed(int row, int count, int past) => new(row, 0, count, past, []);
        static string Split(params GroupFeed[] feeds) =>
            string.Join(" | ", GroupedAttention.Calls(feeds).Select(call => string.Join(",", call.Select(f => f.Row))));

        // The feeds of the test above: rows 0 and 2 (row 1 unused) pad together, the 40-token prefill in row 3 goes alone.
        Assert.Equal("0,2 | 3", Split(Feed(2, 3, 7), Feed(0, 2, 4), Feed(3, 40, 0)));
        // Rows decoding as many siblings at similar lengths share one call, whatever order they come in; with fewer
        // siblings in some rows, padding them to the others' count can cost more than a second call.
        Assert.Equal("0,1,2,3", Split(Feed(3, 4, 300), Feed(1, 4, 280), Feed(0, 4, 310), Feed(2, 4, 290)));
        Assert.Equal("0,1 | 2,3", Split(Feed(3, 1, 300), Feed(1, 4, 280), Feed(0, 4, 310), Feed(2, 2, 290)));
        // Padding eight rows of one query to a 100-token prefill costs more than a call.
        Assert.Equal("0,1,2 | 3", Split(Feed(0, 1, 300), Feed(1, 1, 300), Feed(2, 1, 300), Feed(3, 100, 200)));
        // A long run of unused rows between two requests is not worth padding over either.
        Assert.Equal("0 | 9", Split(Feed(0, 8, 300), Feed(9, 8, 300)));
    }

    [Fact]
    public void APromptCopiedOutOfARowContinuesAsItsOwnCache()
    {
        // Rotary positions were applied when the keys were written, so a row's first slots copied out continue exactly
        // as a cache of their own; the row and the source are only read.
        using var model = TinyModels.Create(TinyModels.Config());
        long[] prompt = [5, 17, 42, 8, 99], next = [3, 61];
        using var source = Prefilled(model, prompt);
        using var cache = GroupedKvCache.For(model);
        int row = cache.AddRow();
        cache.AppendSlots(row, source, prompt.Length);
        Step(model, cache, (row, [7, 7]));
        using var copied = cache.CopySlots(row, prompt.Length);
        Assert.Equal(prompt.Length, copied.Length);
        Assert.Equal(prompt.Length, copied.RowLengths[0].item<long>());
        using (no_grad())
            AssertClose(FullLogits(model, [.. prompt, .. next])[prompt.Length..], model.Forward(Ids(next), copied)[0]);
        Assert.Equal(prompt.Length + 2, cache.RowLength(row));
        Assert.Equal(prompt.Length, source.Length);
    }

    [Fact]
    public void BuffersAreKeptBetweenRequestsUnlessLargeAndNothingIsInFlight()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        using var source = Prefilled(model, [5, 17, 42]);
        foreach (var (kept, freed) in new[] { (GroupedKvCache.KeptWhenIdleBytes, false), (0L, true) })
        {
            using var cache = GroupedKvCache.For(model, kept);
            int first = cache.AddRow(), second = cache.AddRow();
            cache.AppendSlots(first, source, 3);
            cache.AppendSlots(second, source, 2);
            long bytes = cache.BufferBytes;
            Assert.True(bytes > 0);
            cache.Release(first);
            Assert.Equal(bytes, cache.BufferBytes); // a row still in flight
            cache.Release(second);
            Assert.Equal(freed ? 0 : bytes, cache.BufferBytes);
            Assert.Equal(0, cache.Length);
            // Either way the next request starts on a clean row.
            int next = cache.AddRow();
            cache.AppendSlots(next, source, 3);
            Assert.Equal(3, cache.Length);
        }
    }

    [Fact]
    public void AMalformedPlanIsRefused()
    {
        using var model = TinyModels.Create(TinyModels.Config());
        using var cache = GroupedKvCache.For(model);
        int row = cache.AddRow(), other = cache.AddRow();
        // Feeds must cover the tokens in order, say how many slots their row holds, and not share a row.
        Assert.Throws<ArgumentException>(() => cache.Plan([new GroupFeed(row, 0, 1, 0, Causal(0, 1))], 2));
        Assert.Throws<ArgumentException>(() => cache.Plan([new GroupFeed(row, 0, 1, 3, Causal(3, 1))], 1));
        Assert.Throws<ArgumentException>(() => cache.Plan([new GroupFeed(row, 0, 1, 0, Causal(0, 1)), new GroupFeed(row, 1, 1, 0, Causal(0, 1))], 2));
        Assert.Throws<ArgumentException>(() => cache.RowLength(5));
        using var plan = cache.Plan([new GroupFeed(row, 0, 1, 0, Causal(0, 1)), new GroupFeed(other, 1, 2, 0, Causal(0, 2))], 3);
        Assert.Throws<ArgumentException>(() => model.HiddenStatesGrouped(Ids([1, 2]), Ids([0, 1]), plan));
    }
}
