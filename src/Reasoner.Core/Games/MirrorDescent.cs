namespace Reasoner.Core.Games;

/// <summary>One iteration's duality gaps: of the last iterate π_t, and of the uniform mixture of π_1 … π_t.</summary>
public sealed record GapPoint(int Iteration, double LastGap, double AverageGap);

/// <summary>
/// Exact self-play on a <see cref="PreferenceGame"/>, as ONPO's analysis states it (arXiv 2502.16852 §4):
/// <list type="bullet">
/// <item>OMD (Eq. 1): π_{t+1} ∝ π_t · exp(η r_t), r_t(y) = P(y ≻ π_t). Its average converges (Theorem 1); its last iterate cycles.</item>
/// <item>Optimistic OMD: π_t ∝ π′_t · exp(η m_t) with the prediction m_t = r_{t−1}, and π′_{t+1} ∝ π′_t · exp(η r_t).
/// With a unique Nash equilibrium and η ≤ 1/8 its last iterate converges (Theorem 3, after Wei et al. 2020).</item>
/// </list>
/// </summary>
public static class MirrorDescent
{
    public static IEnumerable<GapPoint> Omd(PreferenceGame game, double[] start, double eta, int iterations)
    {
        Check(game, start, eta);
        var policy = (double[])start.Clone();
        var sum = new double[game.Size];
        for (int t = 1; t <= iterations; t++)
        {
            Accumulate(sum, policy);
            yield return new GapPoint(t, game.DualityGap(policy), game.DualityGap(Mean(sum, t)));
            policy = Step(policy, game.WinRates(policy), eta);
        }
    }

    public static IEnumerable<GapPoint> OptimisticOmd(PreferenceGame game, double[] start, double eta, int iterations)
    {
        Check(game, start, eta);
        var auxiliary = (double[])start.Clone();
        var policy = (double[])start.Clone();                 // π_1 = π′_1 (no prediction yet)
        var sum = new double[game.Size];
        for (int t = 1; t <= iterations; t++)
        {
            Accumulate(sum, policy);
            yield return new GapPoint(t, game.DualityGap(policy), game.DualityGap(Mean(sum, t)));
            var rewards = game.WinRates(policy);
            auxiliary = Step(auxiliary, rewards, eta);        // π′_{t+1} from π′_t and r_t
            policy = Step(auxiliary, rewards, eta);           // π_{t+1} from π′_{t+1} and m_{t+1} = r_t
        }
    }

    /// <summary>argmax_π ⟨π, r⟩ − (1/η) KL(π ‖ anchor): the anchor reweighted by exp(η r).</summary>
    public static double[] Step(IReadOnlyList<double> anchor, IReadOnlyList<double> rewards, double eta)
    {
        double shift = rewards.Max();
        var next = anchor.Select((a, i) => a * Math.Exp(eta * (rewards[i] - shift))).ToArray();
        double total = next.Sum();
        return next.Select(x => x / total).ToArray();
    }

    private static void Check(PreferenceGame game, double[] start, double eta)
    {
        if (start.Length != game.Size || start.Any(x => x <= 0) || Math.Abs(start.Sum() - 1) > 1e-9)
            throw new ArgumentException("the start must be a policy with full support over the game's responses");
        if (!(eta > 0)) throw new ArgumentException($"η must be positive, got {eta}");
    }

    private static void Accumulate(double[] sum, double[] policy)
    {
        for (int i = 0; i < sum.Length; i++) sum[i] += policy[i];
    }

    private static double[] Mean(double[] sum, int count) => sum.Select(x => x / count).ToArray();
}
