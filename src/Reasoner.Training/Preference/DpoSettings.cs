using Reasoner.Training.Framework;

namespace Reasoner.Training.Preference;

/// <summary>
/// Settings of a step-level DPO run. Defaults follow MCTS-DPO (arXiv 2405.00451, scripts/mcts_mathqa.sh) where they
/// carry over: β 0.1, conservative loss, best-vs-worst pairs without a margin, warmup 3 % of the steps then cosine,
/// max_length 512. Two do not, both measured on the built-in model (README, "train dpo"): the learning rate (MCTS-DPO
/// tunes a 7B model at 1e-6; a model of a few million parameters needs a larger step to move at all) and RPO's NLL
/// term, without which DPO lowered the chosen steps' probability along with the rejected ones' and greedy accuracy fell.
/// </summary>
public sealed record DpoSettings : PolicyTrainingSettings
{
    public DpoLossKind Loss { get; init; } = DpoLossKind.Conservative;

    /// <summary>β: how far the policy may move from the reference per unit of preference (MCTS-DPO scale_coeff 0.1).</summary>
    public double Beta { get; init; } = 0.1;

    /// <summary>
    /// α of RPO's added term, α · NLL(chosen) per token (Pang et al. 2024, "Iterative Reasoning Preference Optimization",
    /// α = 1); 0 is plain DPO as MCTS-DPO trains.
    /// </summary>
    public double NllWeight { get; init; } = 1;

    public override void Validate()
    {
        base.Validate();
        if (!(Beta > 0)) throw new ArgumentException($"β must be positive, got {Beta}");
        if (NllWeight < 0) throw new ArgumentException($"the NLL weight must be >= 0, got {NllWeight}");
    }
}
