using Reasoner.Models;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using static TorchSharp.torch;

namespace Reasoner.Training.Plv;

/// <summary>Mean Tree-PLV figures over a set of pairs.</summary>
/// <param name="StepAccuracy">Share of compared steps where the preferred side scores higher.</param>
/// <param name="DivergenceAccuracy">Share of pairs whose preferred side scores higher at the divergence step itself.</param>
/// <param name="Margin">Mean score difference over compared steps.</param>
public sealed record PlvMetrics(int Pairs, double Loss, double StepAccuracy, double DivergenceAccuracy, double Margin) : ITrainingMetrics
{
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) =>
    [
        new($"{prefix}loss", Loss), new($"{prefix}rewards/step_accuracy", StepAccuracy),
        new($"{prefix}rewards/divergence_accuracy", DivergenceAccuracy), new($"{prefix}rewards/margin", Margin),
    ];
}

/// <summary>
/// P pairs as 2P right-padded rows (row 2i the preferred side, 2i+1 the other), each the prompt and the side's compared
/// steps, with the flat index of every compared step's last token.
/// </summary>
public sealed record PlvBatch(Tensor InputIds, Tensor ChosenEnds, Tensor RejectedEnds, Tensor StepMask, long RealTokens) : ITokenCounts, IDisposable
{
    public long TargetTokens => RealTokens;

    public static PlvBatch Collate(IReadOnlyList<PlvPair> pairs, int padId, Device device)
    {
        int width = pairs.Max(p => p.Length), steps = pairs.Max(p => p.Compared);
        var ids = Enumerable.Repeat((long)padId, 2 * pairs.Count * width).ToArray();
        var ends = new long[2][] { new long[pairs.Count * steps], new long[pairs.Count * steps] };
        var mask = new float[pairs.Count * steps];
        long real = 0;
        for (int p = 0; p < pairs.Count; p++)
        {
            var pair = pairs[p];
            for (int side = 0; side < 2; side++)
            {
                int row = 2 * p + side, at = 0;
                foreach (var id in pair.Prompt) ids[row * width + at++] = id;
                var pieces = side == 0 ? pair.Chosen : pair.Rejected;
                for (int s = 0; s < pair.Compared; s++)
                {
                    foreach (var id in pieces[s]) ids[row * width + at++] = id;
                    ends[side][p * steps + s] = row * width + at - 1;
                }
                // Steps past this pair's compared ones read a valid position; the mask drops them.
                for (int s = pair.Compared; s < steps; s++) ends[side][p * steps + s] = row * width + at - 1;
                real += at;
            }
            for (int s = 0; s < pair.Compared; s++) mask[p * steps + s] = 1;
        }
        return new PlvBatch(tensor(ids, [2 * pairs.Count, width], device: device), tensor(ends[0], [pairs.Count, steps], device: device),
            tensor(ends[1], [pairs.Count, steps], device: device), tensor(mask, [pairs.Count, steps], device: device), real);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        ChosenEnds.Dispose();
        RejectedEnds.Dispose();
        StepMask.Dispose();
    }
}

/// <summary>
/// Tree-PLV's verifier objective (<see cref="PlvLoss.Ranking"/>) on a scorer model (<see cref="CausalLanguageModel.ScorerFrom"/>):
/// one forward over both sides of every pair, the scores read at each compared step's last token. No reference model.
/// </summary>
public sealed class PlvObjective(CausalLanguageModel scorer, int padId) : IPolicyObjective<PlvPair, bool, PlvBatch, PlvMetrics>
{
    public int Length(PlvPair pair) => pair.Length;

    public PlvBatch Collate(IReadOnlyList<PlvPair> pairs, IReadOnlyList<bool> reference, Device device) => PlvBatch.Collate(pairs, padId, device);

    public IReadOnlyList<bool> Reference(PlvBatch batch) => new bool[batch.StepMask.shape[0]];

    public IMetricTally<PlvMetrics> NewTally() => new Tally();

    public Tensor Loss(PlvBatch batch, IMetricTally<PlvMetrics> tally)
    {
        var scores = scorer.Scores(scorer.HiddenStatesRightPadded(batch.InputIds)).reshape(-1);   // [2P·W]
        var chosen = scores.index_select(0, batch.ChosenEnds.reshape(-1)).reshape(batch.ChosenEnds.shape);
        var rejected = scores.index_select(0, batch.RejectedEnds.reshape(-1)).reshape(batch.RejectedEnds.shape);
        var loss = PlvLoss.Ranking(chosen, rejected, batch.StepMask);
        var margins = (chosen - rejected).detach().to(ScalarType.Float64).cpu().data<double>().ToArray();
        var mask = batch.StepMask.cpu().data<float>().ToArray();
        ((Tally)tally).Add(loss.detach().item<float>(), (int)batch.StepMask.shape[0], (int)batch.StepMask.shape[1], margins, mask);
        return loss;
    }

    private sealed class Tally : IMetricTally<PlvMetrics>
    {
        private int pairs, steps, ordered, divergenceOrdered;
        private double loss, margin;

        public void Add(double batchLoss, int batchPairs, int width, double[] margins, float[] mask)
        {
            loss += batchLoss * batchPairs;
            pairs += batchPairs;
            for (int p = 0; p < batchPairs; p++)
            {
                if (margins[p * width] > 0) divergenceOrdered++;
                for (int s = 0; s < width; s++)
                    if (mask[p * width + s] > 0)
                    {
                        steps++;
                        margin += margins[p * width + s];
                        if (margins[p * width + s] > 0) ordered++;
                    }
            }
        }

        public PlvMetrics Metrics()
        {
            double n = Math.Max(1, pairs), m = Math.Max(1, steps);
            return new PlvMetrics(pairs, loss / n, ordered / m, divergenceOrdered / n, margin / m);
        }
    }
}

/// <summary>Tree-PLV on the shared loop; <paramref name="scorer"/> is what trains.</summary>
public sealed class PlvTrainer(CausalLanguageModel scorer, int padId, PlvSettings settings)
    : PolicyTrainer<PlvPair, bool, PlvBatch, PlvMetrics>(scorer, new PlvObjective(scorer, padId), settings);
