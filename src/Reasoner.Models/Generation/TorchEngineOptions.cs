namespace Reasoner.Models.Generation;

public sealed record TorchEngineOptions
{
    /// <summary>
    /// Prompt tokens the prefix cache may hold across requests; 0 turns it off. A token costs
    /// 2 × layers × kvHeads × headDim × 4 bytes in fp32 (12 KiB for 6 layers of 256 channels), and each
    /// entry has up to 64 spare slots besides.
    /// </summary>
    public long PrefixCacheTokens { get; init; } = 16_384;

    /// <summary>Keep generating past the end-of-sequence token until the token limit (benchmarks; vLLM's ignore_eos).</summary>
    public bool IgnoreEndOfSequence { get; init; }
}
