using Reasoner.Core.Trees;

namespace Reasoner.Search;

/// <summary>
/// How the scorers' values combine into <see cref="TreeNode.StepValue"/>, the value a search ranks steps by:
/// <c>Outcome·outcome + SelfEval·selfEval / max(parentDepth − SelfEvalDepthOffset, 1) + MonteCarlo·mc + Verifier·verifier</c>,
/// a missing score counting as 0. A scorer runs only when its weight is not zero; outcome checking always runs, since
/// it costs no model call and fills in every terminal's answer.
/// </summary>
public sealed record ScorerWeights
{
    public double Outcome { get; init; }

    public double SelfEval { get; init; }

    public double MonteCarlo { get; init; }

    public double Verifier { get; init; }

    /// <summary>
    /// MCTS-DPO divides the self-evaluation by max(d − 3, 1), d the depth of the step's parent
    /// (search_config.get_values, "penalize generations that are too long"), so self-evaluation counts less deep in a
    /// solution and the outcome dominates there.
    /// </summary>
    public int SelfEvalDepthOffset { get; init; } = 3;

    /// <summary>MCTS-DPO's node value: self-evaluation plus the ±1 outcome at terminals.</summary>
    public static ScorerWeights MctsDpo => new() { Outcome = 1, SelfEval = 1 };

    /// <summary>Tree-PLV's step reward: the Monte Carlo roll-out accuracy alone.</summary>
    public static ScorerWeights TreePlv => new() { MonteCarlo = 1 };

    /// <summary>At test time, where the reference answer must not be used: the policy's own self-evaluation.</summary>
    public static ScorerWeights SelfEvaluation => new() { SelfEval = 1 };

    /// <summary>At test time with a trained verifier or value model (OREO's value-guided beam search).</summary>
    public static ScorerWeights VerifierOnly => new() { Verifier = 1 };

    public double Combine(TreeNode node)
    {
        var selfEvalScale = Math.Max(node.Depth - 1 - SelfEvalDepthOffset, 1);
        return Outcome * (node.Outcome ?? 0)
            + SelfEval * (node.SelfEval ?? 0) / selfEvalScale
            + MonteCarlo * (node.MonteCarloValue ?? 0)
            + Verifier * (node.VerifierScore ?? 0);
    }

    internal void Record(SettingsRecorder recorder) => recorder
        .Add("weights.outcome", Outcome)
        .Add("weights.selfEval", SelfEval)
        .Add("weights.monteCarlo", MonteCarlo)
        .Add("weights.verifier", Verifier)
        .Add("weights.selfEvalDepthOffset", SelfEvalDepthOffset);
}
