using Reasoner.Models;
using Reasoner.Training.Framework;
using Reasoner.Training.Preference;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Training.Onpo;

/// <summary>Mean ONPO figures over a set of pairs: the square loss, the log-ratio margin g and how often it is positive.</summary>
public sealed record OnpoMetrics(int Pairs, double Loss, double Margin, double Accuracy) : ITrainingMetrics
{
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) =>
        [new($"{prefix}loss", Loss), new($"{prefix}margin", Margin), new($"{prefix}margin_accuracy", Accuracy)];
}

/// <summary>
/// One of ONPO's two fits (arXiv 2502.16852, Algorithm 1 steps 6–7): min E_{D_t}[(g(π, y_w, y_l) − η/2)²] with
/// g = log π(y_w)/π(y_l) − log π_a(y_w)/π_a(y_l), anchored at π_a. The fit starts from its anchor's weights, so the
/// anchor is the frozen reference the loop computes once: step 6 starts from π′_t, step 7 from the π′_{t+1} step 6 wrote.
/// </summary>
public sealed class OnpoObjective(CausalLanguageModel model, int padId, OnpoSettings settings)
    : IPolicyObjective<TokenizedPair, (double Chosen, double Rejected), PairBatch, OnpoMetrics>
{
    public int Length(TokenizedPair pair) => pair.Length;

    public PairBatch Collate(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<(double Chosen, double Rejected)> reference, Device device) =>
        PairBatch.Collate(pairs, reference, padId, device);

    public IReadOnlyList<(double Chosen, double Rejected)> Reference(PairBatch batch)
    {
        using var logProbs = SequenceLogProbs.Compute(model, batch.Tokens);
        var sums = logProbs.SequenceSums().cpu().to(ScalarType.Float64).data<double>().ToArray();
        return Enumerable.Range(0, batch.Pairs).Select(i => (sums[i], sums[batch.Pairs + i])).ToArray();
    }

    public IMetricTally<OnpoMetrics> NewTally() => new Tally();

    public Tensor Loss(PairBatch batch, IMetricTally<OnpoMetrics> tally)
    {
        using var logProbs = SequenceLogProbs.Compute(model, batch.Tokens);
        var sums = logProbs.SequenceSums();
        var margins = OnpoLoss.Margin(sums.narrow(0, 0, batch.Pairs), sums.narrow(0, batch.Pairs, batch.Pairs), batch.ReferenceChosen, batch.ReferenceRejected);
        var losses = OnpoLoss.Square(margins, settings.Eta);
        ((Tally)tally).Add(losses, margins);
        return losses.mean();
    }

    private sealed class Tally : IMetricTally<OnpoMetrics>
    {
        private int pairs, positive;
        private double loss, margin;

        public void Add(Tensor losses, Tensor margins)
        {
            var g = margins.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
            loss += losses.detach().sum().cpu().item<float>();
            margin += g.Sum();
            positive += g.Count(x => x > 0);
            pairs += g.Length;
        }

        public OnpoMetrics Metrics()
        {
            double n = Math.Max(1, pairs);
            return new OnpoMetrics(pairs, loss / n, margin / n, positive / n);
        }
    }
}

/// <summary>ONPO's per-pair quantities on given sequence log-probabilities (no model involved).</summary>
public static class OnpoLoss
{
    /// <summary>g = (log π(y_w) − log π_a(y_w)) − (log π(y_l) − log π_a(y_l)), per pair [B].</summary>
    public static Tensor Margin(Tensor policyWinner, Tensor policyLoser, Tensor anchorWinner, Tensor anchorLoser) =>
        (policyWinner - anchorWinner) - (policyLoser - anchorLoser);

    /// <summary>(g − η/2)² per pair: the square loss whose minimiser moves the margin by η times the win-rate difference's half.</summary>
    public static Tensor Square(Tensor margins, double eta)
    {
        if (!(eta > 0)) throw new ArgumentOutOfRangeException(nameof(eta), $"η must be positive, got {eta}");
        // d·d rather than square(): square is pow with a temporary Scalar a collection can free mid-call (KeptScalars).
        using var halfEta = (Scalar)(eta / 2);
        var d = margins - halfEta;
        return d * d;
    }
}

/// <summary>One ONPO fit on the shared loop.</summary>
public sealed class OnpoTrainer(CausalLanguageModel model, int padId, OnpoSettings settings)
    : PolicyTrainer<TokenizedPair, (double Chosen, double Rejected), PairBatch, OnpoMetrics>(model, new OnpoObjective(model, padId, settings), settings);
