using Reasoner.Models;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using static TorchSharp.torch;

namespace Reasoner.Training.Trpa;

/// <summary>Mean TRPA figures over a set of groups.</summary>
/// <param name="PairAccuracy">Share of cross-level pairs whose mean log-ratios are in the levels' order.</param>
/// <param name="TrustRegionKl">Per-token k3 KL to the sampling policy.</param>
public sealed record TrpaMetrics(int Groups, double Loss, double PreferenceLoss, double TrustRegionKl, double PairAccuracy, double BestLogRatio, double OtherLogRatio) : ITrainingMetrics
{
    public IEnumerable<KeyValuePair<string, double>> Named(string prefix) =>
    [
        new($"{prefix}loss", Loss), new($"{prefix}preference_loss", PreferenceLoss), new($"{prefix}trust_region_kl", TrustRegionKl),
        new($"{prefix}rewards/pair_accuracy", PairAccuracy), new($"{prefix}log_ratio/level_1", BestLogRatio), new($"{prefix}log_ratio/other", OtherLogRatio),
    ];
}

/// <summary>B groups as one batch of rows (every solution of every group), with the sampling policy's per-token log-probabilities.</summary>
public sealed record GroupBatch(TokenBatch Tokens, Tensor OldLogProbs, IReadOnlyList<SolutionGroup> Groups) : ITokenCounts, IDisposable
{
    public long RealTokens => Tokens.RealTokens;

    public long TargetTokens => Tokens.TargetTokens;

    /// <param name="old">Per group, per solution, log π_old of each solution token (null entries while they are computed).</param>
    public static GroupBatch Collate(IReadOnlyList<SolutionGroup> groups, IReadOnlyList<float[][]?> old, int padId, Device device)
    {
        var tokens = TokenBatch.Collate(groups.SelectMany(g => g.Sequences).ToArray(), padId, device);
        int width = (int)tokens.Width, row = 0;
        var values = new float[groups.Sum(g => g.Solutions.Count) * width];
        for (int g = 0; g < groups.Count; g++)
            for (int s = 0; s < groups[g].Solutions.Count; s++, row++)
                if (old[g] is { } o)
                    Array.Copy(o[s], 0, values, row * width + groups[g].Prompt.Length, o[s].Length);
        return new GroupBatch(tokens, tensor(values, [row, width], device: device), groups);
    }

    public void Dispose()
    {
        Tokens.Dispose();
        OldLogProbs.Dispose();
    }
}

/// <summary>
/// TRPA (Su et al., arXiv 2504.04524) on groups of whole solutions: <see cref="TrpaLoss.Preference"/> per group plus the
/// trust-region KL to the policy that sampled them. The reference and the sampling policy are both the policy as training
/// starts (on-policy data: the model that searched the trees), so one up-front pass gives both: each solution token's
/// log-probability. Training another model on the trees makes the trust region measure the distance to that start instead.
/// </summary>
public sealed class TrpaObjective(CausalLanguageModel model, int padId, TrpaSettings settings)
    : IPolicyObjective<SolutionGroup, float[][], GroupBatch, TrpaMetrics>
{
    public int Length(SolutionGroup group) => group.Length;

    public GroupBatch Collate(IReadOnlyList<SolutionGroup> groups, IReadOnlyList<float[][]> reference, Device device) =>
        GroupBatch.Collate(groups, reference, padId, device);

    public IReadOnlyList<float[][]> Reference(GroupBatch batch)
    {
        using var logProbs = SequenceLogProbs.Compute(model, batch.Tokens);
        var values = logProbs.Values.cpu().data<float>().ToArray();
        long width = batch.Tokens.Width;
        int row = 0;
        return batch.Groups.Select(g => g.Solutions.Select(s =>
        {
            var start = row++ * width + g.Prompt.Length;
            return values.Skip((int)start).Take(s.Tokens.Length).ToArray();
        }).ToArray()).ToArray();
    }

    public IMetricTally<TrpaMetrics> NewTally() => new Tally(settings.TrustRegion);

    public Tensor Loss(GroupBatch batch, IMetricTally<TrpaMetrics> tally)
    {
        using var logProbs = SequenceLogProbs.Compute(model, batch.Tokens);
        var mask = logProbs.Mask;
        // The reference is the starting policy, whose per-token log-probabilities are the sampling policy's too.
        var meanRatios = ((logProbs.Values - batch.OldLogProbs) * mask).sum(1) / mask.sum(1).clamp_min(1);   // [R]
        var ratios = meanRatios.detach().cpu().to(ScalarType.Float64).data<double>().ToArray();
        var preference = new List<Tensor>();
        int row = 0;
        foreach (var group in batch.Groups)
        {
            int n = group.Solutions.Count;
            var levels = group.Solutions.Select(s => s.Level).ToArray();
            var loss = TrpaLoss.Preference(meanRatios.narrow(0, row, n), levels, settings.Beta, settings.Anisotropy);
            preference.Add(loss);
            ((Tally)tally).AddGroup(loss.detach().item<float>(), levels, ratios.AsSpan(row, n).ToArray());
            row += n;
        }
        var preferenceLoss = stack(preference).mean();
        var kl = TrpaLoss.TrustRegionKl(logProbs.Values, batch.OldLogProbs, mask);
        ((Tally)tally).AddBatch(kl.detach().item<float>(), batch.Groups.Count);
        return preferenceLoss + settings.TrustRegion * kl;
    }

    private sealed class Tally(double coefficient) : IMetricTally<TrpaMetrics>
    {
        private int groups, pairs, ordered, best, other;
        private double preference, kl, bestRatio, otherRatio;
        private double klWeight;

        public void AddGroup(double loss, int[] levels, double[] ratios)
        {
            groups++;
            preference += loss;
            for (int i = 0; i < levels.Length; i++)
            {
                if (levels[i] == 1) { best++; bestRatio += ratios[i]; }
                else { other++; otherRatio += ratios[i]; }
                for (int j = 0; j < levels.Length; j++)
                    if (levels[i] < levels[j])
                    {
                        pairs++;
                        if (ratios[i] > ratios[j]) ordered++;
                    }
            }
        }

        public void AddBatch(double batchKl, int batchGroups)
        {
            kl += batchKl * batchGroups;
            klWeight += batchGroups;
        }

        public TrpaMetrics Metrics()
        {
            double n = Math.Max(1, groups), meanKl = kl / Math.Max(1, klWeight);
            return new TrpaMetrics(groups, preference / n + coefficient * meanKl, preference / n, meanKl, pairs == 0 ? 0 : (double)ordered / pairs,
                best == 0 ? 0 : bestRatio / best, other == 0 ? 0 : otherRatio / other);
        }
    }
}

/// <summary>TRPA on the shared loop.</summary>
public sealed class TrpaTrainer(CausalLanguageModel model, int padId, TrpaSettings settings)
    : PolicyTrainer<SolutionGroup, float[][], GroupBatch, TrpaMetrics>(model, new TrpaObjective(model, padId, settings), settings);
