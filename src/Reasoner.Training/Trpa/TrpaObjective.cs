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

/// <summary>
/// B groups as one batch of rows (every solution of every group), with the reference's per-token log-probabilities and
/// the sampling policy's: the same values for stored trees (their searching policy is the starting one), the sampler's
/// own for fresh samples.
/// </summary>
public sealed record GroupBatch(TokenBatch Tokens, Tensor ReferenceLogProbs, Tensor OldLogProbs, IReadOnlyList<SolutionGroup> Groups) : ITokenCounts, IDisposable
{
    public long RealTokens => Tokens.RealTokens;

    public long TargetTokens => Tokens.TargetTokens;

    /// <param name="reference">Per group, per solution, log π_ref of each solution token (null entries while they are computed).</param>
    public static GroupBatch Collate(IReadOnlyList<SolutionGroup> groups, IReadOnlyList<float[][]?> reference, int padId, Device device)
    {
        var tokens = TokenBatch.Collate(groups.SelectMany(g => g.Sequences).ToArray(), padId, device);
        int width = (int)tokens.Width, row = 0;
        var refValues = new float[groups.Sum(g => g.Solutions.Count) * width];
        var oldValues = new float[refValues.Length];
        for (int g = 0; g < groups.Count; g++)
            for (int s = 0; s < groups[g].Solutions.Count; s++, row++)
            {
                int at = row * width + groups[g].Prompt.Length;
                if (reference[g] is { } r) Array.Copy(r[s], 0, refValues, at, r[s].Length);
                if ((groups[g].Solutions[s].SamplingLogProbs ?? reference[g]?[s]) is { } o) Array.Copy(o, 0, oldValues, at, o.Length);
            }
        return new GroupBatch(tokens, tensor(refValues, [row, width], device: device), tensor(oldValues, [row, width], device: device), groups);
    }

    public void Dispose()
    {
        Tokens.Dispose();
        ReferenceLogProbs.Dispose();
        OldLogProbs.Dispose();
    }
}

/// <summary>
/// TRPA (Su et al., arXiv 2504.04524) on groups of whole solutions: <see cref="TrpaLoss.Preference"/> per group on the
/// per-token mean log-ratio to the reference, plus the trust-region KL to the policy that sampled them. For stored trees
/// the sampling policy is the starting one (the model that searched), so one up-front pass gives both. For fresh samples
/// the sampler recorded its own log-probabilities, and the reference is <paramref name="reference"/>, a frozen copy of
/// the starting policy, since the policy itself has moved by the time a later epoch samples.
/// </summary>
/// <param name="reference">The frozen reference model; null: the policy itself, whose reference figures are all taken before training.</param>
public sealed class TrpaObjective(CausalLanguageModel model, int padId, TrpaSettings settings, CausalLanguageModel? reference = null)
    : IPolicyObjective<SolutionGroup, float[][], GroupBatch, TrpaMetrics>
{
    public int Length(SolutionGroup group) => group.Length;

    public GroupBatch Collate(IReadOnlyList<SolutionGroup> groups, IReadOnlyList<float[][]> reference, Device device) =>
        GroupBatch.Collate(groups, reference, padId, device);

    public IReadOnlyList<float[][]> Reference(GroupBatch batch)
    {
        using var logProbs = SequenceLogProbs.Compute(reference ?? model, batch.Tokens);
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
        var meanRatios = ((logProbs.Values - batch.ReferenceLogProbs) * mask).sum(1) / mask.sum(1).clamp_min(1);   // [R]
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
public sealed class TrpaTrainer(CausalLanguageModel model, int padId, TrpaSettings settings, CausalLanguageModel? reference = null)
    : PolicyTrainer<SolutionGroup, float[][], GroupBatch, TrpaMetrics>(model, new TrpaObjective(model, padId, settings, reference), settings);
