namespace Reasoner.Training.Optimization;

/// <summary>
/// Linear warmup from 0 to <see cref="PeakRate"/> over <see cref="WarmupSteps"/>, then cosine decay to
/// <see cref="MinRate"/> at <see cref="TotalSteps"/>, and flat after (nanoGPT's get_lr). Steps count from 0.
/// </summary>
public sealed record LearningRateSchedule(double PeakRate, int WarmupSteps, int TotalSteps, double MinRate)
{
    public double At(int step)
    {
        // (step + 1) so the very first update already moves the weights.
        if (step < WarmupSteps) return PeakRate * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return MinRate;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return MinRate + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (PeakRate - MinRate);
    }
}
