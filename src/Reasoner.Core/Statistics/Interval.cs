using System.Globalization;

namespace Reasoner.Core.Statistics;

/// <summary>A two-sided confidence interval [Low, High] around an estimate.</summary>
public readonly record struct Interval(double Low, double High)
{
    public bool Contains(double value) => value >= Low && value <= High;

    /// <summary>"[0.312, 0.401]" scaled by <paramref name="scale"/> (100 for percentages).</summary>
    public string Format(string format = "0.0", double scale = 100) =>
        string.Create(CultureInfo.InvariantCulture, $"[{(Low * scale).ToString(format, CultureInfo.InvariantCulture)}, {(High * scale).ToString(format, CultureInfo.InvariantCulture)}]");
}

/// <summary>95 % intervals for accuracies measured on a problem set.</summary>
public static class Intervals
{
    /// <summary>z of a two-sided 95 % interval.</summary>
    public const double Z95 = 1.959963984540054;

    /// <summary>
    /// Wilson's score interval for a proportion (Wilson 1927): the set of p whose score test does not reject k of n.
    /// Unlike the normal approximation it stays inside [0, 1] and keeps its coverage near 0 % and 100 %.
    /// </summary>
    public static Interval Wilson(int successes, int trials, double z = Z95)
    {
        if (trials < 0 || successes < 0 || successes > trials) throw new ArgumentOutOfRangeException(nameof(successes), $"need 0 <= successes <= trials, got {successes} of {trials}");
        if (trials == 0) return new Interval(0, 1);
        double n = trials, p = successes / n, z2 = z * z;
        double centre = (p + z2 / (2 * n)) / (1 + z2 / n);
        double half = z / (1 + z2 / n) * Math.Sqrt(p * (1 - p) / n + z2 / (4 * n * n));
        // Exact at the ends: 0 of n has lower bound 0, n of n upper bound 1 (rounding would leave 1e-17).
        return new Interval(successes == 0 ? 0 : Math.Max(0, centre - half), successes == trials ? 1 : Math.Min(1, centre + half));
    }

    /// <summary>
    /// Percentile bootstrap interval of a mean over independent units (problems): <paramref name="resamples"/> draws of
    /// n units with replacement from a seeded generator, so the same values give the same interval. For a paired
    /// comparison pass the per-problem differences.
    /// </summary>
    public static Interval BootstrapMean(IReadOnlyList<double> values, int resamples = 2000, int seed = 1234, double level = 0.95)
    {
        if (values.Count == 0) return new Interval(double.NaN, double.NaN);
        if (resamples < 10) throw new ArgumentOutOfRangeException(nameof(resamples), "need at least 10 resamples");
        var random = new Random(seed);
        var means = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            double sum = 0;
            for (int i = 0; i < values.Count; i++) sum += values[random.Next(values.Count)];
            means[r] = sum / values.Count;
        }
        Array.Sort(means);
        double tail = (1 - level) / 2;
        return new Interval(Quantile(means, tail), Quantile(means, 1 - tail));
    }

    /// <summary>Linear interpolation between order statistics (type 7, R's default).</summary>
    private static double Quantile(double[] sorted, double q)
    {
        double position = q * (sorted.Length - 1);
        int below = (int)Math.Floor(position);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (position - below) * (sorted[above] - sorted[below]);
    }
}
