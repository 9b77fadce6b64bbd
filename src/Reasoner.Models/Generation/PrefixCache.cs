namespace Reasoner.Models.Generation;

/// <summary>Counters of the prefix cache since the engine started (or was last cleared).</summary>
public sealed record PrefixCacheStats(long Lookups, long Hits, long ReusedTokens, long PrefilledTokens, int Entries, long CachedTokens);

/// <summary>
/// Recent prompts' keys and values, so a request whose prompt extends an earlier one (a search node's children:
/// parent prompt + parent step) prefills only the new tokens. Each entry is a prompt's token ids, its batch-1
/// <see cref="KvCache"/> and the log-probabilities of the token after it; entries are evicted least recently used
/// first once they hold more than the token budget, and disposed then.
///
/// Lookup is a linear scan for the longest common prefix of token ids, not a trie or a hash of prefixes: a match
/// need not be a whole entry — when BPE merges across the seam of prompt + step, the new prompt's ids share all
/// but the last few tokens of the cached one, and those shared tokens are still reused. The scan compares at most
/// the budget's worth of token ids (tens of microseconds), against a forward pass of milliseconds.
/// Not thread-safe: the engine calls it under its lock.
/// </summary>
internal sealed class PrefixCache(long tokenBudget) : IDisposable
{
    private sealed class Entry(int[] tokenIds, KvCache cache, float[] nextLogProbs)
    {
        public int[] TokenIds { get; } = tokenIds;
        public KvCache Cache { get; } = cache;
        public float[] NextLogProbs { get; } = nextLogProbs;
        public long LastUsed { get; set; }
    }

    private readonly List<Entry> entries = [];
    private long clock, cachedTokens, lookups, hits, reusedTokens, prefilledTokens;

    public PrefixCacheStats Stats => new(lookups, hits, reusedTokens, prefilledTokens, entries.Count, cachedTokens);

    /// <summary>
    /// The entry sharing the longest prefix with <paramref name="tokenIds"/>, and the length of that prefix
    /// (0 and no entry when nothing matches). The entry's cache stays owned by this prefix cache: read it, never extend it.
    /// </summary>
    public (KvCache? Cache, float[]? NextLogProbs, int Shared) Lookup(ReadOnlySpan<int> tokenIds)
    {
        lookups++;
        Entry? best = null;
        int bestShared = 0;
        foreach (var entry in entries)
        {
            int shared = tokenIds.CommonPrefixLength(entry.TokenIds);
            // Among equally long matches prefer an exact one: its next-token log-probabilities spare even the last token's forward.
            bool exact = shared == tokenIds.Length && shared == entry.TokenIds.Length;
            if (shared > bestShared || (shared == bestShared && shared > 0 && exact))
                (best, bestShared) = (entry, shared);
        }
        if (best is null) return (null, null, 0);
        hits++;
        best.LastUsed = ++clock;
        bool whole = bestShared == best.TokenIds.Length && bestShared == tokenIds.Length;
        return (best.Cache, whole ? best.NextLogProbs : null, bestShared);
    }

    /// <summary>Counts tokens reused from the cache and tokens run through the model for a prompt.</summary>
    public void Record(int reused, int prefilled)
    {
        reusedTokens += reused;
        prefilledTokens += prefilled;
    }

    /// <summary>Whether a prompt of this many tokens would be kept: the engine copies one out of its shared row only then.</summary>
    public bool Keeps(int tokens) => tokens <= tokenBudget;

    /// <summary>Takes ownership of a prompt's batch-1 cache: keeps it (evicting old entries) or disposes it.</summary>
    public void Retain(int[] tokenIds, KvCache cache, float[] nextLogProbs)
    {
        // No entry holds exactly these ids: the engine would have used it instead of prefilling.
        if (tokenIds.Length > tokenBudget)
        {
            cache.Dispose();
            return;
        }
        entries.Add(new Entry(tokenIds, cache, nextLogProbs) { LastUsed = ++clock });
        cachedTokens += tokenIds.Length;
        while (cachedTokens > tokenBudget)
        {
            var oldest = entries.MinBy(e => e.LastUsed)!;
            entries.Remove(oldest);
            cachedTokens -= oldest.TokenIds.Length;
            oldest.Cache.Dispose();
        }
    }

    public void Clear()
    {
        foreach (var entry in entries) entry.Cache.Dispose();
        entries.Clear();
        cachedTokens = lookups = hits = reusedTokens = prefilledTokens = 0;
    }

    public void Dispose() => Clear();
}
