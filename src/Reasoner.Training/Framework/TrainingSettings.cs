namespace Reasoner.Training.Framework;

/// <summary>
/// The knobs every training run has, pretraining and each preference method alike: the optimiser's rate and decay, the
/// batch, the measurement and checkpoint cadence, the seed. <see cref="PolicyTrainingSettings"/> and the pretraining
/// settings derive from it and set their own defaults. Errors name the setting, not a command-line flag.
/// </summary>
public abstract record TrainingSettings
{
    public double LearningRate { get; init; } = 1e-4;

    public double WeightDecay { get; init; }

    /// <summary>Examples per micro-batch: sequences for pretraining, pairs for DPO, lists for TPO, groups for TRPA.</summary>
    public int Batch { get; init; } = 16;

    public int Accumulation { get; init; } = 1;

    /// <summary>Held-out measurement every this many optimizer steps (and always at the end).</summary>
    public int EvalEvery { get; init; } = 50;

    /// <summary>A resumable checkpoint every this many optimizer steps (and when the run is stopped).</summary>
    public int SaveEvery { get; init; } = 50;

    public int Seed { get; init; } = 1234;

    public virtual void Validate()
    {
        if (!(LearningRate > 0)) throw new ArgumentException($"the learning rate must be positive, got {LearningRate}");
        if (WeightDecay < 0) throw new ArgumentException($"the weight decay must be >= 0, got {WeightDecay}");
        if (Batch < 1 || Accumulation < 1) throw new ArgumentException($"the batch and accumulation must be at least 1, got {Batch} and {Accumulation}");
        if (EvalEvery < 1) throw new ArgumentException($"the evaluation interval must be at least 1 step, got {EvalEvery}");
        if (SaveEvery < 1) throw new ArgumentException($"the checkpoint interval must be at least 1 step, got {SaveEvery}");
    }
}
