namespace Reasoner.Models.Generation;

public sealed record TorchEngineOptions
{
    /// <summary>
    /// Prompt tokens the prefix cache may hold across requests; 0 turns it off. A token costs
    /// 2 × layers × kvHeads × headDim × 4 bytes in fp32 (12 KiB for 6 layers of 256 channels); an entry also keeps
    /// its buffers' spare room for appending (64 slots, or up to as many slots again as it holds once it has grown).
    /// </summary>
    public long PrefixCacheTokens { get; init; } = 16_384;

    /// <summary>
    /// Serve every request in flight in one forward per token (on), or one request after another (off: the
    /// unbatched engine that benchmarks and tests compare against).
    /// </summary>
    public bool BatchAcrossRequests { get; init; } = true;

    /// <summary>
    /// Intra-op threads of the forwards that feed more than <see cref="SmallForwardTokens"/> tokens (prefills, scored
    /// continuations); null: the process default libtorch gives the engine's thread. Set on the engine's own thread only
    /// (<see cref="IntraOpThreads"/>), so other threads keep theirs.
    /// </summary>
    public int? Threads { get; init; }

    /// <summary>
    /// Forwards feeding at most this many tokens — decoding steps of a few rows — run on one thread; 0: every forward on
    /// <see cref="Threads"/>. Each of a forward's ~200 libtorch calls hands work to the other threads and waits for them,
    /// which a forward that small does not repay (<c>bench search --small-forward-tokens</c> compares thresholds; README).
    /// Where another thread keeps a libtorch team (a trainer evaluating its model) every hand-off is a wake-up; the model
    /// an engine serves therefore loads on a thread of its own (<see cref="IntraOpThreads.OnThreadOfItsOwn"/>).
    /// </summary>
    public int SmallForwardTokens { get; init; } = 16;

    /// <summary>Keep generating past the end-of-sequence token until the token limit (benchmarks; vLLM's ignore_eos).</summary>
    public bool IgnoreEndOfSequence { get; init; }
}

/// <summary>
/// The engine loop's forwards since it started: how many, how many requests each served on average and at most, the
/// tokens they fed, and the time the loop was at work (taking requests in and running forwards) rather than waiting.
/// </summary>
public sealed record EngineBatchStats(long Forwards, long RequestsServed, int LargestBatch, long TokensFed, TimeSpan Busy)
{
    public double MeanRequestsPerForward => Forwards == 0 ? 0 : (double)RequestsServed / Forwards;

    public double MeanTokensPerForward => Forwards == 0 ? 0 : (double)TokensFed / Forwards;

    /// <summary>Busy time per forward: what one forward costs at the batch sizes it ran at.</summary>
    public TimeSpan MeanForwardTime => Forwards == 0 ? TimeSpan.Zero : Busy / Forwards;
}
