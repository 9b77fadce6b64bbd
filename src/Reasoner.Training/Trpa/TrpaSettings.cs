using Reasoner.Training.Framework;

namespace Reasoner.Training.Trpa;

/// <summary>
/// TRPA (Su et al., arXiv 2504.04524; code XueruiSu/Trust-Region-Preference-Approximation, main_TRPA.sh). The released
/// values, for 7B models: β 0.1, anisotropy 2.5, trust-region coefficient 0.001, 16 rollouts per prompt at temperature 1,
/// lr 4e-7. The defaults keep the method's own (β, anisotropy, coefficient, group size) and take the learning rate
/// measured for step-level DPO on the built-in model (README, "train dpo"), whose few million parameters do not move at 4e-7.
/// </summary>
public sealed record TrpaSettings : PolicyTrainingSettings
{
    public TrpaSettings()
    {
        Batch = 4;
    }

    /// <summary>Rollouts per prompt in the released run (rollout_n), what on-policy sampling draws when not told otherwise.</summary>
    public const int ReleasedSamples = 16;

    /// <summary>β of h = β·(r_w − r_l) (released: 0.1).</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary>Factor on h when the winner is at level 1 (released: 2.5).</summary>
    public double Anisotropy { get; init; } = 2.5;

    /// <summary>Coefficient of the k3 KL to the sampling policy (released tr_kl_loss_coef: 0.001).</summary>
    public double TrustRegion { get; init; } = 0.001;

    /// <summary>Most solutions per group (released rollout_n: 16); a tree with more terminals gives a seeded sample of them.</summary>
    public int GroupSize { get; init; } = 16;

    /// <summary>The level of a correct, incorrect, unparsable and cut-off solution (1 best), as TRPA's rules assign them.</summary>
    public IReadOnlyList<int> Levels { get; init; } = [1, 2, 3, 4];

    public override void Validate()
    {
        base.Validate();
        if (!(Beta > 0)) throw new ArgumentException($"β must be positive, got {Beta}");
        if (!(Anisotropy > 0)) throw new ArgumentException($"the anisotropy must be positive, got {Anisotropy}");
        if (TrustRegion < 0) throw new ArgumentException($"the trust-region coefficient must be >= 0, got {TrustRegion}");
        if (GroupSize < 2) throw new ArgumentException($"a group needs at least 2 solutions, got a group size of {GroupSize}");
        if (Levels.Count != 4 || Levels.Any(l => l < 1))
            throw new ArgumentException($"levels need 4 values of at least 1 (correct, incorrect, unparsable, cut off), got {string.Join(",", Levels)}");
    }
}
