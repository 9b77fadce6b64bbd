using Reasoner.Training.Optimization;

namespace Reasoner.Training;

/// <summary>Hyperparameters of the optimisation loop, shared by every trainer.</summary>
public sealed record TrainerOptions
{
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Where the cosine ends; a tenth of the peak, as in nanoGPT and Chinchilla.</summary>
    public double MinLearningRate { get; init; } = 1e-4;

    public int WarmupSteps { get; init; } = 100;

    /// <summary>Optimizer steps the schedule spans (each step sums <see cref="AccumulationSteps"/> micro-batches).</summary>
    public int TotalSteps { get; init; } = 1000;

    public double WeightDecay { get; init; } = 0.1;

    public double Beta1 { get; init; } = 0.9;

    /// <summary>0.95 rather than Adam's 0.999: small batches give noisy second moments that should adapt fast.</summary>
    public double Beta2 { get; init; } = 0.95;

    /// <summary>Global gradient norm cap; 0 turns clipping off.</summary>
    public double GradientClip { get; init; } = 1.0;

    public int AccumulationSteps { get; init; } = 1;

    public LearningRateSchedule Schedule => new(LearningRate, WarmupSteps, TotalSteps, MinLearningRate);

    public void Validate()
    {
        if (LearningRate <= 0 || MinLearningRate < 0 || MinLearningRate > LearningRate)
            throw new ArgumentException($"learning rates must satisfy 0 <= min ({MinLearningRate}) <= peak ({LearningRate}) and peak > 0");
        if (WarmupSteps < 0 || TotalSteps < 1) throw new ArgumentException($"need warmup >= 0 and total steps >= 1, got {WarmupSteps} and {TotalSteps}");
        if (AccumulationSteps < 1) throw new ArgumentException($"accumulation steps must be at least 1, got {AccumulationSteps}");
        if (GradientClip < 0) throw new ArgumentException($"gradient clip must be >= 0, got {GradientClip}");
    }
}
