using Reasoner.Training.Framework;

namespace Reasoner.Training.Tpo;

/// <summary>Which form of TPO's loss a list pays.</summary>
public enum TpoVariant
{
    /// <summary>
    /// The paper (arXiv 2410.12854 v3, Eq. 7–10): λ-weighted pairwise ranking of implicit rewards over every pair
    /// v_i &gt; v_j, each pair's reward difference summed over aligned steps weighted by 1 + cos of their embeddings.
    /// </summary>
    Paper,

    /// <summary>
    /// The released code's shape (MrBlankness/TPO loss.py): each branch's reward is the mean of its steps' per-token
    /// log-ratios weighted by 1 + cos against the first (best) branch's step, and a plain pairwise loss runs over all pairs.
    /// </summary>
    Code,
}

/// <summary>
/// TPO (Liao, Chu, Wang, ICLR 2025, arXiv 2410.12854). The paper's values, for 7B models with LoRA: β 0.5, lr 5e-7,
/// LoRA r 8 α 16, weight decay 0.01, 1 epoch, batch 1, max length 1024, lists of 5 to 10 responses. The defaults keep
/// TPO's β and take step-level DPO's learning rate and RPO term, both measured on the built-in model (README, "train dpo":
/// a model of a few million parameters does not move at 5e-7); README "train tpo" reports what they give.
/// </summary>
public sealed record TpoSettings : PolicyTrainingSettings
{
    public TpoSettings()
    {
        Batch = 4;
    }

    public TpoVariant Variant { get; init; } = TpoVariant.Paper;

    /// <summary>β of the implicit reward r = β·log π/π_ref (paper and code: 0.5).</summary>
    public double Beta { get; init; } = 0.5;

    /// <summary>LambdaLoss's weights λ_ij (paper Eq. 8); off gives every ranked pair weight 1.</summary>
    public bool LambdaWeights { get; init; } = true;

    /// <summary>The adaptive step reward (paper Eq. 9–10); off sums each branch's log-ratio plainly.</summary>
    public bool StepWeights { get; init; } = true;

    /// <summary>Fewest ranked branches a list needs (the lists: 3; a list of 2 is a DPO pair).</summary>
    public int MinListSize { get; init; } = 3;

    /// <summary>
    /// α of an added α·NLL per token of the best branch, as step-level DPO's default (RPO, Pang et al. 2024); it keeps the
    /// ranking from lowering every branch's probability at once. 0 is TPO as published.
    /// </summary>
    public double NllWeight { get; init; } = 1;

    public override void Validate()
    {
        base.Validate();
        if (!(Beta > 0)) throw new ArgumentException($"β must be positive, got {Beta}");
        if (MinListSize < 2) throw new ArgumentException($"a list needs at least 2 branches, got a minimum of {MinListSize}");
        if (NllWeight < 0) throw new ArgumentException($"the NLL weight must be >= 0, got {NllWeight}");
    }
}
