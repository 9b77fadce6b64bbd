using Reasoner.Training.Framework;

namespace Reasoner.Training.Oreo;

/// <summary>
/// OREO at step level (Wang et al., arXiv 2412.16145; code jwhj/OREO). The released values, for 1.5B–7B models: β 0.03,
/// KL weight 0.1 at step level (0.01 in the token-level scripts), lr 5e-6, 1 epoch, batch 128, a separate critic. The
/// defaults keep β and the KL weight and take the policy trainers' learning rate on the built-in model.
/// </summary>
public sealed record OreoSettings : PolicyTrainingSettings
{
    /// <summary>β of the soft Bellman residual β·A_t + V(s_t) − R (released: 0.03).</summary>
    public double Beta { get; init; } = 0.03;

    /// <summary>α of the exact per-token KL to the reference (released step level: 0.1).</summary>
    public double KlWeight { get; init; } = 0.1;

    /// <summary>Most root-to-terminal paths per problem (a seeded sample beyond; the 7B recipe kept 8: at most 4 right, 4 wrong).</summary>
    public int MaxPaths { get; init; } = 8;

    public override void Validate()
    {
        base.Validate();
        if (!(Beta > 0)) throw new ArgumentException($"β must be positive, got {Beta}");
        if (KlWeight < 0) throw new ArgumentException($"the KL weight must be >= 0, got {KlWeight}");
        if (MaxPaths < 1) throw new ArgumentException($"at least one path per problem, got {MaxPaths}");
    }
}
