using Reasoner.Models;
using Reasoner.Training.Batching;
using static TorchSharp.torch;

namespace Reasoner.Training.Preference;

/// <summary>Mean DPO figures over a set of pairs: the loss, how often the implicit reward prefers the chosen side, and the rewards.</summary>
public sealed record DpoMetrics(int Pairs, double Loss, double RewardAccuracy, double RewardMargin, double ChosenReward, double RejectedReward)
{
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) =>
    [
        new($"{prefix}loss", Loss), new($"{prefix}rewards/accuracy", RewardAccuracy), new($"{prefix}rewards/margin", RewardMargin),
        new($"{prefix}rewards/chosen", ChosenReward), new($"{prefix}rewards/rejected", RejectedReward),
    ];
}

/// <summary>What a run did: steps, pairs seen, and the held-out figures before and after.</summary>
public sealed record DpoResult(int Steps, int TrainPairs, int EvalPairs, DpoMetrics? Last, DpoMetrics? EvalBefore, DpoMetrics? EvalAfter);

/// <summary>
/// Step-level DPO, the MCTS-DPO baseline (Xie et al., arXiv 2405.00451, trainer.py): each pair is two sibling steps
/// after the same prefix, and the policy is pushed to raise the chosen step's log-ratio to the reference over the
/// rejected one's (<see cref="DpoLoss"/>). The reference is the policy as training starts: its log-probabilities are
/// computed once, up front, so no second model is held. Implicit rewards are β·(log π − log π_ref), as TRL logs them.
/// </summary>
public sealed class StepDpoTrainer(CausalLanguageModel model, int padId, DpoSettings settings)
{
    /// <summary>After each optimizer step: the step, the schedule's length, and the step's training figures.</summary>
    public Action<StepResult, int, DpoMetrics>? OnStep { get; init; }

    /// <summary>After each held-out measurement.</summary>
    public Action<int, DpoMetrics>? OnEvaluation { get; init; }

    /// <summary>Writes a resumable checkpoint: every <see cref="DpoSettings.SaveEvery"/> steps, and when the run is stopped.</summary>
    public Action<Trainer, TrainingProgress>? SaveCheckpoint { get; init; }

    /// <summary>
    /// Loads a saved run into the trainer and returns its progress, or null to start fresh. Called after the reference
    /// log-probabilities and the held-out "before" figures are taken from the starting weights.
    /// </summary>
    public Func<Trainer, TrainingProgress?>? RestoreCheckpoint { get; init; }

    public DpoResult Train(IReadOnlyList<TokenizedPair> train, IReadOnlyList<TokenizedPair> eval, TrainingLog? log = null, CancellationToken cancel = default)
    {
        settings.Validate();
        if (train.Count == 0) throw new ArgumentException("no training pairs");
        var device = model.parameters().First().device;
        var trainReference = ReferenceLogProbs(train, device);
        var evalReference = ReferenceLogProbs(eval, device);

        int batchesPerEpoch = (train.Count + settings.BatchPairs - 1) / settings.BatchPairs;
        int totalSteps = Math.Max(1, (batchesPerEpoch * settings.Epochs + settings.Accumulation - 1) / settings.Accumulation);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            LearningRate = settings.LearningRate,
            MinLearningRate = 0,
            WarmupSteps = (int)Math.Ceiling(settings.WarmupRatio * totalSteps),
            TotalSteps = totalSteps,
            WeightDecay = settings.WeightDecay,
            AccumulationSteps = settings.Accumulation,
        });

        var evalBefore = eval.Count > 0 ? Evaluate(eval, evalReference, device) : null;
        var progress = RestoreCheckpoint?.Invoke(trainer);
        if (progress is not null && progress.TotalSteps != totalSteps)
            throw new ArgumentException($"the checkpoint was saved by a run of {progress.TotalSteps} steps and this one has {totalSteps}: resuming needs the same runs and settings");
        if (evalBefore is not null && progress is null)
        {
            log?.Write(0, evalBefore.Named("eval/"));
            OnEvaluation?.Invoke(0, evalBefore);
        }
        progress ??= new TrainingProgress { TotalSteps = totalSteps };

        var order = Enumerable.Range(0, train.Count).ToArray();
        var random = new Random(settings.Seed);
        var batches = Enumerable.Range(0, settings.Epochs).SelectMany(_ =>
        {
            random.Shuffle(order);
            return order.Chunk(settings.BatchPairs).ToArray();
        });
        DpoMetrics? last = null, evalAfter = evalBefore;
        int savedStep = progress.Step;
        // The pair order is a function of the seed alone, so a resumed run skips exactly the batches already trained on.
        foreach (var stepBatches in batches.Skip(progress.Step * settings.Accumulation).Chunk(settings.Accumulation))
        {
            if (cancel.IsCancellationRequested) break;
            var micro = stepBatches.Select(rows => PairBatch.Collate(rows.Select(i => train[i]).ToArray(), rows.Select(i => trainReference[i]).ToArray(), padId, device)).ToList();
            var tally = new Tally();
            var step = trainer.TrainStep(micro, batch => Loss(batch, tally));
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
        return new DpoResult(trainer.Step, train.Count, eval.Count, last, evalBefore, evalAfter);
    }

    private static IEnumerable<KeyValuePair<string, double>> LogLine(StepResult s) =>
        [new("lr", s.LearningRate), new("grad_norm", s.GradientNorm), new("tokens", s.Tokens), new("tokens_per_s", s.TokensPerSecond)];

    /// <summary>A batch's mean loss; its per-pair figures go to <paramref name="tally"/>.</summary>
    private Tensor Loss(PairBatch batch, Tally tally)
    {
        using var logProbs = SequenceLogProbs.Compute(model, batch.Tokens);
        var (chosen, rejected) = PreferenceLogProbs(logProbs, batch);
        var losses = DpoLoss.Compute(settings.Loss, chosen, rejected, batch.ReferenceChosen, batch.ReferenceRejected, settings.Beta, batch.Smoothing);
        if (settings.NllWeight > 0)
        {
            // RPO (Pang et al. 2024, Eq. 1): the chosen side's negative log-likelihood per token keeps DPO from
            // lowering the chosen steps' probability along with the rejected ones'.
            var chosenTokens = batch.Tokens.LossMask.narrow(0, 0, batch.Pairs).sum(1).clamp_min(1);
            losses = losses - settings.NllWeight * logProbs.SequenceSums().narrow(0, 0, batch.Pairs) / chosenTokens;
        }
        tally.Add(losses, chosen, rejected, batch, settings.Beta);
        return losses.mean();
    }

    /// <summary>[B] and [B]: sums over each side's tokens, or per-token means for IPO (its length normalisation).</summary>
    private (Tensor Chosen, Tensor Rejected) PreferenceLogProbs(TokenLogProbs logProbs, PairBatch batch)
    {
        var sums = logProbs.SequenceSums();
        if (settings.Loss == DpoLossKind.Ipo) sums /= batch.Tokens.LossMask.sum(1).clamp_min(1);
        return (sums.narrow(0, 0, batch.Pairs), sums.narrow(0, batch.Pairs, batch.Pairs));
    }

    private DpoMetrics Evaluate(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<(double Chosen, double Rejected)> reference, Device device)
    {
        using var noGrad = no_grad();
        model.eval();
        var tally = new Tally();
        for (int start = 0; start < pairs.Count; start += settings.BatchPairs)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(settings.BatchPairs, pairs.Count - start);
            using var batch = PairBatch.Collate(pairs.Skip(start).Take(count).ToArray(), reference.Skip(start).Take(count).ToArray(), padId, device);
            Loss(batch, tally);
        }
        return tally.Metrics();
    }

    /// <summary>The reference model's (the starting policy's) log-probabilities of every pair's two sides.</summary>
    private (double Chosen, double Rejected)[] ReferenceLogProbs(IReadOnlyList<TokenizedPair> pairs, Device device)
    {
        using var noGrad = no_grad();
        model.eval();
        var result = new (double, double)[pairs.Count];
        for (int start = 0; start < pairs.Count; start += settings.BatchPairs)
        {
            using var scope = NewDisposeScope();
            int count = Math.Min(settings.BatchPairs, pairs.Count - start);
            using var batch = PairBatch.Collate(pairs.Skip(start).Take(count).ToArray(), new (double, double)[count], padId, device);
            using var logProbs = SequenceLogProbs.Compute(model, batch.Tokens);
            var (chosen, rejected) = PreferenceLogProbs(logProbs, batch);
            var c = chosen.cpu().to(ScalarType.Float64).data<double>().ToArray();
            var r = rejected.cpu().to(ScalarType.Float64).data<double>().ToArray();
            for (int i = 0; i < count; i++) result[start + i] = (c[i], r[i]);
        }
        return result;
    }

    /// <summary>Per-pair figures summed over a step's micro-batches (or a held-out pass).</summary>
    private sealed class Tally
    {
        private int pairs, correct;
        private double loss, chosenReward, rejectedReward;

        public void Add(Tensor losses, Tensor chosen, Tensor rejected, PairBatch batch, double beta)
        {
            using var scope = NewDisposeScope();
            var c = (beta * (chosen.detach() - batch.ReferenceChosen)).cpu().to(ScalarType.Float64).data<double>().ToArray();
            var r = (beta * (rejected.detach() - batch.ReferenceRejected)).cpu().to(ScalarType.Float64).data<double>().ToArray();
            loss += losses.detach().sum().cpu().item<float>();
            for (int i = 0; i < c.Length; i++)
            {
                chosenReward += c[i];
                rejectedReward += r[i];
                if (c[i] > r[i]) correct++;
            }
            pairs += c.Length;
        }

        public DpoMetrics Metrics()
        {
            double n = Math.Max(1, pairs);
            return new DpoMetrics(pairs, loss / n, correct / n, (chosenReward - rejectedReward) / n, chosenReward / n, rejectedReward / n);
        }
    }
}

/// <summary>
/// B pairs as one batch of 2B rows (chosen rows first, then rejected, sharing the padding), with each pair's
/// reference log-probabilities and label smoothing.
/// </summary>
internal sealed record PairBatch(TokenBatch Tokens, Tensor ReferenceChosen, Tensor ReferenceRejected, Tensor Smoothing, int Pairs) : ITokenCounts, IDisposable
{
    public long RealTokens => Tokens.RealTokens;

    public long TargetTokens => Tokens.TargetTokens;

    public static PairBatch Collate(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<(double Chosen, double Rejected)> reference, int padId, Device device) =>
        new(TokenBatch.Collate([.. pairs.Select(p => p.ChosenSequence), .. pairs.Select(p => p.RejectedSequence)], padId, device),
            tensor(reference.Select(r => (float)r.Chosen).ToArray(), device: device),
            tensor(reference.Select(r => (float)r.Rejected).ToArray(), device: device),
            tensor(pairs.Select(p => (float)DpoLoss.VisitSmoothing(p.ChosenVisits, p.RejectedVisits)).ToArray(), device: device),
            pairs.Count);

    public void Dispose()
    {
        Tokens.Dispose();
        ReferenceChosen.Dispose();
        ReferenceRejected.Dispose();
        Smoothing.Dispose();
    }
}
