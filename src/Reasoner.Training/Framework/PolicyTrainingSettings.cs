namespace Reasoner.Training.Framework;

/// <summary>
/// The knobs every policy trainer shares on top of <see cref="TrainingSettings"/>: the pass over the data, the held-out
/// share, the length limit and LoRA. A method's settings derive from this and add only its own (β, λ, the trust-region
/// coefficient …), the way TRL's configs extend its TrainingArguments.
/// </summary>
public abstract record PolicyTrainingSettings : TrainingSettings
{
    /// <summary>Fraction of the steps spent warming up, then cosine to 0 (MCTS-DPO and TPO: 0.03 and 0.1).</summary>
    public double WarmupRatio { get; init; } = 0.03;

    public int Epochs { get; init; } = 2;

    /// <summary>Longest prompt + side in tokens; longer examples are left out (MCTS-DPO max_length 512).</summary>
    public int MaxLength { get; init; } = 512;

    /// <summary>Share of problems whose examples are held out to measure the objective on unseen problems.</summary>
    public double EvalFraction { get; init; } = 0.1;

    /// <summary>
    /// Rank of LoRA adapters on every projection (Hu et al. 2021); 0 trains every weight. With a rank only the adapters
    /// train, and the output is a PEFT adapter folder over the base model (TPO trained with r 8, α 16).
    /// </summary>
    public int LoraRank { get; init; }

    /// <summary>LoRA's α: the adapters' product is scaled by α / rank (PEFT's lora_alpha).</summary>
    public double LoraAlpha { get; init; } = 16;

    public override void Validate()
    {
        base.Validate();
        if (WarmupRatio is < 0 or >= 1) throw new ArgumentException($"the warmup ratio must be in [0, 1), got {WarmupRatio}");
        if (Epochs < 1) throw new ArgumentException($"epochs must be at least 1, got {Epochs}");
        if (MaxLength < 2) throw new ArgumentException($"the maximum length must be at least 2 tokens, got {MaxLength}");
        if (EvalFraction is < 0 or >= 1) throw new ArgumentException($"the held-out fraction must be in [0, 1), got {EvalFraction}");
        if (LoraRank < 0) throw new ArgumentException($"the LoRA rank must be >= 0, got {LoraRank}");
        if (LoraRank > 0 && !(LoraAlpha > 0)) throw new ArgumentException($"LoRA's alpha must be positive, got {LoraAlpha}");
    }

    /// <summary>Optimizer steps for <paramref name="examples"/> training examples.</summary>
    public int TotalSteps(int examples)
    {
        int batchesPerEpoch = (examples + Batch - 1) / Batch;
        return Math.Max(1, (batchesPerEpoch * Epochs + Accumulation - 1) / Accumulation);
    }

    /// <summary>The optimiser's schedule for a run of <paramref name="totalSteps"/> steps: warmup, then cosine to 0.</summary>
    public TrainerOptions Optimizer(int totalSteps) => new()
    {
        LearningRate = LearningRate,
        MinLearningRate = 0,
        WarmupSteps = (int)Math.Ceiling(WarmupRatio * totalSteps),
        TotalSteps = totalSteps,
        WeightDecay = WeightDecay,
        AccumulationSteps = Accumulation,
    };
}
