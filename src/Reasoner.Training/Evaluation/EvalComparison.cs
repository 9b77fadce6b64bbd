using Reasoner.Core.Statistics;

namespace Reasoner.Training.Evaluation;

/// <summary>
/// One metric of two evaluations on the same problems: each side's value, B − A with a paired bootstrap 95 % interval
/// over problems, and for yes/no-per-problem metrics the discordant counts and McNemar's exact p.
/// </summary>
public sealed record ComparedMetric(string Name, double A, double B, double Difference, Interval DifferenceInterval, int? OnlyA, int? OnlyB, double? McNemarP);

/// <summary>Two evaluations compared problem by problem, on the problems both evaluated.</summary>
public sealed record EvalComparison(int Problems, int OnlyInA, int OnlyInB, IReadOnlyList<ComparedMetric> Metrics, string? SamplingNote)
{
    /// <summary>
    /// Pairs the reports' problems by id. Greedy accuracy is always compared; pass@k, maj@k and sample accuracy only when
    /// both sampled alike (k, n, temperature, top-p), since otherwise they measure different things.
    /// </summary>
    public static EvalComparison Compare(EvalReport a, EvalReport b, int resamples = 2000, int seed = 1234)
    {
        var byId = b.Problems.GroupBy(p => p.ProblemId).ToDictionary(g => g.Key, g => g.First());
        var pairs = a.Problems.Where(p => byId.ContainsKey(p.ProblemId)).Select(p => (A: p, B: byId[p.ProblemId])).ToList();
        if (pairs.Count == 0) throw new ArgumentException("the two evaluations share no problem: compare reports of the same task and test set");
        var metrics = new List<ComparedMetric> { Binary("greedy", pairs, o => o.GreedyCorrect, resamples, seed) };
        string? note = null;
        var (ra, rb) = (a.Run, b.Run);
        if (ra.K == rb.K && ra.Samples == rb.Samples && ra.Temperature == rb.Temperature && ra.TopP == rb.TopP)
        {
            metrics.Add(Mean($"pass@{ra.K}", pairs, o => o.PassAtK, resamples, seed));
            metrics.Add(Binary($"maj@{ra.K}", pairs, o => o.MajorityCorrect, resamples, seed));
            metrics.Add(Mean("sample accuracy", pairs, o => (double)o.CorrectSamples / Math.Max(1, o.SampleAnswers.Count), resamples, seed));
        }
        else
        {
            note = $"sampling differs (k {ra.K} vs {rb.K}, n {ra.Samples} vs {rb.Samples}, temperature {ra.Temperature} vs {rb.Temperature}, top-p {ra.TopP} vs {rb.TopP}): only greedy accuracy is compared";
        }
        return new EvalComparison(pairs.Count, a.Problems.Count - pairs.Count, b.Problems.Count - pairs.Count, metrics, note);
    }

    private static ComparedMetric Binary(string name, List<(ProblemOutcome A, ProblemOutcome B)> pairs, Func<ProblemOutcome, bool> correct, int resamples, int seed)
    {
        int onlyA = pairs.Count(p => correct(p.A) && !correct(p.B)), onlyB = pairs.Count(p => !correct(p.A) && correct(p.B));
        var mean = Mean(name, pairs, o => correct(o) ? 1 : 0, resamples, seed);
        return mean with { OnlyA = onlyA, OnlyB = onlyB, McNemarP = McNemar.ExactP(onlyA, onlyB) };
    }

    private static ComparedMetric Mean(string name, List<(ProblemOutcome A, ProblemOutcome B)> pairs, Func<ProblemOutcome, double> value, int resamples, int seed)
    {
        var differences = pairs.Select(p => value(p.B) - value(p.A)).ToList();
        return new ComparedMetric(name, pairs.Average(p => value(p.A)), pairs.Average(p => value(p.B)), differences.Average(),
            Intervals.BootstrapMean(differences, resamples, seed), null, null, null);
    }
}
