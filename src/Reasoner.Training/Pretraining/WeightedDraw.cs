namespace Reasoner.Training.Pretraining;

/// <summary>An index drawn with probability proportional to its weight (the task and difficulty mixes of pretraining).</summary>
internal static class WeightedDraw
{
    public static int Index(IReadOnlyList<double> weights, Random random)
    {
        double u = random.NextDouble() * weights.Sum();
        for (int i = 0; i < weights.Count - 1; i++)
            if ((u -= weights[i]) < 0) return i;
        return weights.Count - 1;
    }
}
