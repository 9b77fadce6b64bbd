using Reasoner.Models;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using static TorchSharp.torch;

namespace Reasoner.Training.Preference;

/// <summary>Mean DPO figures over a set of pairs: the loss, how often the implicit reward prefers the chosen side, and the rewards.</summary>
public sealed record DpoMetrics(int Pairs, double Loss, double RewardAccuracy, double RewardMargin, double ChosenReward, double RejectedReward) : ITrainingMetrics
{
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) =>
    [
        new($"{prefix}loss", Loss), new($"{prefix}rewards/accuracy", RewardAccuracy), new($"{prefix}rewards/margin", RewardMargin),
        new($"{prefix}rewards/chosen", ChosenReward), new($"{prefix}rewards/rejected", RejectedReward),
    ];
}

/// <summary>
/// Step-level DPO, the MCTS-DPO baseline (Xie et al., arXiv 2405.00451, trainer.py): each pair is two sibling steps
/// after the same prefix, and the policy is pushed to raise the chosen step's log-ratio to the reference over the
/// rejected one's (<see cref="DpoLoss"/>). The reference is the policy as training starts: its log-probabilities are
/// computed once, up front, so no second model is held. Implicit rewards are β·(log π − log π_ref), as TRL logs them.
/// </summary>
public sealed class StepDpoObjective(CausalLanguageModel model, int padId, DpoSettings settings)
    : IPolicyObjective<TokenizedPair, (double Chosen, double Rejected), PairBatch, DpoMetrics>
{
    public int Length(TokenizedPair pair) => pair.Length;

    public PairBatch Collate(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<(double Chosen, double Rejected)> reference, Device device) =>
        PairBatch.Collate(pairs, reference, padId, device);

    public IReadOnlyList<(double Chosen, double Rejected)> Reference(PairBatch batch)
    {
        using var logProbs = SequenceLogProbs.Compute(model, batch.Tokens);
        var (chosen, rejected) = PreferenceLogProbs(logProbs, batch);
        var c = chosen.cpu().to(ScalarType.Float64).data<double>().ToArray();
        var r = rejected.cpu().to(ScalarType.Float64).data<double>().ToArray();
        return c.Zip(r).ToArray();
    }

    public IMetricTally<DpoMetrics> NewTally() => new Tally();

    public Tensor Loss(PairBatch batch, IMetricTally<DpoMetrics> tally)
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
        ((Tally)tally).Add(losses, chosen, rejected, batch, settings.Beta);
        return losses.mean();
    }

    /// <summary>[B] and [B]: sums over each side's tokens, or per-token means for IPO (its length normalisation).</summary>
    private (Tensor Chosen, Tensor Rejected) PreferenceLogProbs(TokenLogProbs logProbs, PairBatch batch)
    {
        var sums = logProbs.SequenceSums();
        if (settings.Loss == DpoLossKind.Ipo) sums /= batch.Tokens.LossMask.sum(1).clamp_min(1);
        return (sums.narrow(0, 0, batch.Pairs), sums.narrow(0, batch.Pairs, batch.Pairs));
    }

    /// <summary>Per-pair figures summed over a step's micro-batches (or a held-out pass).</summary>
    private sealed class Tally : IMetricTally<DpoMetrics>
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

/// <summary>Step-level DPO on the shared loop.</summary>
public sealed class StepDpoTrainer(CausalLanguageModel model, int padId, DpoSettings settings)
    : PolicyTrainer<TokenizedPair, (double Chosen, double Rejected), PairBatch, DpoMetrics>(model, new StepDpoObjective(model, padId, settings), settings);

/// <summary>
/// B pairs as one batch of 2B rows (chosen rows first, then rejected, sharing the padding), with each pair's
/// reference log-probabilities and label smoothing.
/// </summary>
public sealed record PairBatch(TokenBatch Tokens, Tensor ReferenceChosen, Tensor ReferenceRejected, Tensor Smoothing, int Pairs) : ITokenCounts, IDisposable
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
