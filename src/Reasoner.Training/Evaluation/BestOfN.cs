using Reasoner.Models.Scoring;

namespace Reasoner.Training.Evaluation;

/// <summary>How a solution's step scores become one score for reranking.</summary>
public enum StepAggregation
{
    /// <summary>σ of the last step's score: the verifier's view of the whole solution.</summary>
    Last,

    /// <summary>The least σ over the steps: a solution is as good as its worst step (the usual PRM rule).</summary>
    Min,

    /// <summary>The product of σ over the steps: every step must be right.</summary>
    Product,
}

/// <summary>Best-of-N reranking: the sample a verifier scores highest stands for the problem.</summary>
public static class BestOfN
{
    /// <summary>One solution's score from its steps' raw verifier outputs; a solution without steps scores 0.</summary>
    public static double Aggregate(IReadOnlyList<double> rawStepScores, StepAggregation how)
    {
        if (rawStepScores.Count == 0) return 0;
        return how switch
        {
            StepAggregation.Last => ScorerEngine.Sigmoid(rawStepScores[^1]),
            StepAggregation.Min => rawStepScores.Min(ScorerEngine.Sigmoid),
            StepAggregation.Product => rawStepScores.Aggregate(1.0, (p, s) => p * ScorerEngine.Sigmoid(s)),
            _ => throw new ArgumentOutOfRangeException(nameof(how), how, null),
        };
    }

    /// <summary>The index of the highest score, the first on ties; −1 for none.</summary>
    public static int Pick(IReadOnlyList<double> scores)
    {
        int best = -1;
        for (int i = 0; i < scores.Count; i++)
            if (best < 0 || scores[i] > scores[best]) best = i;
        return best;
    }
}
