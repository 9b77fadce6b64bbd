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
        if (!ra.Sampled || !rb.Sampled)
        {
            note = "at least one evaluation is greedy only (k 0): only greedy accuracy is compared";
        }
        else if (ra.K == rb.K && ra.Samples == rb.Samples && ra.Temperature == rb.Temperature && ra.TopP == rb.TopP)
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

    /// <summary>
    /// Two ways of answering compared within one evaluation, on the same problems and samples, where both ran: the
    /// verifier's pick against majority vote and against greedy, value-guided beam against greedy and against plain beam.
    /// B is the method named first ("verifier pick − majority vote" is verifier minus majority).
    /// </summary>
    public static IReadOnlyList<ComparedMetric> Within(EvalReport report, int resamples = 2000, int seed = 1234)
    {
        var metrics = new List<ComparedMetric>();
        void Add(string name, Func<ProblemOutcome, bool?> a, Func<ProblemOutcome, bool?> b)
        {
            var pairs = report.Problems.Where(p => a(p) is not null && b(p) is not null).Select(p => (a(p)!.Value, b(p)!.Value)).ToList();
            if (pairs.Count > 0) metrics.Add(Paired(name, pairs, resamples, seed));
        }
        // Majority vote is over the same samples the verifier reranked only when k is all of them.
        if (report.Run.K == report.Run.Samples) Add("verifier pick − majority vote", o => o.MajorityCorrect, o => o.VerifierCorrect);
        Add("verifier pick − greedy", o => o.GreedyCorrect, o => o.VerifierCorrect);
        Add("value beam − greedy", o => o.GreedyCorrect, o => o.ValueBeamCorrect);
        Add("value beam − plain beam", o => o.BeamCorrect, o => o.ValueBeamCorrect);
        return metrics;
    }

    private static ComparedMetric Binary(string name, List<(ProblemOutcome A, ProblemOutcome B)> pairs, Func<ProblemOutcome, bool> correct, int resamples, int seed) =>
        Paired(name, [.. pairs.Select(p => (correct(p.A), correct(p.B)))], resamples, seed);

    private static ComparedMetric Paired(string name, IReadOnlyList<(bool A, bool B)> pairs, int resamples, int seed)
    {
        int onlyA = pairs.Count(p => p.A && !p.B), onlyB = pairs.Count(p => !p.A && p.B);
        var differences = pairs.Select(p => (p.B ? 1.0 : 0) - (p.A ? 1 : 0)).ToList();
        return new ComparedMetric(name, pairs.Average(p => p.A ? 1.0 : 0), pairs.Average(p => p.B ? 1.0 : 0), differences.Average(),
            Intervals.BootstrapMean(differences, resamples, seed), onlyA, onlyB, McNemar.ExactP(onlyA, onlyB));
    }

    private static ComparedMetric Mean(string name, List<(ProblemOutcome A, ProblemOutcome B)> pairs, Func<ProblemOutcome, double> value, int resamples, int seed)
    {
        var differences = pairs.Select(p => value(p.B) - value(p.A)).ToList();
        return new ComparedMetric(name, pairs.Average(p => value(p.A)), pairs.Average(p => value(p.B)), differences.Average(),
            Intervals.BootstrapMean(differences, resamples, seed), null, null, null);
    }
}
