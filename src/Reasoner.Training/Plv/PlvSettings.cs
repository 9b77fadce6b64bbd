using Reasoner.Training.Framework;

namespace Reasoner.Training.Plv;

/// <summary>
/// Tree-PLV (He et al., EMNLP 2024, arXiv 2407.00390; no code released, PAPERS.md digests the paper). The paper's values,
/// for Mistral-7B with LoRA: margin α 0.375 between sibling rewards, lr 1e-6 with a cosine schedule, 1 epoch. The
/// defaults keep the margin and take the learning rate the policy trainers use on the built-in model, whose few million
/// parameters do not move at 1e-6.
/// </summary>
public sealed record PlvSettings : PolicyTrainingSettings
{
    /// <summary>Least difference of two siblings' rewards for them to make a pair (α = 0.375).</summary>
    public double Margin { get; init; } = 0.375;

    public override void Validate()
    {
        base.Validate();
        if (Margin < 0) throw new ArgumentException($"the margin must be >= 0, got {Margin}");
    }
}
