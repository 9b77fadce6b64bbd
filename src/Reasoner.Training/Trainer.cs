using System.Diagnostics;
using Reasoner.Models;
using Reasoner.Training.Batching;
using Reasoner.Training.Optimization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reasoner.Training;

/// <summary>What one optimizer step did.</summary>
public sealed record StepResult(int Step, double Loss, double LearningRate, double GradientNorm, long Tokens, long TargetTokens, TimeSpan Duration)
{
    public double TokensPerSecond => Tokens / Math.Max(Duration.TotalSeconds, 1e-9);
}

/// <summary>
/// The optimisation core every trainer shares: one <see cref="TrainStep"/> sets the scheduled learning rate,
/// accumulates gradients over micro-batches, clips the global norm and applies AdamW. What the loss is
/// (language modelling, DPO, TPO, OREO) is the caller's function of a batch.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly AdamW optimizer;
    private readonly IReadOnlyList<Parameter> parameters;

    public Trainer(CausalLanguageModel model, TrainerOptions options)
    {
        options.Validate();
        Model = model;
        Options = options;
        Schedule = options.Schedule;
        optimizer = AdamWGroups.Create(model, options.LearningRate, options.WeightDecay, options.Beta1, options.Beta2);
        parameters = model.parameters().Where(p => p.requires_grad).ToList();
    }

    public CausalLanguageModel Model { get; }

    public TrainerOptions Options { get; }

    /// <summary>The learning-rate schedule; a time-budgeted run sets its length once it has measured its speed.</summary>
    public LearningRateSchedule Schedule { get; set; }

    /// <summary>Optimizer steps taken so far (restored on resume).</summary>
    public int Step { get; private set; }

    /// <param name="microBatches"><see cref="TrainerOptions.AccumulationSteps"/> batches (or fewer at the end of data).</param>
    /// <param name="loss">A scalar loss for one batch, averaged within it; the step averages it over the micro-batches.</param>
    public StepResult TrainStep<TBatch>(IReadOnlyList<TBatch> microBatches, Func<TBatch, Tensor> loss) where TBatch : ITokenCounts
    {
        if (microBatches.Count == 0) throw new ArgumentException("a step needs at least one batch", nameof(microBatches));
        var clock = Stopwatch.StartNew();
        Model.train();
        double lr = Schedule.At(Step);
        AdamWGroups.SetLearningRate(optimizer, lr);
        optimizer.zero_grad();
        double total = 0;
        foreach (var batch in microBatches)
        {
            using var scope = NewDisposeScope();
            var value = loss(batch) / microBatches.Count;
            value.backward();
            total += value.item<float>();
        }
        double norm = Options.GradientClip > 0
            ? nn.utils.clip_grad_norm_(parameters, Options.GradientClip)
            : double.NaN;
        optimizer.step();
        Step++;
        return new StepResult(Step, total, lr, norm, microBatches.Sum(b => b.RealTokens), microBatches.Sum(b => b.TargetTokens), clock.Elapsed);
    }

    public void SaveOptimizerState(string path) => optimizer.save_state_dict(path);

    /// <summary>Restores the optimizer moments and the step counter of a saved run.</summary>
    public void Resume(string optimizerStatePath, int step)
    {
        optimizer.load_state_dict(optimizerStatePath);
        Step = step;
    }

    public void Dispose() => optimizer.Dispose();
}
