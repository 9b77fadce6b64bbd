namespace Reasoner.Core.Statistics;

/// <summary>
/// Area under the ROC curve: the chance that a random positive scores above a random negative, ties counting one
/// half (the Mann-Whitney U statistic over n⁺·n⁻). 0.5 is chance; 1 separates perfectly.
/// </summary>
public static class Auc
{
    /// <summary>The AUC, or null when either class is empty.</summary>
    public static double? Compute(IReadOnlyList<double> positives, IReadOnlyList<double> negatives)
    {
        if (positives.Count == 0 || negatives.Count == 0) return null;
        // Rank-sum form, O(n log n): sort all scores, give tied scores their average rank.
        var all = positives.Select(v => (Value: v, Positive: true)).Concat(negatives.Select(v => (Value: v, Positive: false)))
            .OrderBy(x => x.Value).ToArray();
        double positiveRankSum = 0;
        for (int i = 0; i < all.Length;)
        {
            int j = i;
            while (j < all.Length && all[j].Value == all[i].Value) j++;
            double averageRank = (i + 1 + j) / 2.0; // ranks i+1 … j
            for (int t = i; t < j; t++)
                if (all[t].Positive) positiveRankSum += averageRank;
            i = j;
        }
        double n1 = positives.Count, n0 = negatives.Count;
        return (positiveRankSum - n1 * (n1 + 1) / 2) / (n1 * n0);
    }
}
