using Reasoner.Training.Onpo;
using Reasoner.Training.Preference;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class OnpoLossTests
{
    private static Tensor T(params double[] values) => tensor(values, dtype: ScalarType.Float64);

    [Fact]
    public void TheSquareLossPullsTheMarginAgainstTheAnchorToHalfEta()
    {
        // g = (−3 − −4) − (−5 − −4.5) = 1.5; η = 2: (1.5 − 1)² = 0.25. A second pair sits on the target: 0.
        var g = OnpoLoss.Margin(T(-3, -2), T(-5, -2), T(-4, -2), T(-4.5, -1));
        Assert.Equal([1.5, 1.0], g.data<double>().ToArray());
        Assert.Equal([0.25, 0.0], OnpoLoss.Square(g, eta: 2).data<double>().ToArray());
    }

    [Fact]
    public void GradientMatchesFiniteDifferences()
    {
        double[] start = [-3.0, -2.5];
        double Loss(double[] x) => OnpoLoss.Square(OnpoLoss.Margin(T(x[0]), T(x[1]), T(-3.2), T(-2.0)), 0.7).sum().item<double>();
        var w = T(start[0]).requires_grad_(true);
        var l = T(start[1]).requires_grad_(true);
        OnpoLoss.Square(OnpoLoss.Margin(w, l, T(-3.2), T(-2.0)), 0.7).sum().backward();
        double[] analytic = [w.grad!.item<double>(), l.grad!.item<double>()];
        for (int i = 0; i < 2; i++)
        {
            var plus = (double[])start.Clone(); plus[i] += 1e-6;
            var minus = (double[])start.Clone(); minus[i] -= 1e-6;
            Assert.Equal((Loss(plus) - Loss(minus)) / 2e-6, analytic[i], 6);
        }
    }

    [Fact]
    public async Task TheOutcomeOracleRanksCorrectOverWrongAndTiesTheRest()
    {
        var oracle = new OutcomeOracle();
        OracleSolution right = new("q", "a", true), wrong = new("q", "b", false), unchecked_ = new("q", "c", null);
        Assert.Equal(1.0, await oracle.PreferAsync(right, wrong));
        Assert.Equal(0.0, await oracle.PreferAsync(wrong, right));
        Assert.Equal(0.5, await oracle.PreferAsync(wrong, unchecked_));
        Assert.Equal(0.5, await oracle.PreferAsync(right, right));
    }
}

public class OnpoTrainerTests
{
    private static TokenizedPair[] Pairs(int count, int offset = 0) => Enumerable.Range(offset, count)
        .Select(i => new TokenizedPair($"p{i}", [1, 2 + i % 7, 3], [5 + i % 4, 20, 21], [5 + i % 4, 30, 31, 32], 1, 1))
        .ToArray();

    [Fact]
    public void AFitMovesTheHeldOutMarginFromZeroTowardsHalfEta()
    {
        using var model = TinyTraining.Model(seed: 5);
        var settings = new OnpoSettings { Eta = 2, LearningRate = 5e-3, Epochs = 6, Batch = 4, EvalEvery = 1000 };
        var metrics = new List<OnpoMetrics>();
        var result = new OnpoTrainer(model, TinyTraining.Pad, settings) { OnStep = (_, _, m) => metrics.Add(m) }.Train(Pairs(12), Pairs(4, offset: 100));

        // The fit starts at its anchor: g = 0 and the loss is (η/2)² = 1.
        Assert.Equal(1.0, metrics[0].Loss, 4);
        Assert.Equal(1.0, result.EvalBefore!.Loss, 4);
        Assert.True(result.EvalAfter!.Loss < 0.25, $"held-out loss {result.EvalAfter.Loss:0.000}");
        Assert.InRange(result.EvalAfter.Margin, 0.5, 1.5);
        Assert.Equal(1.0, result.EvalAfter.Accuracy);
    }

    [Fact]
    public void ASmallerEtaAsksForASmallerMove()
    {
        double Margin(double eta)
        {
            using var model = TinyTraining.Model(seed: 5);
            return new OnpoTrainer(model, TinyTraining.Pad, new OnpoSettings { Eta = eta, LearningRate = 5e-3, Epochs = 6, Batch = 4 })
                .Train(Pairs(12), Pairs(4, offset: 100)).EvalAfter!.Margin;
        }
        double small = Margin(0.5), large = Margin(4);
        Assert.True(small < large, $"margin with η 0.5: {small:0.000}, with η 4: {large:0.000}");
        Assert.InRange(small, 0, 0.5);
    }
}

public class JudgeOracleTests
{
    /// <summary>A judge whose log-probability of A is scripted per prompt, and B the complement.</summary>
    private sealed class ScriptedJudge(Func<string, double> probabilityOfA) : Reasoner.Models.Backends.ILanguageModel
    {
        public List<string> Prompts { get; } = [];

        public string ModelId => "scripted-judge";

        public Task<IReadOnlyList<Reasoner.Models.Backends.Completion>> CompleteAsync(Reasoner.Models.Backends.CompletionRequest request, CancellationToken cancel = default) =>
            throw new NotSupportedException();

        public Task<IReadOnlyList<Reasoner.Models.Backends.ScoredContinuation>> ScoreAsync(string prompt, IReadOnlyList<string> continuations, CancellationToken cancel = default)
        {
            Prompts.Add(prompt);
            double a = probabilityOfA(prompt);
            return Task.FromResult<IReadOnlyList<Reasoner.Models.Backends.ScoredContinuation>>(
                [new("A", [1], [Math.Log(a)]), new("B", [2], [Math.Log(1 - a)])]);
        }

        public void Dispose() { }
    }

    private static Reasoner.Core.Prompts.PromptTemplate Template() =>
        new Reasoner.Core.Prompts.PromptLibrary(Reasoner.Core.Prompts.PromptLibrary.FindDefaultRoot()).Get(Reasoner.Core.Prompts.PromptLibrary.JudgePair);

    [Fact]
    public async Task TheJudgesPreferenceAveragesBothOrdersSoAPositionBiasCancels()
    {
        // The judge says A 0.9 of the time when "x" is shown first and 0.7 when "y" is: it likes position A by 0.3.
        var judge = new ScriptedJudge(prompt => prompt.IndexOf("\nx\n", StringComparison.Ordinal) < prompt.IndexOf("\ny\n", StringComparison.Ordinal) ? 0.9 : 0.7);
        var oracle = new JudgeOracle(judge, Template());
        OracleSolution x = new("Q?", "x", null), y = new("Q?", "y", null);
        double xy = await oracle.PreferAsync(x, y), yx = await oracle.PreferAsync(y, x);
        Assert.Equal((0.9 + 1 - 0.7) / 2, xy, 12);
        Assert.Equal(1.0, xy + yx, 12);
        Assert.Contains("Question: Q?\nSolution A:\nx\nSolution B:\ny\n", judge.Prompts[0]);
        Assert.EndsWith("Answer: (", judge.Prompts[0]);
    }

    [Fact]
    public async Task ACyclicJudgeIsKeptCyclic()
    {
        // rock ≻ scissors ≻ paper ≻ rock: a general preference no reward can express.
        string[] order = ["rock", "scissors", "paper"];
        var judge = new ScriptedJudge(prompt =>
        {
            var shown = order.OrderBy(o => prompt.IndexOf("\n" + o + "\n", StringComparison.Ordinal) is var i && i < 0 ? int.MaxValue : i).Take(2).ToArray();
            int a = Array.IndexOf(order, shown[0]), b = Array.IndexOf(order, shown[1]);
            return (a + 1) % 3 == b ? 0.8 : 0.2;
        });
        var oracle = new JudgeOracle(judge, Template());
        OracleSolution S(string t) => new("Q?", t, null);
        Assert.True(await oracle.PreferAsync(S("rock"), S("scissors")) > 0.5);
        Assert.True(await oracle.PreferAsync(S("scissors"), S("paper")) > 0.5);
        Assert.True(await oracle.PreferAsync(S("paper"), S("rock")) > 0.5);
    }
}
