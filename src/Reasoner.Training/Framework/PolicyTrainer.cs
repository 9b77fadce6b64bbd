using Reasoner.Models;
using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Training.Framework;

/// <summary>What a run did: steps, examples, the last step's figures and the held-out figures before and after.</summary>
public sealed record TrainingResult<TMetrics>(int Steps, int TrainExamples, int EvalExamples, TMetrics? Last, TMetrics? EvalBefore, TMetrics? EvalAfter)
    where TMetrics : class, ITrainingMetrics;

/// <summary>
/// The one loop every policy trainer runs, top to bottom: reference figures computed once from the starting weights,
/// the schedule sized from the data, the held-out "before" figures, a resumed run skipping what it trained, then
/// optimizer steps with logging, held-out measurement and checkpoints at their cadence. What differs between DPO, TPO,
/// TRPA and ONPO is the <see cref="IPolicyObjective{TExample, TReference, TBatch, TMetrics}"/>.
/// </summary>
public class PolicyTrainer<TExample, TReference, TBatch, TMetrics>(
    CausalLanguageModel model, IPolicyObjective<TExample, TReference, TBatch, TMetrics> objective, PolicyTrainingSettings settings)
    where TBatch : ITokenCounts, IDisposable
    where TMetrics : class, ITrainingMetrics
{
    /// <summary>After each optimizer step: the step, the schedule's length, and the step's training figures.</summary>
    public Action<StepResult, int, TMetrics>? OnStep { get; init; }

    /// <summary>After each held-out measurement.</summary>
    public Action<int, TMetrics>? OnEvaluation { get; init; }

    /// <summary>Before the reference figures are computed: how many examples they cover.</summary>
    public Action<int>? OnReference { get; init; }

    /// <summary>Writes a resumable checkpoint: every <see cref="PolicyTrainingSettings.SaveEvery"/> steps, and when the run is stopped.</summary>
    public Action<Trainer, TrainingProgress>? SaveCheckpoint { get; init; }

    /// <summary>
    /// Loads a saved run into the trainer and returns its progress, or null to start fresh. Called after the reference
    /// figures and the held-out "before" figures are taken from the starting weights.
    /// </summary>
    public Func<Trainer, TrainingProgress?>? RestoreCheckpoint { get; init; }

    /// <summary>
    /// The training examples of epoch 1, 2 … when each epoch brings fresh ones (solutions sampled from the current
    /// policy, as TRPA does); null: every epoch reuses the examples given to <see cref="Train"/>. Each epoch must give as
    /// many examples as the first, so the schedule holds.
    /// </summary>
    public Func<int, IReadOnlyList<TExample>>? EpochExamples { get; init; }

    public CausalLanguageModel Model => model;

    public TrainingResult<TMetrics> Train(IReadOnlyList<TExample> train, IReadOnlyList<TExample> eval, TrainingLog? log = null, CancellationToken cancel = default)
    {
        settings.Validate();
        if (train.Count == 0) throw new ArgumentException("no training examples");
        var device = model.parameters().First().device;
        OnReference?.Invoke(train.Count + eval.Count);
        var trainReference = Reference(train, device);
        var evalReference = Reference(eval, device);

        int totalSteps = settings.TotalSteps(train.Count);
        using var trainer = new Trainer(model, settings.Optimizer(totalSteps));

        var evalBefore = eval.Count > 0 ? Evaluate(eval, evalReference, device) : null;
        var progress = RestoreCheckpoint?.Invoke(trainer);
        if (progress is not null && progress.TotalSteps != totalSteps)
            throw new ArgumentException($"the checkpoint was saved by a run of {progress.TotalSteps} steps and this one has {totalSteps}: resuming needs the same data and settings");
        if (evalBefore is not null && progress is null)
        {
            log?.Write(0, evalBefore.Named("eval/"));
            OnEvaluation?.Invoke(0, evalBefore);
        }
        progress ??= new TrainingProgress { TotalSteps = totalSteps };

        var batches = Batches(train, trainReference, progress.Step * settings.Accumulation, device);
        TMetrics? last = null, evalAfter = evalBefore;
        int savedStep = progress.Step;
        foreach (var stepBatches in batches.Chunk(settings.Accumulation))
        {
            if (cancel.IsCancellationRequested) break;
            var micro = stepBatches.Select(b => objective.Collate(b.Rows.Select(i => b.Examples[i]).ToArray(), b.Rows.Select(i => b.Reference[i]).ToArray(), device)).ToList();
            var tally = objective.NewTally();
            var step = trainer.TrainStep(micro, batch => objective.Loss(batch, tally));
            foreach (var batch in micro) batch.Dispose();
            last = tally.Metrics();
            progress = progress.After(step);
            log?.Write(step.Step, [.. LogLine(step), .. last.Named("")]);
            OnStep?.Invoke(step, totalSteps, last);
            if (eval.Count > 0 && (step.Step % settings.EvalEvery == 0 || step.Step == totalSteps))
            {
                evalAfter = Evaluate(eval, evalReference, device);
                log?.Write(step.Step, evalAfter.Named("eval/"));
                OnEvaluation?.Invoke(step.Step, evalAfter);
            }
            if (SaveCheckpoint is not null && step.Step % settings.SaveEvery == 0 && step.Step < totalSteps)
            {
                SaveCheckpoint(trainer, progress);
                savedStep = step.Step;
            }
        }
        if (SaveCheckpoint is not null && cancel.IsCancellationRequested && progress.Step > savedStep) SaveCheckpoint(trainer, progress);
        // A run resumed with no steps left has not measured its own weights yet.
        if (eval.Count > 0 && progress.Step > 0 && ReferenceEquals(evalAfter, evalBefore)) evalAfter = Evaluate(eval, evalReference, device);
        return new TrainingResult<TMetrics>(trainer.Step, train.Count, eval.Count, last, evalBefore, evalAfter);
    }

    /// <summary>
    /// The micro-batches of every epoch after the first <paramref name="skip"/>. The order is a function of the seed alone,
    /// so a resumed run skips exactly the batches already trained on. With <see cref="EpochExamples"/>, each later epoch's
    /// examples are asked for when its first batch is needed (after the previous epoch's steps), and their reference
    /// figures computed then; an epoch wholly skipped is never asked for.
    /// </summary>
    private IEnumerable<(IReadOnlyList<TExample> Examples, TReference[] Reference, int[] Rows)> Batches(IReadOnlyList<TExample> first, TReference[] firstReference, int skip, Device device)
    {
        var order = Enumerable.Range(0, first.Count).ToArray();
        var random = new Random(settings.Seed);
        int perEpoch = (first.Count + settings.Batch - 1) / settings.Batch, index = 0;
        for (int epoch = 0; epoch < settings.Epochs; epoch++)
        {
            random.Shuffle(order);
            if (index + perEpoch <= skip)
            {
                index += perEpoch;
                continue;
            }
            var (examples, reference) = (first, firstReference);
            if (epoch > 0 && EpochExamples is not null)
            {
                examples = EpochExamples(epoch);
                if (examples.Count != first.Count)
                    throw new InvalidOperationException($"epoch {epoch} has {examples.Count} examples and the first had {first.Count}: every epoch needs as many");
                reference = Reference(examples, device);
            }
            foreach (var rows in order.Chunk(settings.Batch))
                if (index++ >= skip) yield return (examples, reference, rows);
        }
    }

    private static IEnumerable<KeyValuePair<string, double>> LogLine(StepResult s) =>
        [new("lr", s.LearningRate), new("grad_norm", s.GradientNorm), new("tokens", s.Tokens), new("tokens_per_s", s.TokensPerSecond)];

    private TMetrics Evaluate(IReadOnlyList<TExample> examples, IReadOnlyList<TReference> reference, Device device)
    {
        using var noGrad = no_grad();
        model.eval();
        var tally = objective.NewTally();
        for (int start = 0; start < examples.Count; start += settings.Batch)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(settings.Batch, examples.Count - start);
            using var batch = objective.Collate(examples.Skip(start).Take(count).ToArray(), reference.Skip(start).Take(count).ToArray(), device);
            objective.Loss(batch, tally);
        }
        return tally.Metrics();
    }

    /// <summary>The reference model's (the starting policy's) figures for every example.</summary>
    private TReference[] Reference(IReadOnlyList<TExample> examples, Device device)
    {
        using var noGrad = no_grad();
        model.eval();
        var result = new TReference[examples.Count];
        for (int start = 0; start < examples.Count; start += settings.Batch)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(settings.Batch, examples.Count - start);
            using var batch = objective.Collate(examples.Skip(start).Take(count).ToArray(), new TReference[count], device);
            var figures = objective.Reference(batch);
            for (int i = 0; i < count; i++) result[start + i] = figures[i];
        }
        return result;
    }
}
