using Reasoner.Models;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using static TorchSharp.torch;

namespace Reasoner.Training.Tpo;

/// <summary>Mean TPO figures over a set of lists.</summary>
/// <param name="PairAccuracy">Share of ranked pairs (v_i &gt; v_j) whose implicit rewards are in the same order.</param>
/// <param name="TopAccuracy">Share of lists whose highest implicit reward is on a best-valued branch.</param>
/// <param name="BestReward">Mean implicit reward of each list's best branch.</param>
/// <param name="WorstReward">Mean implicit reward of each list's worst branch.</param>
public sealed record TpoMetrics(int Lists, double Loss, double PairAccuracy, double TopAccuracy, double BestReward, double WorstReward) : ITrainingMetrics
{
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) =>
    [
        new($"{prefix}loss", Loss), new($"{prefix}rewards/pair_accuracy", PairAccuracy), new($"{prefix}rewards/top_accuracy", TopAccuracy),
        new($"{prefix}rewards/best", BestReward), new($"{prefix}rewards/worst", WorstReward),
    ];
}

/// <summary>
/// B lists as one batch of rows (every branch of every list), with each step's token span as a mask, so that one forward
/// gives every step's log-probability sum and mean hidden state.
/// </summary>
public sealed record ListBatch(TokenBatch Tokens, Tensor StepMask, Tensor StepTokens, Tensor ReferenceSteps, IReadOnlyList<TokenizedList> Lists) : ITokenCounts, IDisposable
{
    public long RealTokens => Tokens.RealTokens;

    public long TargetTokens => Tokens.TargetTokens;

    /// <param name="reference">Per list, per branch, the reference model's log-probability sum of each step (null entries while it is computed).</param>
    public static ListBatch Collate(IReadOnlyList<TokenizedList> lists, IReadOnlyList<double[][]?> reference, int padId, Device device)
    {
        var sequences = lists.SelectMany(l => l.Sequences).ToArray();
        var tokens = TokenBatch.Collate(sequences, padId, device);
        int rows = sequences.Length, width = (int)tokens.Width, steps = lists.Max(l => l.Branches.Max(b => b.StepLengths.Length));
        var mask = new float[rows * steps * width];
        var counts = new float[rows * steps];
        var refs = new float[rows * steps];
        int row = 0;
        for (int l = 0; l < lists.Count; l++)
        {
            var list = lists[l];
            for (int b = 0; b < list.Branches.Count; b++, row++)
            {
                int start = list.Prompt.Length;
                var lengths = list.Branches[b].StepLengths;
                for (int k = 0; k < lengths.Length; k++)
                {
                    for (int t = start; t < start + lengths[k]; t++) mask[(row * steps + k) * width + t] = 1;
                    counts[row * steps + k] = lengths[k];
                    if (reference[l] is { } r) refs[row * steps + k] = (float)r[b][k];
                    start += lengths[k];
                }
            }
        }
        return new ListBatch(tokens, tensor(mask, [rows, steps, width], device: device), tensor(counts, [rows, steps], device: device),
            tensor(refs, [rows, steps], device: device), lists);
    }

    public void Dispose()
    {
        Tokens.Dispose();
        StepMask.Dispose();
        StepTokens.Dispose();
        ReferenceSteps.Dispose();
    }
}

/// <summary>
/// TPO (Liao, Chu, Wang, ICLR 2025, arXiv 2410.12854) over sibling lists from the trees: see <see cref="TpoLoss"/>. The
/// reference is the policy as training starts; each step's reference log-probability is computed once, up front. Step
/// embeddings are the policy's final hidden states averaged over the step's tokens, detached.
/// </summary>
public sealed class TpoObjective(CausalLanguageModel model, int padId, TpoSettings settings)
    : IPolicyObjective<TokenizedList, double[][], ListBatch, TpoMetrics>
{
    public int Length(TokenizedList list) => list.Length;

    public ListBatch Collate(IReadOnlyList<TokenizedList> lists, IReadOnlyList<double[][]> reference, Device device) =>
        ListBatch.Collate(lists, reference, padId, device);

    public IReadOnlyList<double[][]> Reference(ListBatch batch)
    {
        var (sums, _) = StepFigures(batch, withEmbeddings: false);
        var values = sums.cpu().to(ScalarType.Float64).data<double>().ToArray();
        int steps = (int)sums.shape[1], row = 0;
        return batch.Lists.Select(list => list.Branches.Select(_ => values.Skip(row++ * steps).Take(steps).ToArray()).ToArray()).ToArray();
    }

    public IMetricTally<TpoMetrics> NewTally() => new Tally();

    public Tensor Loss(ListBatch batch, IMetricTally<TpoMetrics> tally)
    {
        var (sums, embeddings) = StepFigures(batch, withEmbeddings: settings.StepWeights);
        var ratios = sums - batch.ReferenceSteps;                                                 // [R,S]
        var stepMask = batch.StepTokens > 0;
        var losses = new List<Tensor>();
        int row = 0;
        foreach (var list in batch.Lists)
        {
            int n = list.Branches.Count;
            var values = list.Branches.Select(b => b.Value).ToArray();
            var lr = ratios.narrow(0, row, n);
            var e = embeddings?.narrow(0, row, n);
            var result = settings.Variant == TpoVariant.Paper
                ? TpoLoss.Paper(lr, stepMask.narrow(0, row, n), values, e, settings.Beta, settings.LambdaWeights)
                : TpoLoss.Code(lr, batch.StepTokens.narrow(0, row, n), values, e, settings.Beta);
            var loss = result.Loss;
            if (settings.NllWeight > 0)
            {
                // RPO's term on the best branch (Pang et al. 2024, Eq. 1): the ranking alone can lower every branch at once.
                var best = sums.narrow(0, row, 1).sum() / batch.StepTokens.narrow(0, row, 1).sum().clamp_min(1);
                loss = loss - settings.NllWeight * best;
            }
            ((Tally)tally).Add(loss.detach().item<float>(), values, result.Rewards);
            losses.Add(loss);
            row += n;
        }
        return stack(losses).mean();
    }

    /// <summary>[R,S] per-step log-probability sums and, when asked, [R,S,d] per-step mean final hidden states.</summary>
    private (Tensor Sums, Tensor? Embeddings) StepFigures(ListBatch batch, bool withEmbeddings)
    {
        var (logProbs, hidden) = SequenceLogProbs.ComputeWithHiddenStates(model, batch.Tokens);
        using (logProbs)
        {
            var sums = batch.StepMask.bmm(logProbs.Values.unsqueeze(-1)).squeeze(-1);
            Tensor? embeddings = null;
            if (withEmbeddings) embeddings = batch.StepMask.bmm(hidden.detach().to(ScalarType.Float32)) / batch.StepTokens.clamp_min(1).unsqueeze(-1);
            return (sums, embeddings);
        }
    }

    private sealed class Tally : IMetricTally<TpoMetrics>
    {
        private int lists, pairs, ordered, top;
        private double loss, best, worst;

        public void Add(double listLoss, double[] values, double[] rewards)
        {
            lists++;
            loss += listLoss;
            for (int i = 0; i < values.Length; i++)
                for (int j = 0; j < values.Length; j++)
                    if (values[i] > values[j])
                    {
                        pairs++;
                        if (rewards[i] > rewards[j]) ordered++;
                    }
            // A tie for the top reward (as at the start, where every reward is 0) picks nothing.
            double max = rewards.Max();
            if (rewards.Count(r => r == max) == 1 && values[Array.IndexOf(rewards, max)] == values.Max()) top++;
            best += rewards[0];
            worst += rewards[^1];
        }

        public TpoMetrics Metrics()
        {
            double n = Math.Max(1, lists);
            return new TpoMetrics(lists, loss / n, pairs == 0 ? 0 : (double)ordered / pairs, top / n, best / n, worst / n);
        }
    }
}

/// <summary>TPO on the shared loop.</summary>
public sealed class TpoTrainer(CausalLanguageModel model, int padId, TpoSettings settings)
    : PolicyTrainer<TokenizedList, double[][], ListBatch, TpoMetrics>(model, new TpoObjective(model, padId, settings), settings);
