using Reasoner.Training.Evaluation;

namespace Reasoner.Tests.Eval;

public class EvalComparisonTests
{
    private static EvalRun Run(string model, int k = 2, double temperature = 1) => new("arith", 2, null, model, "solve-bare", k, k, temperature, 1, 64, 1);

    private static ProblemOutcome Outcome(string id, bool greedy, int correctSamples = 0, int samples = 2, bool majority = false) =>
        new(id, "text", greedy ? "1" : "2", greedy, null, [.. Enumerable.Repeat<string?>("1", samples)], correctSamples,
            correctSamples > 0 ? 1 : 0, majority ? "1" : "2", majority);

    [Fact]
    public void PairsProblemsByIdAndCountsTheDiscordantOnes()
    {
        // A right on p0..p5; B right on p2..p9 (p6..p9 only B, p0..p1 only A); p10 only in A.
        var a = EvalReport.Create(Run("a"), [.. Enumerable.Range(0, 11).Select(i => Outcome($"p{i}", i < 6))]);
        var b = EvalReport.Create(Run("b"), [.. Enumerable.Range(0, 10).Reverse().Select(i => Outcome($"p{i}", i >= 2))]);

        var comparison = EvalComparison.Compare(a, b);

        Assert.Equal((10, 1, 0), (comparison.Problems, comparison.OnlyInA, comparison.OnlyInB));
        var greedy = comparison.Metrics[0];
        Assert.Equal("greedy", greedy.Name);
        Assert.Equal((0.6, 0.8), (greedy.A, greedy.B));
        Assert.Equal(0.2, greedy.Difference, 12);
        Assert.Equal((2, 4), (greedy.OnlyA, greedy.OnlyB));
        Assert.Equal(Reasoner.Core.Statistics.McNemar.ExactP(2, 4), greedy.McNemarP);
        Assert.True(greedy.DifferenceInterval.Contains(0.2));
        Assert.Equal(["greedy", "pass@2", "maj@2", "sample accuracy"], comparison.Metrics.Select(m => m.Name));
        Assert.Null(comparison.SamplingNote);
    }

    [Fact]
    public void WithinOneReportTheVerifiersPickAndTheValueBeamArePairedWithTheirBaselines()
    {
        // Ten problems: majority right on p0..p5, the verifier's pick on p4..p9 (p0..p3 only majority, p6..p9 only the verifier);
        // greedy right on p0..p1; plain beam on p0..p4 and value beam on p0..p2 for the first five problems only.
        var outcomes = Enumerable.Range(0, 10).Select(i => Outcome($"p{i}", greedy: i < 2, majority: i < 6) with
        {
            VerifierCorrect = i >= 4,
            BeamCorrect = i < 5 ? true : null,
            ValueBeamCorrect = i < 5 ? i < 3 : null,
        }).ToList();
        var report = EvalReport.Create(Run("m"), outcomes);

        var within = EvalComparison.Within(report);

        Assert.Equal(["verifier pick − majority vote", "verifier pick − greedy", "value beam − greedy", "value beam − plain beam"], within.Select(m => m.Name));
        var overMajority = within[0];
        Assert.Equal((0.6, 0.6, 0.0), (overMajority.A, overMajority.B, overMajority.Difference));
        Assert.Equal((4, 4), (overMajority.OnlyA, overMajority.OnlyB));
        Assert.Equal(0.4, within[1].Difference, 12);
        // The beams ran on five problems: greedy 2 of 5 right, plain beam 5, value beam 3.
        Assert.Equal((0.4, 0.6), (within[2].A, within[2].B));
        Assert.Equal(-0.4, within[3].Difference, 12);
        Assert.Equal((2, 0), (within[3].OnlyA, within[3].OnlyB));

        // Without every sample in the vote (k < n), majority vote is not over the reranked samples: that row is left out.
        var partial = EvalReport.Create(new EvalRun("arith", 2, null, "m", "solve-bare", 2, 4, 1, 1, 64, 1), outcomes);
        Assert.DoesNotContain("verifier pick − majority vote", EvalComparison.Within(partial).Select(m => m.Name));
    }

    [Fact]
    public void DifferentSamplingComparesGreedyOnly()
    {
        var a = EvalReport.Create(Run("a", k: 2), [Outcome("p", true)]);
        var b = EvalReport.Create(Run("b", k: 4), [Outcome("p", true, samples: 4)]);
        var comparison = EvalComparison.Compare(a, b);
        Assert.Equal(["greedy"], comparison.Metrics.Select(m => m.Name));
        Assert.Contains("only greedy", comparison.SamplingNote);
        Assert.Throws<ArgumentException>(() => EvalComparison.Compare(a, EvalReport.Create(Run("c"), [Outcome("q", true)])));
    }

    [Fact]
    public void ASavedReportReadsBackWhole()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory("reasoner-eval-").FullName, "r.json");
        var report = EvalReport.Create(Run("a"), [Outcome("p0", true, 1), Outcome("p1", false, 2, majority: true)]);
        File.WriteAllText(path, report.ToJson());

        var loaded = EvalReport.Load(path);

        Assert.Equal(report.Run, loaded.Run);
        Assert.Equal(report.Summary.Greedy, loaded.Summary.Greedy);
        Assert.Equal(report.Problems.Select(p => (p.ProblemId, p.GreedyCorrect, p.CorrectSamples, p.MajorityCorrect)),
            loaded.Problems.Select(p => (p.ProblemId, p.GreedyCorrect, p.CorrectSamples, p.MajorityCorrect)));

        File.WriteAllText(path, "{\"hello\": 1}");
        Assert.Contains("not an eval report", Assert.Throws<InvalidDataException>(() => EvalReport.Load(path)).Message);
        File.WriteAllText(path, "{ broken");
        Assert.Contains(path, Assert.Throws<InvalidDataException>(() => EvalReport.Load(path)).Message);
    }
}
