namespace Reasoner.Training.Preference;

/// <summary>
/// Settings of a step-level DPO run. Defaults follow MCTS-DPO (arXiv 2405.00451, scripts/mcts_mathqa.sh) where they
/// carry over: β 0.1, conservative loss, best-vs-worst pairs without a margin, warmup 3 % of the steps then cosine,
/// max_length 512. Two do not, both measured on the built-in model (README, "train dpo"): the learning rate (MCTS-DPO
/// tunes a 7B model at 1e-6; a model of a few million parameters needs a larger step to move at all) and RPO's NLL
/// term, without which DPO lowered the chosen steps' probability along with the rejected ones' and greedy accuracy fell.
/// </summary>
public sealed record DpoSettings
{
    public DpoLossKind Loss { get; init; } = DpoLossKind.Conservative;

    /// <summary>β: how far the policy may move from the reference per unit of preference (MCTS-DPO scale_coeff 0.1).</summary>
    public double Beta { get; init; } = 0.1;

    public double LearningRate { get; init; } = 1e-4;

    /// <summary>
    /// α of RPO's added term, α · NLL(chosen) per token (Pang et al. 2024, "Iterative Reasoning Preference Optimization",
    /// α = 1); 0 is plain DPO as MCTS-DPO trains.
    /// </summary>
    public double NllWeight { get; init; } = 1;

    /// <summary>Fraction of the steps spent warming up (MCTS-DPO 0.03).</summary>
    public double WarmupRatio { get; init; } = 0.03;

    public double WeightDecay { get; init; } = 0.0;

    public int Epochs { get; init; } = 2;

    /// <summary>Pairs per micro-batch (each pair is two rows: chosen and rejected).</summary>
    public int BatchPairs { get; init; } = 16;

    public int Accumulation { get; init; } = 1;

    /// <summary>Longest prompt + side in tokens; longer pairs are left out (MCTS-DPO max_length 512).</summary>
    public int MaxLength { get; init; } = 512;

    /// <summary>Share of problems whose pairs are held out to measure the implicit reward's accuracy on unseen problems.</summary>
    public double EvalFraction { get; init; } = 0.1;

    /// <summary>Held-out measurement every this many optimizer steps (and always at the end).</summary>
    public int EvalEvery { get; init; } = 50;

    /// <summary>A resumable checkpoint every this many optimizer steps (and when the run is stopped).</summary>
    public int SaveEvery { get; init; } = 50;

    public int Seed { get; init; } = 1234;

    public void Validate()
    {
        if (Beta <= 0) throw new ArgumentException($"--beta must be positive, got {Beta}");
        if (LearningRate <= 0) throw new ArgumentException($"--lr must be positive, got {LearningRate}");
        if (NllWeight < 0) throw new ArgumentException($"--nll-weight must be >= 0, got {NllWeight}");
        if (WarmupRatio is < 0 or >= 1) throw new ArgumentException($"--warmup-ratio must be in [0, 1), got {WarmupRatio}");
        if (Epochs < 1) throw new ArgumentException($"--epochs must be at least 1, got {Epochs}");
        if (BatchPairs < 1 || Accumulation < 1) throw new ArgumentException($"--batch and --accumulation must be at least 1, got {BatchPairs} and {Accumulation}");
        if (MaxLength < 2) throw new ArgumentException($"--max-length must be at least 2, got {MaxLength}");
        if (EvalFraction is < 0 or >= 1) throw new ArgumentException($"--eval-fraction must be in [0, 1), got {EvalFraction}");
        if (EvalEvery < 1) throw new ArgumentException($"--eval-every must be at least 1, got {EvalEvery}");
        if (SaveEvery < 1) throw new ArgumentException($"--save-every must be at least 1, got {SaveEvery}");
    }
}
