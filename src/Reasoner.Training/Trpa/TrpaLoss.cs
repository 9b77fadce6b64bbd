using static TorchSharp.torch;

namespace Reasoner.Training.Trpa;

/// <summary>TRPA's losses on given log-ratios (no model involved), as the released code computes them.</summary>
public static class TrpaLoss
{
    /// <summary>
    /// One group's preference loss (core_algos.py compute_pairwise_policy_loss): r the per-token mean log-ratio of each
    /// solution to the reference; every pair at different levels gives h = β·(r_w − r_l), times <paramref name="anisotropy"/>
    /// when the winner is at level 1; the loss is −mean log σ(h). A group without a cross-level pair falls back to
    /// −mean log σ(±r) without β: + for level-1 solutions, − for the others.
    /// </summary>
    /// <param name="meanLogRatios">[G] per-token mean of log π − log π_ref for each solution.</param>
    /// <param name="levels">Each solution's level, 1 best.</param>
    public static Tensor Preference(Tensor meanLogRatios, IReadOnlyList<int> levels, double beta, double anisotropy)
    {
        if (meanLogRatios.dim() != 1 || meanLogRatios.shape[0] != levels.Count)
            throw new ArgumentException($"log-ratios must be [G] with G = {levels.Count}, got [{string.Join(", ", meanLogRatios.shape)}]");
        using var scope = NewDisposeScope();
        int g = levels.Count;
        var scale = new double[g * g];
        int pairs = 0;
        for (int i = 0; i < g; i++)
            for (int j = 0; j < g; j++)
                if (levels[i] < levels[j])
                {
                    scale[i * g + j] = beta * (levels[i] == 1 ? anisotropy : 1);
                    pairs++;
                }
        if (pairs == 0)
        {
            var signs = tensor(levels.Select(l => l == 1 ? 1.0 : -1.0).ToArray(), dtype: meanLogRatios.dtype, device: meanLogRatios.device);
            return (-nn.functional.logsigmoid(signs * meanLogRatios).mean()).MoveToOuterDisposeScope();
        }
        var h = tensor(scale, [g, g], dtype: meanLogRatios.dtype, device: meanLogRatios.device) * (meanLogRatios.unsqueeze(1) - meanLogRatios.unsqueeze(0));
        var isPair = tensor(scale.Select(s => s > 0 ? 1.0 : 0.0).ToArray(), [g, g], dtype: meanLogRatios.dtype, device: meanLogRatios.device);
        return (-(isPair * nn.functional.logsigmoid(h)).sum() / pairs).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The trust region (dp_actor.py, TRPA branch, verl's low_var_kl): the k3 estimate of the KL between the sampling policy
    /// and π per token, exp(old − new) − (old − new) − 1, clamped to ±10, averaged over the masked tokens.
    /// </summary>
    /// <param name="policy">[B,T] per-token log π.</param>
    /// <param name="old">[B,T] per-token log π_old of the policy that sampled the solutions.</param>
    /// <param name="mask">[B,T] 1 on response tokens.</param>
    public static Tensor TrustRegionKl(Tensor policy, Tensor old, Tensor mask)
    {
        using var scope = NewDisposeScope();
        var delta = old - policy;
        var kl = (delta.exp() - delta - 1).clamp(-10, 10);
        return ((kl * mask).sum() / mask.sum().clamp_min(1)).MoveToOuterDisposeScope();
    }
}
