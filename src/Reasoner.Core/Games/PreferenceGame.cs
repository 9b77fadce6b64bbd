namespace Reasoner.Core.Games;

/// <summary>
/// A symmetric two-player preference game over n responses (ONPO, arXiv 2502.16852 §3): P[i,j] = P(i ≻ j) with
/// P + Pᵀ = 1, and J(π1, π2) = π1ᵀ P π2. Preferences may be cyclic (non-transitive), which no Bradley–Terry reward can express.
/// </summary>
public sealed class PreferenceGame
{
    private readonly double[,] p;

    public PreferenceGame(double[,] preferences)
    {
        int n = preferences.GetLength(0);
        if (n < 2 || preferences.GetLength(1) != n) throw new ArgumentException("a preference matrix must be square, with at least 2 responses");
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
            {
                double x = preferences[i, j];
                if (x is < 0 or > 1 || Math.Abs(x + preferences[j, i] - 1) > 1e-12)
                    throw new ArgumentException($"P[{i},{j}] = {x} and P[{j},{i}] = {preferences[j, i]}: preferences must lie in [0, 1] and P + Pᵀ = 1");
            }
        p = (double[,])preferences.Clone();
        Size = n;
    }

    public int Size { get; }

    public double this[int i, int j] => p[i, j];

    /// <summary>r(y) = P(y ≻ π) = Σ_j P[y,j] π_j: each response's win rate against <paramref name="policy"/>.</summary>
    public double[] WinRates(IReadOnlyList<double> policy)
    {
        var r = new double[Size];
        for (int i = 0; i < Size; i++)
            for (int j = 0; j < Size; j++) r[i] += p[i, j] * policy[j];
        return r;
    }

    /// <summary>
    /// DualGap(π) = max_π1 J(π1, π) − min_π2 J(π, π2) (the paper's §3). With P + Pᵀ = 1, J(π, π2) = 1 − J(π2, π), so the gap is
    /// 2·max_y P(y ≻ π) − 1: zero exactly at a Nash equilibrium.
    /// </summary>
    public double DualityGap(IReadOnlyList<double> policy) => 2 * WinRates(policy).Max() - 1;

    /// <summary>
    /// The game's equilibrium when it is unique and interior: the one policy with P(y ≻ π) = ½ for every y, found from the
    /// skew-symmetric A = P − ½ (Aπ = 0, Σπ = 1); null when A's null space is not one line through the simplex's interior.
    /// (Every equilibrium x has Ax ≤ 0 and π*ᵀAx = 0, so an interior π* forces Ax = 0: with a one-dimensional null space, x = π*.)
    /// </summary>
    public double[]? UniqueInteriorEquilibrium()
    {
        int n = Size;
        // [A; 1ᵀ] π = [0; 1] by least squares through the normal equations, then check the residual and the rank.
        var m = new double[n + 1, n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++) m[i, j] = p[i, j] - 0.5;
        for (int j = 0; j < n; j++) m[n, j] = 1;
        var normal = new double[n, n + 1];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++)
                for (int k = 0; k <= n; k++) normal[i, j] += m[k, i] * m[k, j];
            normal[i, n] = m[n, i];
        }
        var x = Solve(normal, n);
        if (x is null || x.Any(v => v <= 1e-9)) return null;
        for (int i = 0; i < n; i++)
        {
            double residual = 0;
            for (int j = 0; j < n; j++) residual += m[i, j] * x[j];
            if (Math.Abs(residual) > 1e-9) return null;
        }
        return x;
    }

    /// <summary>Perturbed rock-paper-scissors: each response beats the next by its own margin, so the equilibrium is not uniform.</summary>
    public static PreferenceGame RockPaperScissors(double a = 0.3, double b = 0.2, double c = 0.4) => new(new[,]
    {
        { 0.5, 0.5 + a, 0.5 - c },
        { 0.5 - a, 0.5, 0.5 + b },
        { 0.5 + c, 0.5 - b, 0.5 },
    });

    /// <summary>A random game: P = ½ + A with A skew-symmetric, entries uniform in [−½, ½].</summary>
    public static PreferenceGame Random(int size, Random random)
    {
        var p = new double[size, size];
        for (int i = 0; i < size; i++)
        {
            p[i, i] = 0.5;
            for (int j = i + 1; j < size; j++)
            {
                p[i, j] = random.NextDouble();
                p[j, i] = 1 - p[i, j];
            }
        }
        return new PreferenceGame(p);
    }

    /// <summary>Gaussian elimination with partial pivoting on an n × (n+1) augmented matrix; null when singular.</summary>
    private static double[]? Solve(double[,] a, int n)
    {
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++) if (Math.Abs(a[r, col]) > Math.Abs(a[pivot, col])) pivot = r;
            if (Math.Abs(a[pivot, col]) < 1e-12) return null;
            for (int k = 0; k <= n; k++) (a[col, k], a[pivot, k]) = (a[pivot, k], a[col, k]);
            for (int r = 0; r < n; r++)
            {
                if (r == col) continue;
                double f = a[r, col] / a[col, col];
                for (int k = col; k <= n; k++) a[r, k] -= f * a[col, k];
            }
        }
        return Enumerable.Range(0, n).Select(i => a[i, n] / a[i, i]).ToArray();
    }
}
