using static TorchSharp.torch;

namespace Reasoner.Training.Batching;

/// <summary>What a batch costs and teaches: tokens through the forward pass, and tokens the loss covers.</summary>
public interface ITokenCounts
{
    long RealTokens { get; }

    long TargetTokens { get; }
}

/// <summary>
/// Sequences padded on the right into rectangles. Right padding keeps every real token at its natural
/// position, and causal attention means no real token ever sees a pad.
/// </summary>
/// <param name="InputIds">[B,T] int64; pads hold <c>padId</c>.</param>
/// <param name="AttentionMask">[B,T] bool: true on real tokens.</param>
/// <param name="LossMask">[B,T] float32: the sequence's <see cref="TrainingSequence.LossWeight"/> (1 unless set) where the token is a target (not prompt, not pad), else 0.</param>
public sealed record TokenBatch(Tensor InputIds, Tensor AttentionMask, Tensor LossMask) : ITokenCounts, IDisposable
{
    public long Rows => InputIds.shape[0];

    public long Width => InputIds.shape[1];

    /// <summary>Real tokens (prompt and target), what the forward pass pays for.</summary>
    public long RealTokens { get; private init; }

    public long TargetTokens { get; private init; }

    public static TokenBatch Collate(IReadOnlyList<TrainingSequence> sequences, int padId, Device? device = null)
    {
        if (sequences.Count == 0) throw new ArgumentException("a batch needs at least one sequence", nameof(sequences));
        int rows = sequences.Count, width = sequences.Max(s => s.Length);
        var ids = new long[rows * width];
        var real = new bool[rows * width];
        var target = new float[rows * width];
        for (int r = 0; r < rows; r++)
        {
            var s = sequences[r];
            for (int t = 0; t < width; t++)
            {
                int i = r * width + t;
                ids[i] = t < s.Length ? s.Tokens[t] : padId;
                real[i] = t < s.Length;
                target[i] = t >= s.PromptLength && t < s.Length ? s.LossWeight : 0f;
            }
        }
        return new TokenBatch(
            tensor(ids, [rows, width], device: device),
            tensor(real, [rows, width], device: device),
            tensor(target, [rows, width], device: device))
        {
            RealTokens = sequences.Sum(s => (long)s.Length),
            TargetTokens = sequences.Sum(s => (long)s.TargetLength),
        };
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
        LossMask.Dispose();
    }
}
