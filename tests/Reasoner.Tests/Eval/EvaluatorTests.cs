using Reasoner.Core.Problems;
using Reasoner.Training.Evaluation;

namespace Reasoner.Tests.Eval;

public class EvaluatorTests
{
    private static Problem Arith(string id, string answer) => new(id, "arith", $"question {id}", answer, AnswerKind.Number);

    [Fact]
    public async Task GreedyPassAtKAndMajorityFromKnownOutputs()
    {
        var problems = new[] { Arith("a", "12"), Arith("b", "5"), Arith("c", "9") };
        var model = new FakeLanguageModel(new()
        {
            // Greedy right; 1 of 4 samples right; the majority (7) wrong.
            ["question a"] = ("The answer is 12.", ["The answer is 7.", "The answer is 12.", "The answer is 7.", "no answer"]),
            // Greedy wrong; 3 of 4 samples right, one written differently; majority right.
            ["question b"] = ("The answer is 4.", ["The answer is 5.", "The answer is 5.0.", "The answer is 6.", "The answer is 5."]),
            // Nothing right, nothing extractable from the greedy text.
            ["question c"] = ("I do not know", ["The answer is 8.", "The answer is 10.", "The answer is 8.", "x"]),
        });
        var settings = new EvalSettings { K = 4, Samples = 4, Temperature = 0.7, MaxTokens = 99, Seed = 100, Stop = ["\n\n"] };
        var evaluator = new Evaluator(model, p => p.Question, settings);
        var outcomes = new List<ProblemOutcome>();
        for (int i = 0; i < problems.Length; i++) outcomes.Add(await evaluator.EvaluateAsync(problems[i], i));

        Assert.Equal([true, false, false], outcomes.Select(o => o.GreedyCorrect));
        Assert.Equal([1, 3, 0], outcomes.Select(o => o.CorrectSamples));
        Assert.Equal([1.0, 1.0, 0.0], outcomes.Select(o => o.PassAtK));
        Assert.Equal(["7", "5", "8"], outcomes.Select(o => o.MajorityAnswer));
        Assert.Equal([false, true, false], outcomes.Select(o => o.MajorityCorrect));
        Assert.Null(outcomes[2].GreedyAnswer);

        var summary = EvalSummary.From(outcomes, settings.K, settings.Samples);
        Assert.Equal(1.0 / 3, summary.Greedy.Value, 10);
        Assert.Equal(2.0 / 3, summary.PassAtK.Value, 10);
        Assert.Equal(1.0 / 3, summary.MajorityAtK.Value, 10);
        Assert.Equal(4.0 / 12, summary.SampleAccuracy.Value, 10);
        Assert.Equal(Reasoner.Core.Statistics.Intervals.Wilson(1, 3), summary.Greedy.Interval);
        Assert.True(summary.PassAtK.Interval.Contains(2.0 / 3));
        // These problems have no reference steps: no gold labels, so no sound share.
        Assert.Null(summary.SoundGreedy);

        // Greedy at temperature 0, samples at the given settings, problem i seeded Seed + i.
        Assert.All(model.Requests, r => Assert.Equal(99, r.MaxTokens));
        Assert.Equal([0.0, 0.7], model.Requests.Where(r => r.Prompt == "question b").Select(r => r.Temperature));
        Assert.All(model.Requests.Where(r => r.Prompt == "question c"), r => Assert.Equal(102, r.Seed));
        Assert.All(model.Requests, r => Assert.Equal(["\n\n"], r.Stop));
    }

    [Fact]
    public async Task KZeroAsksForGreedyOnlyAndComparesGreedyAlone()
    {
        var problems = new[] { Arith("a", "12"), Arith("b", "5") };
        var model = new FakeLanguageModel(new()
        {
            ["question a"] = ("The answer is 12.", ["The answer is 12."]),
            ["question b"] = ("The answer is 4.", ["The answer is 5."]),
        });
        var greedyOnly = new EvalSettings { K = 0, Samples = 0 };
        var evaluator = new Evaluator(model, p => p.Question, greedyOnly);
        var outcomes = new List<ProblemOutcome>();
        for (int i = 0; i < problems.Length; i++) outcomes.Add(await evaluator.EvaluateAsync(problems[i], i));

        // One request per problem, at temperature 0: no samples drawn.
        Assert.Equal(2, model.Requests.Count);
        Assert.All(model.Requests, r => Assert.Equal((1, 0.0), (r.N, r.Temperature)));
        Assert.Equal([true, false], outcomes.Select(o => o.GreedyCorrect));
        Assert.All(outcomes, o => Assert.Empty(o.SampleAnswers));
        Assert.Throws<ArgumentException>(() => new EvalSettings { K = 0, Samples = 2 }.Validate());
        Assert.Throws<ArgumentException>(() => new EvalSettings { K = -1, Samples = 0 }.Validate());

        // Against a sampled evaluation of the same problems only greedy accuracy is paired.
        EvalReport Report(EvalSettings s, IReadOnlyList<ProblemOutcome> o) => new(
            new EvalRun("arith", 2, null, "m", "p", s.K, s.Samples, s.Temperature, s.TopP, s.MaxTokens, s.Seed), EvalSummary.From(o, s.K, s.Samples), o);
        var sampled = new EvalSettings { K = 1, Samples = 1 };
        var sampledOutcomes = new List<ProblemOutcome>();
        var sampledEvaluator = new Evaluator(model, p => p.Question, sampled);
        for (int i = 0; i < problems.Length; i++) sampledOutcomes.Add(await sampledEvaluator.EvaluateAsync(problems[i], i));
        var comparison = EvalComparison.Compare(Report(greedyOnly, outcomes), Report(sampled, sampledOutcomes));
        Assert.Equal(["greedy"], comparison.Metrics.Select(m => m.Name));
        Assert.Contains("greedy only", comparison.SamplingNote);
        Assert.Equal(["greedy"], EvalPlots.Bars(Report(greedyOnly, outcomes)).Select(b => b.Label));
    }

    [Fact]
    public async Task CorrectGreedySolutionsOfBuiltinTasksAreJudgedStepByStep()
    {
        var problem = Reasoner.Core.Tasks.BuiltinTasks.TestSet("arith")[0];
        var reference = string.Join("\n", problem.ReferenceSteps!);
        var guessed = "Ravi has 9 stamps and loses 3, so he has 9 - 3 = 5 stamps.\nThe answer is " + problem.Answer + ".";
        var model = new FakeLanguageModel(new() { [problem.Question] = (reference, [guessed]) });
        var outcome = await new Evaluator(model, p => p.Question, new EvalSettings { K = 1, Samples = 1 }).EvaluateAsync(problem, 0);
        Assert.True(outcome.GreedySound);
        Assert.False(Evaluator.GoldSound(problem, guessed));
        Assert.Null(Evaluator.GoldSound(problem with { Family = "gsm8k" }, reference));
    }

    [Fact]
    public async Task MoreSamplesThanKUseTheUnbiasedEstimate()
    {
        var model = new FakeLanguageModel(new()
        {
            ["question a"] = ("The answer is 1.", ["The answer is 12.", "The answer is 1.", "The answer is 2.", "The answer is 3."]),
        });
        var evaluator = new Evaluator(model, p => p.Question, new EvalSettings { K = 2, Samples = 4 });
        var outcome = await evaluator.EvaluateAsync(Arith("a", "12"), 0);
        Assert.Equal(1 - 3.0 / 6, outcome.PassAtK, 10); // 1 - C(3,2)/C(4,2)
        Assert.Equal("12", outcome.MajorityAnswer);   // votes over the first k = 2 samples: 12 and 1 tie, 12 first
    }

    /// <summary>
    /// Best-of-n: the reranker's highest-scored sample stands for the problem (the first on ties), and on a built-in task
    /// the gold-label oracle picks the first sample with every step sound.
    /// </summary>
    [Fact]
    public async Task TheVerifiersPickAndTheGoldOraclesPickAreJudgedOnTheSameSamples()
    {
        var problem = Reasoner.Core.Tasks.BuiltinTasks.TestSet("arith")[0];
        var reference = string.Join("\n", problem.ReferenceSteps!);
        var guessed = "Ravi has 9 stamps and loses 3, so he has 9 - 3 = 5 stamps.\nThe answer is " + problem.Answer + ".";
        var wrong = "The answer is " + (int.Parse(problem.Answer) + 1) + ".";
        var model = new FakeLanguageModel(new() { [problem.Question] = (wrong, [wrong, guessed, reference]) });
        IReadOnlyList<string>? seen = null;
        Evaluator Reranking(params double[] scores) => new(model, p => p.Question, new EvalSettings { K = 3, Samples = 3 })
        {
            Rerank = (_, texts, _) => { seen = texts; return Task.FromResult<IReadOnlyList<double>>(scores); },
        };

        var byVerifier = await Reranking(0.9, 0.2, 0.1).EvaluateAsync(problem, 0);
        Assert.Equal([wrong, guessed, reference], seen);
        Assert.False(byVerifier.VerifierCorrect);
        Assert.True(byVerifier.OracleCorrect); // the guessed sample is right but not sound; the reference is both
        Assert.True((await Reranking(0.1, 0.9, 0.9).EvaluateAsync(problem, 0)).VerifierCorrect); // a tie goes to the first
        Assert.Null((await new Evaluator(model, p => p.Question, new EvalSettings { K = 3, Samples = 3 }).EvaluateAsync(problem, 0)).VerifierCorrect);

        var summary = EvalSummary.From([byVerifier, byVerifier with { VerifierCorrect = true }], 3, 3);
        Assert.Equal(0.5, summary.VerifierBestOfN!.Value, 10);
        Assert.Equal(1.0, summary.OracleBestOfN!.Value, 10);
    }

    [Theory]
    [InlineData(StepAggregation.Last, 0.7310585786300049)]   // σ(1)
    [InlineData(StepAggregation.Min, 0.2689414213699951)]    // σ(−1)
    [InlineData(StepAggregation.Product, 0.5 * 0.2689414213699951 * 0.7310585786300049)]
    public void StepScoresAggregateToOneScore(StepAggregation how, double expected)
    {
        Assert.Equal(expected, BestOfN.Aggregate([0, -1, 1], how), 12);
        Assert.Equal(0, BestOfN.Aggregate([], how));
        Assert.Equal(1, BestOfN.Pick([0.1, 0.5, 0.5]));
        Assert.Equal(-1, BestOfN.Pick([]));
    }
}
