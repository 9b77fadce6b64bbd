using Reasoner.Models;
using Reasoner.Models.Generation;
using static TorchSharp.torch;

namespace Reasoner.Tests.Generation;

/// <summary>The prefix cache shared by several engine loops: leased entries outlive their eviction, and one prompt is kept once.</summary>
public class PrefixCacheTests
{
    private static KvCache Slots(int count) => KvCache.FromSlots([(zeros(1, 1, count, 2), zeros(1, 1, count, 2))]);

    [Fact]
    public void AnEntryEvictedWhileLeasedStaysReadableUntilTheLeaseEnds()
    {
        using var cache = new PrefixCache(tokenBudget: 4);
        var parent = Slots(3);
        cache.Retain([1, 2, 3], parent, []);
        var hit = cache.Lookup([1, 2, 3, 9]);
        Assert.Same(parent, hit.Cache);
        Assert.Equal(3, hit.Shared);
        Assert.Null(hit.NextLogProbs); // a partial match: the last prompt token is still fed

        cache.Retain([5, 6, 7], Slots(3), []); // over the budget: the leased entry is evicted
        Assert.Equal(1, cache.Stats.Entries);
        Assert.Equal(3, parent.Length); // another loop may still be copying its slots
        hit.Dispose();
        Assert.Equal(0, parent.Length); // the last reader disposed it
        Assert.Null(cache.Lookup([1, 2, 3]).Cache);
    }

    [Fact]
    public void APromptTwoLoopsPrefilledAtOnceIsKeptOnce()
    {
        using var cache = new PrefixCache(tokenBudget: 100);
        var first = Slots(3);
        var second = Slots(3);
        cache.Retain([1, 2, 3], first, [0.5f]);
        cache.Retain([1, 2, 3], second, [0.5f]);
        Assert.Equal(1, cache.Stats.Entries);
        Assert.Equal(3, cache.Stats.CachedTokens);
        Assert.Equal(0, second.Length); // disposed at once
        using var hit = cache.Lookup([1, 2, 3]);
        Assert.Same(first, hit.Cache);
        Assert.Equal([0.5f], hit.NextLogProbs!); // an exact match carries the next token's distribution
    }

    [Fact]
    public void ClearingDisposesEntriesNobodyReads()
    {
        var cache = new PrefixCache(tokenBudget: 100);
        var idle = Slots(2);
        var read = Slots(2);
        cache.Retain([1, 2], idle, []);
        cache.Retain([3, 4], read, []);
        var hit = cache.Lookup([3, 4, 5]);
        cache.Dispose();
        Assert.Equal(0, idle.Length);
        Assert.Equal(2, read.Length);
        hit.Dispose();
        Assert.Equal(0, read.Length);
    }
}
