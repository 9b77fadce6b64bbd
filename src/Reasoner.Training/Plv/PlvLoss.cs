using static TorchSharp.torch;

namespace Reasoner.Training.Plv;

/// <summary>Tree-PLV's step-level ranking loss on given scores (no model involved).</summary>
public static class PlvLoss
{
    /// <summary>
    /// L = −Σ_{i=d..m} log σ(r(x, y⁺_{1:i}) − r(x, y⁻_{1:i})) per pair (the paper's Eq. for the step-level ranking loss, d the
    /// divergence step, m the shorter side's last), averaged over the pairs.
    /// </summary>
    /// <param name="chosen">[P,S] the verifier's score at the end of each compared step of the preferred side.</param>
    /// <param name="rejected">[P,S] the same for the other side.</param>
    /// <param name="mask">[P,S] 1 where step i is compared for that pair (i ≤ m), else 0.</param>
    public static Tensor Ranking(Tensor chosen, Tensor rejected, Tensor mask)
    {
        if (!chosen.shape.SequenceEqual(rejected.shape) || !chosen.shape.SequenceEqual(mask.shape) || chosen.dim() != 2)
            throw new ArgumentException($"scores and mask must all be [pairs, steps], got [{string.Join(", ", chosen.shape)}], [{string.Join(", ", rejected.shape)}], [{string.Join(", ", mask.shape)}]");
        using var scope = NewDisposeScope();
        return (-(nn.functional.logsigmoid(chosen - rejected) * mask).sum(1).mean()).MoveToOuterDisposeScope();
    }
}
