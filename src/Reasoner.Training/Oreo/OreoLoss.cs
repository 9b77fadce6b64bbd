using static TorchSharp.torch;

namespace Reasoner.Training.Oreo;

/// <summary>
/// OREO's losses at step level (Wang et al., arXiv 2412.16145, §3; released code jwhj/OREO,
/// openrlhf/trainer/pcl_trainer.py), on given per-step quantities: no model involved. A path's state s_t is the prompt and
/// its first t steps; its action a_t is step t; the reward R is 1 at the end of a right solution, else 0. With r_t the
/// log-ratio log π(a_t|s_t) − log π_ref(a_t|s_t) summed over the step's tokens, A_t = Σ_{i≥t} r_i telescopes the soft
/// Bellman equation V*(s_t) = R − β·Σ_{i≥t} log π*/π_ref. Released defaults: β 0.03, KL weight 0.01 (0.1 at step level).
/// </summary>
public static class OreoLoss
{
    /// <summary>A_t = Σ_{i≥t} r_i along each path: [P,S] from [P,S], steps past a path's end (mask 0) adding nothing.</summary>
    public static Tensor ReverseCumsum(Tensor stepRatios, Tensor mask) =>
        (stepRatios * mask).flip(1).cumsum(1).flip(1);

    /// <summary>
    /// The value loss, mean over states of (β·A_t + V(s_t) − R)², with the policy's log-ratios taken without gradient,
    /// so that only the value model trains on it (pcl_trainer.py, value loss).
    /// </summary>
    /// <param name="stepRatios">[P,S] r_t per step.</param>
    /// <param name="values">[P,S] V(s_t), the value model's output at the state before each step.</param>
    /// <param name="rewards">[P] R of each path.</param>
    /// <param name="mask">[P,S] 1 on a path's steps.</param>
    public static Tensor Value(Tensor stepRatios, Tensor values, Tensor rewards, Tensor mask, double beta)
    {
        using var scope = NewDisposeScope();
        var a = ReverseCumsum(stepRatios.detach(), mask);
        var residual = beta * a + values - rewards.unsqueeze(1);
        // r·r rather than square(): square is pow with a temporary Scalar a collection can free mid-call (KeptScalars).
        return MaskedMean(residual * residual, mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The policy loss at step level, mean over states of (β·(A_t − A_{t+1} + sg[A_{t+1}]) + sg[V(s_t)] − R)²: its value
    /// is the value loss's, but the gradient reaches the policy only through the current step's log-ratio
    /// (pcl_trainer.py, dro_loss with --step_level).
    /// </summary>
    public static Tensor Policy(Tensor stepRatios, Tensor values, Tensor rewards, Tensor mask, double beta)
    {
        using var scope = NewDisposeScope();
        var masked = stepRatios * mask;
        var later = ReverseCumsum(stepRatios, mask) - masked;   // A_{t+1}
        var residual = beta * (masked + later.detach()) + values.detach() - rewards.unsqueeze(1);
        return MaskedMean(residual * residual, mask).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The exact per-token KL(π ‖ π_ref) over the vocabulary, Σ_v π(v)·(log π(v) − log π_ref(v)), averaged over action
    /// tokens (pcl_trainer.py with --unbiased_kl).
    /// </summary>
    /// <param name="policyLogits">[B,T,V] the policy's logits.</param>
    /// <param name="referenceLogits">[B,T,V] the reference's.</param>
    /// <param name="tokenMask">[B,T] 1 on action tokens.</param>
    public static Tensor Kl(Tensor policyLogits, Tensor referenceLogits, Tensor tokenMask)
    {
        using var scope = NewDisposeScope();
        return KlOfLogProbs(policyLogits.to(ScalarType.Float32).log_softmax(-1), referenceLogits.to(ScalarType.Float32).log_softmax(-1), tokenMask)
            .MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Kl"/> from log-probabilities the caller already has (the objective needs them for the log-ratios too).</summary>
    public static Tensor KlOfLogProbs(Tensor policyLogProbs, Tensor referenceLogProbs, Tensor tokenMask)
    {
        using var scope = NewDisposeScope();
        var perToken = (policyLogProbs.exp() * (policyLogProbs - referenceLogProbs)).sum(-1);
        return MaskedMean(perToken, tokenMask).MoveToOuterDisposeScope();
    }

    private static Tensor MaskedMean(Tensor values, Tensor mask) => (values * mask).sum() / mask.sum().clamp_min(1);
}
