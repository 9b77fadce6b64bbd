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

    /// <summary>
    /// A 95 % interval for an AUC of <paramref name="positives"/> against <paramref name="negatives"/> scores: the normal
    /// approximation with Hanley and McNeil's standard error (Radiology 143, 1982, eq. 2, with Q1 = A/(2−A) and
    /// Q2 = 2A²/(1+A)), clipped to [0, 1]. With few scores in either class it is wide, as it should be.
    /// </summary>
    public static Interval Interval(double auc, int positives, int negatives)
    {
        if (positives < 1 || negatives < 1) throw new ArgumentOutOfRangeException(nameof(positives), "an AUC needs scores in both classes");
        double q1 = auc / (2 - auc), q2 = 2 * auc * auc / (1 + auc), square = auc * auc;
        double variance = (auc * (1 - auc) + (positives - 1) * (q1 - square) + (negatives - 1) * (q2 - square)) / ((double)positives * negatives);
        double half = Intervals.Z95 * Math.Sqrt(Math.Max(variance, 0));
        return new Interval(Math.Max(0, auc - half), Math.Min(1, auc + half));
    }
}
