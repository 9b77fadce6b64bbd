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
///
/// Thread-safe, so that several engine loops over one set of weights share one cache (<see cref="EngineReplicas"/>):
/// a prompt prefilled by one loop serves its extensions on any loop. An entry found by <see cref="Lookup"/> is leased
/// until the <see cref="Hit"/> is disposed: evicting it meanwhile only unlists it, and the last reader disposes it.
/// </summary>
internal sealed class PrefixCache(long tokenBudget) : IDisposable
{
    internal sealed class Entry(int[] tokenIds, KvCache cache, float[] nextLogProbs)
    {
        public int[] TokenIds { get; } = tokenIds;
        public KvCache Cache { get; } = cache;
        public float[] NextLogProbs { get; } = nextLogProbs;
        public long LastUsed { get; set; }
        public int Readers { get; set; }
        public bool Evicted { get; set; }
    }

    /// <summary>
    /// What <see cref="Lookup"/> found: the entry's cache (read it, never extend it) while the hit is not disposed,
    /// the next token's log-probabilities when the whole prompt matched, and the length of the shared prefix.
    /// </summary>
    public readonly struct Hit(PrefixCache? owner, Entry? entry, float[]? nextLogProbs, int shared) : IDisposable
    {
        public KvCache? Cache => entry?.Cache;

        public float[]? NextLogProbs => nextLogProbs;

        public int Shared => shared;

        public void Dispose()
        {
            if (entry is not null) owner!.Return(entry);
        }
    }

    private readonly object gate = new();
    private readonly List<Entry> entries = [];
    private long clock, cachedTokens, lookups, hits, reusedTokens, prefilledTokens;

    public PrefixCacheStats Stats
    {
        get { lock (gate) return new(lookups, hits, reusedTokens, prefilledTokens, entries.Count, cachedTokens); }
    }

    /// <summary>The entry sharing the longest prefix with <paramref name="tokenIds"/> (none when nothing matches), leased until the hit is disposed.</summary>
    public Hit Lookup(ReadOnlySpan<int> tokenIds)
    {
        lock (gate)
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
            if (best is null) return default;
            hits++;
            best.LastUsed = ++clock;
            best.Readers++;
            bool whole = bestShared == best.TokenIds.Length && bestShared == tokenIds.Length;
            return new Hit(this, best, whole ? best.NextLogProbs : null, bestShared);
        }
    }

    private void Return(Entry entry)
    {
        lock (gate)
            if (--entry.Readers == 0 && entry.Evicted) entry.Cache.Dispose();
    }

    /// <summary>Counts tokens reused from the cache and tokens run through the model for a prompt.</summary>
    public void Record(int reused, int prefilled)
    {
        lock (gate)
        {
            reusedTokens += reused;
            prefilledTokens += prefilled;
        }
    }

    /// <summary>Whether a prompt of this many tokens would be kept: the engine copies one out of its shared row only then.</summary>
    public bool Keeps(int tokens) => tokens <= tokenBudget;

    /// <summary>Takes ownership of a prompt's batch-1 cache: keeps it (evicting old entries) or disposes it.</summary>
    public void Retain(int[] tokenIds, KvCache cache, float[] nextLogProbs)
    {
        lock (gate)
        {
            // Another loop may have prefilled the same prompt meanwhile: one entry is enough.
            if (tokenIds.Length > tokenBudget || entries.Any(e => e.TokenIds.AsSpan().SequenceEqual(tokenIds)))
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
                Evict(oldest);
            }
        }
    }

    // Under the gate.
    private static void Evict(Entry entry)
    {
        entry.Evicted = true;
        if (entry.Readers == 0) entry.Cache.Dispose();
    }

    public void Clear()
    {
        lock (gate)
        {
            foreach (var entry in entries) Evict(entry);
            entries.Clear();
            cachedTokens = lookups = hits = reusedTokens = prefilledTokens = 0;
        }
    }

    public void Dispose() => Clear();
}
