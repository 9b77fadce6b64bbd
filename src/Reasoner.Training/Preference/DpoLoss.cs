using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Training.Preference;

/// <summary>Which form of the DPO objective a pair pays.</summary>
public enum DpoLossKind
{
    /// <summary>DPO (Rafailov et al. 2023, Eq. 7): −log σ(β·h), h the difference of the two log-ratios.</summary>
    Sigmoid,

    /// <summary>
    /// Conservative DPO with a per-pair label-smoothing ε from visit counts: −(1−ε)·log σ(β·h) − ε·log σ(−β·h),
    /// ε = min(1 − 1/(1 + N_rejected/max(1, N_chosen)), 0.5). MCTS-DPO's scripts train with this (--conservative;
    /// "values for label-smoothing: visit count"): a rejected step the search kept visiting is a less certain loss.
    /// </summary>
    Conservative,

    /// <summary>IPO (Azar et al. 2023): (h − 1/(2β))², with h from per-token mean log-probabilities (MCTS-DPO's --ipo).</summary>
    Ipo,
}

/// <summary>
/// The DPO family of losses on given sequence log-probabilities (no model involved), as MCTS-DPO's trainer
/// computes them: h = (log π(y_w) − log π_ref(y_w)) − (log π(y_l) − log π_ref(y_l)). Tokens the two sides share
/// after the prompt cancel in h, which is why MCTS-DPO's "loss from the divergence token on" is the same loss.
/// </summary>
public static class DpoLoss
{
    /// <summary>Per-pair losses, shape [B].</summary>
    /// <param name="policyChosen">[B] log π(y_w|x), summed over tokens (per-token means for <see cref="DpoLossKind.Ipo"/>).</param>
    /// <param name="smoothing">[B] ε per pair; used by <see cref="DpoLossKind.Conservative"/> only.</param>
    public static Tensor Compute(DpoLossKind kind, Tensor policyChosen, Tensor policyRejected, Tensor referenceChosen, Tensor referenceRejected,
        double beta, Tensor? smoothing = null)
    {
        if (beta <= 0) throw new ArgumentOutOfRangeException(nameof(beta), $"beta must be positive, got {beta}");
        var h = (policyChosen - referenceChosen) - (policyRejected - referenceRejected);
        return kind switch
        {
            DpoLossKind.Sigmoid => -nn.functional.logsigmoid(beta * h),
            DpoLossKind.Conservative => -(1 - (smoothing ?? throw new ArgumentNullException(nameof(smoothing), "conservative DPO needs ε per pair")))
                                        * nn.functional.logsigmoid(beta * h) - smoothing * nn.functional.logsigmoid(-beta * h),
            DpoLossKind.Ipo => IpoSquare(h, beta),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };
    }

    // (h − 1/(2β))² as d·d: square() is pow with a temporary Scalar a collection can free mid-call (KeptScalars).
    private static Tensor IpoSquare(Tensor h, double beta)
    {
        using var target = (Scalar)(1 / (2 * beta));
        var d = h - target;
        return d * d;
    }

    /// <summary>MCTS-DPO's label smoothing from visit counts: 0 when the rejected step was never revisited, at most 0.5.</summary>
    public static double VisitSmoothing(int chosenVisits, int rejectedVisits) =>
        Math.Min(1 - 1 / (1 + (double)Math.Max(0, rejectedVisits) / Math.Max(1, chosenVisits)), 0.5);
}
