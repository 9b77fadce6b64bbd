namespace Reasoner.Core.Statistics;

/// <summary>
/// McNemar's exact test for paired binary outcomes (two models on the same problems). Only the discordant problems
/// carry information: b where only A is right, c where only B is right. Under "no difference" each discordant problem
/// goes either way with probability 1/2, so the two-sided p-value is the binomial tail, doubled:
/// p = min(1, 2 · Σ_{k ≤ min(b,c)} C(b+c, k) / 2^(b+c)).
/// </summary>
public static class McNemar
{
    public static double ExactP(int onlyA, int onlyB)
    {
        if (onlyA < 0 || onlyB < 0) throw new ArgumentOutOfRangeException(nameof(onlyA), "discordant counts cannot be negative");
        int n = onlyA + onlyB, k = Math.Min(onlyA, onlyB);
        if (n == 0) return 1.0;
        // Sum the tail in log space: C(n, i) / 2^n underflows a double for n in the thousands.
        double logHalfN = -n * Math.Log(2);
        double logTerm = logHalfN; // i = 0: C(n, 0) = 1
        double tail = Math.Exp(logTerm);
        for (int i = 1; i <= k; i++)
        {
            logTerm += Math.Log(n - i + 1) - Math.Log(i);
            tail += Math.Exp(logTerm);
        }
        return Math.Min(1.0, 2 * tail);
    }
}
