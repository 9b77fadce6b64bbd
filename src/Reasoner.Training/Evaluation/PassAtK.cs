namespace Reasoner.Training.Evaluation;

/// <summary>
/// pass@k from n samples of which c are correct: the chance that k samples drawn without replacement from the n
/// include a correct one, 1 - C(n-c, k) / C(n, k) (Chen et al. 2021, "Evaluating Large Language Models Trained
/// on Code"). Unbiased when n &gt; k; with n == k it is the plain "any of the k is correct".
/// </summary>
public static class PassAtK
{
    public static double Estimate(int n, int c, int k)
    {
        if (k < 1 || n < k) throw new ArgumentException($"pass@k needs 1 <= k <= n, got k={k}, n={n}");
        if (c < 0 || c > n) throw new ArgumentException($"correct count must be in [0, {n}], got {c}");
        if (n - c < k) return 1.0;
        // C(n-c,k)/C(n,k) = prod_{i=n-c+1..n} (1 - k/i), a product of numbers in (0,1] that never overflows.
        double allWrong = 1.0;
        for (int i = n - c + 1; i <= n; i++) allWrong *= 1.0 - (double)k / i;
        return 1.0 - allWrong;
    }
}
