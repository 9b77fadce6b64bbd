namespace Reasoner.Models.Generation;

public sealed record TorchEngineOptions
{
    /// <summary>
    /// Prompt tokens the prefix cache may hold across requests; 0 turns it off. A token costs
    /// 2 × layers × kvHeads × headDim × 4 bytes in fp32 (12 KiB for 6 layers of 256 channels); an entry also keeps
    /// its buffers' spare room for appending (64 slots, or up to as many slots again as it holds once it has grown).
    /// </summary>
    public long PrefixCacheTokens { get; init; } = 16_384;

    /// <summary>Keep generating past the end-of-sequence token until the token limit (benchmarks; vLLM's ignore_eos).</summary>
    public bool IgnoreEndOfSequence { get; init; }
}
