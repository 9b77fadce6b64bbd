using static TorchSharp.torch;

namespace Reasoner.Training.Tpo;

/// <summary>One list's loss, and its implicit rewards (detached) for the figures.</summary>
public sealed record TpoListLoss(Tensor Loss, double[] Rewards);

/// <summary>
/// TPO's list losses on given per-step log-ratios (no model involved). A list is N branches after the same prefix with
/// values v (higher is better); branch i's step k has the log-ratio lr[i,k] = Σ over its tokens of log π − log π_ref.
/// </summary>
public static class TpoLoss
{
    /// <summary>
    /// The paper (arXiv 2410.12854 v3): L = −Σ_{v_i &gt; v_j} λ_ij · log σ(RM_ij) (Eq. 7), with
    /// λ_ij = |2^{v_i} − 2^{v_j}| · |1/log(1+τ_i) − 1/log(1+τ_j)| (Eq. 8, LambdaLoss; τ the rank under the implicit reward
    /// r_i = β Σ_k lr[i,k], natural log as the paper writes it) and the adaptive step reward
    /// RM_ij = β Σ_k (1 + cos(e_k^i, e_k^j)) · (lr[i,k] − lr[j,k]) (Eq. 9–10). Steps align by index after the shared prefix;
    /// a step past the shorter branch has no partner and weight 1. Without embeddings RM_ij = r_i − r_j, and with N = 2
    /// and no λ the loss is DPO's.
    /// </summary>
    /// <param name="stepLogRatios">[N,S]; 0 past a branch's last step.</param>
    /// <param name="stepMask">[N,S] bool: which steps a branch has.</param>
    /// <param name="embeddings">[N,S,d] step embeddings (detached here), or null for no step weights.</param>
    public static TpoListLoss Paper(Tensor stepLogRatios, Tensor stepMask, IReadOnlyList<double> values, Tensor? embeddings, double beta, bool lambdaWeights)
    {
        Check(stepLogRatios, values, beta);
        using var scope = NewDisposeScope();
        var device = stepLogRatios.device;
        var rewards = beta * stepLogRatios.sum(1);                                                   // [N]
        Tensor differences;                                                                          // [N,N]: RM_ij
        if (embeddings is null) differences = rewards.unsqueeze(1) - rewards.unsqueeze(0);
        else
        {
            var e = embeddings.detach();
            var cos = nn.functional.cosine_similarity(e.unsqueeze(1), e.unsqueeze(0), dim: -1, eps: 1e-8);   // [N,N,S]
            var both = stepMask.unsqueeze(1) & stepMask.unsqueeze(0);
            var weights = where(both, 1 + cos, ones_like(cos));
            differences = beta * (weights * (stepLogRatios.unsqueeze(1) - stepLogRatios.unsqueeze(0))).sum(-1);
        }
        int n = values.Count;
        var rewardValues = rewards.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        var weight = new double[n * n];
        var rank = Ranks(rewardValues);
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (values[i] > values[j])
                    weight[i * n + j] = lambdaWeights
                        ? Math.Abs(Math.Pow(2, values[i]) - Math.Pow(2, values[j])) * Math.Abs(1 / Math.Log(1 + rank[i]) - 1 / Math.Log(1 + rank[j]))
                        : 1;
        var pairWeights = tensor(weight, [n, n], dtype: stepLogRatios.dtype, device: device);
        var loss = -(pairWeights * nn.functional.logsigmoid(differences)).sum();
        return new TpoListLoss(loss.MoveToOuterDisposeScope(), rewardValues);
    }

    /// <summary>
    /// The released code's shape (MrBlankness/TPO loss.py 6–65), with its intent where the code is defective: branch
    /// n's reward is p_n = β Σ_k w[n,k]·m[n,k] / Σ_k w[n,k], m the step's per-token mean log-ratio and
    /// w[n,k] = 1 + cos(e_k^n, e_k^0) against the first (best) branch; the loss is the plain pairwise
    /// −log σ((p_i − p_j)·sign(v_i − v_j)) averaged over the N(N−1) ordered pairs. Unlike the code, β scales the reward
    /// rather than wrapping the loss in −log σ(β·L) (which descent would raise), embeddings are detached, and steps past
    /// the first branch's count keep weight 1 rather than being clamped to the shortest branch.
    /// </summary>
    /// <param name="stepTokens">[N,S] tokens per step (0 past a branch's last step).</param>
    public static TpoListLoss Code(Tensor stepLogRatios, Tensor stepTokens, IReadOnlyList<double> values, Tensor? embeddings, double beta)
    {
        Check(stepLogRatios, values, beta);
        using var scope = NewDisposeScope();
        var mask = stepTokens > 0;
        var means = stepLogRatios / stepTokens.clamp_min(1);
        var weights = mask.to(stepLogRatios.dtype);
        if (embeddings is not null)
        {
            var e = embeddings.detach();
            var cos = nn.functional.cosine_similarity(e, e.narrow(0, 0, 1).expand_as(e), dim: -1, eps: 1e-8);  // [N,S]
            var paired = mask & mask.narrow(0, 0, 1);
            weights = where(paired, 1 + cos, weights);
        }
        var rewards = beta * (weights * means).sum(1) / weights.sum(1).clamp_min(1e-8);                 // [N]
        int n = values.Count;
        var sign = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (i != j) sign[i * n + j] = Math.Sign(values[i] - values[j]);
        var signs = tensor(sign, [n, n], dtype: stepLogRatios.dtype, device: stepLogRatios.device);
        var offDiagonal = 1 - eye(n, dtype: stepLogRatios.dtype, device: stepLogRatios.device);
        var loss = -(offDiagonal * nn.functional.logsigmoid((rewards.unsqueeze(1) - rewards.unsqueeze(0)) * signs)).sum() / (n * (n - 1));
        return new TpoListLoss(loss.MoveToOuterDisposeScope(), rewards.detach().cpu().to(ScalarType.Float64).data<double>().ToArray());
    }

    /// <summary>1-based rank positions by descending reward; ties keep list order (LambdaLoss sorts stably).</summary>
    public static int[] Ranks(IReadOnlyList<double> rewards)
    {
        var order = Enumerable.Range(0, rewards.Count).OrderByDescending(i => rewards[i]).ThenBy(i => i).ToArray();
        var rank = new int[rewards.Count];
        for (int k = 0; k < order.Length; k++) rank[order[k]] = k + 1;
        return rank;
    }

    private static void Check(Tensor stepLogRatios, IReadOnlyList<double> values, double beta)
    {
        if (beta <= 0) throw new ArgumentOutOfRangeException(nameof(beta), $"beta must be positive, got {beta}");
        if (stepLogRatios.dim() != 2 || stepLogRatios.shape[0] != values.Count)
            throw new ArgumentException($"step log-ratios must be [N, S] with N = {values.Count} values, got [{string.Join(", ", stepLogRatios.shape)}]");
        if (values.Count < 2) throw new ArgumentException("a list needs at least two branches");
    }
}
