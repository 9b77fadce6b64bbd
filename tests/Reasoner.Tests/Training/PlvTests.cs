using Reasoner.Models;
using Reasoner.Training.Plv;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class PlvLossTests
{
    private static Tensor T(double[,] values) => tensor(values, dtype: ScalarType.Float64);

    [Fact]
    public void TheLossSumsMinusLogSigmoidOfTheStepMarginsOverComparedStepsAndAveragesOverPairs()
    {
        // Pair 1 compares two steps (margins 1 and −1), pair 2 one step (margin 2; its second step is masked out).
        var loss = PlvLoss.Ranking(T(new double[,] { { 1, 2 }, { 2, 9 } }), T(new double[,] { { 0, 3 }, { 0, -9 } }), T(new double[,] { { 1, 1 }, { 1, 0 } }));
        static double Softplus(double x) => Math.Log(1 + Math.Exp(x));
        double expected = ((Softplus(-1) + Softplus(1)) + Softplus(-2)) / 2;
        Assert.Equal(expected, loss.item<double>(), 10);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        double[] start = [0.3, -0.2, 1.1, 0.4];
        var rejected = T(new double[,] { { 0.1, 0.5 }, { -0.3, 0.2 } });
        var mask = T(new double[,] { { 1, 1 }, { 1, 0 } });
        double Loss(double[] c) => PlvLoss.Ranking(tensor(c, [2, 2], dtype: ScalarType.Float64), rejected, mask).item<double>();
        var chosen = tensor(start, [2, 2], dtype: ScalarType.Float64).requires_grad_(true);
        PlvLoss.Ranking(chosen, rejected, mask).backward();
        var analytic = chosen.grad!.data<double>().ToArray();
        for (int i = 0; i < start.Length; i++)
        {
            var plus = (double[])start.Clone(); plus[i] += 1e-6;
            var minus = (double[])start.Clone(); minus[i] -= 1e-6;
            Assert.Equal((Loss(plus) - Loss(minus)) / 2e-6, analytic[i], 6);
        }
        Assert.Equal(0.0, analytic[3]); // a masked-out step gets no gradient
    }

    [Fact]
    public void MismatchedShapesAreRefused() =>
        Assert.Throws<ArgumentException>(() => PlvLoss.Ranking(zeros(2, 2), zeros(2, 3), zeros(2, 2)));
}

public class PlvTrainerTests
{
    /// <summary>
    /// Pairs after a shared prompt: the preferred side's steps contain token 20, the other side's token 30, and sides
    /// have different step counts, so the compared steps stop at the shorter one.
    /// </summary>
    private static PlvPair[] Pairs(int count, int offset = 0) => Enumerable.Range(offset, count)
        .Select(i => new PlvPair($"p{i}", [1, 2 + i % 7, 3],
            [[5 + i % 4, 20, 6], [7, 20 + (i % 2), 6], [8, 9, 6]],
            [[5 + i % 4, 30, 6], [7, 30, 6]]))
        .ToArray();

    [Fact]
    public void TheVerifierLearnsToScoreThePreferredStepsHigherOnHeldOutPairs()
    {
        using var policy = TinyTraining.Model(seed: 5);
        using var scorer = CausalLanguageModel.ScorerFrom(policy);
        var settings = new PlvSettings { LearningRate = 3e-3, Epochs = 6, Batch = 4, EvalEvery = 1000 };
        var metrics = new List<PlvMetrics>();
        var result = new PlvTrainer(scorer, TinyTraining.Pad, settings) { OnStep = (_, _, m) => metrics.Add(m) }.Train(Pairs(12), Pairs(4, offset: 100));

        Assert.Equal(18, result.Steps);
        Assert.True(metrics[^1].Loss < metrics[0].Loss, $"loss {metrics[0].Loss:0.000} → {metrics[^1].Loss:0.000}");
        Assert.Equal(1.0, result.EvalAfter!.StepAccuracy);
        Assert.Equal(1.0, result.EvalAfter.DivergenceAccuracy);
        Assert.True(result.EvalAfter.Margin > result.EvalBefore!.Margin);
    }

    [Fact]
    public void OnlyComparedStepsAreReadAndEachSidesScoreComesFromItsOwnRow()
    {
        var pairs = Pairs(2);
        using var batch = PlvBatch.Collate(pairs, TinyTraining.Pad, CPU);
        Assert.Equal([4L, 9L], batch.InputIds.shape); // 2 pairs × 2 sides; prompt 3 + two compared steps of 3
        Assert.Equal(new float[] { 1, 1, 1, 1 }, batch.StepMask.data<float>().ToArray());
        // Row 0 (pair 0, preferred): steps end at tokens 5 and 8; row 1 (pair 0, other) at 9 + 5 and 9 + 8.
        Assert.Equal(new long[] { 5, 8, 23, 26 }, batch.ChosenEnds.data<long>().ToArray());
        Assert.Equal(new long[] { 14, 17, 32, 35 }, batch.RejectedEnds.data<long>().ToArray());
    }
}

public class PlvStepwiseReaderTests
{
    [Fact]
    public void LinesOfOnePromptThatPartAtAStepLabelledDifferentlyArePairs()
    {
        using var dir = new Reasoner.Tests.Models.TestData.TempDirectory();
        var path = Path.Combine(dir.Path, "stepwise.jsonl");
        File.WriteAllLines(path,
        [
            """{"prompt": "Q: 2 + 3 * 4?\n", "completions": ["3 * 4 = 12.", "2 + 12 = 14.", "The answer is 14."], "labels": [true, true, true]}""",
            """{"prompt": "Q: 2 + 3 * 4?\n", "completions": ["3 * 4 = 12.", "2 + 12 = 15.", "The answer is 15."], "labels": [true, false, false]}""",
            """{"prompt": "Q: 2 + 3 * 4?\n", "completions": ["2 + 3 = 5."], "labels": [false]}""",
            "",
            """{"prompt": "Q: 1 + 1?\n", "completions": ["1 + 1 = 2."], "labels": [true]}""",
        ]);
        var tokenizer = Reasoner.Tests.Models.TinyModels.ArithmeticTokenizer;
        var set = PlvStepwiseReader.Read(path, tokenizer, maxLength: 4096);
        Assert.Equal(4, set.Trees);
        Assert.Equal(3, set.Pairs.Count); // lines 1–2 part at step 2; line 3 parts from both at step 1 with a bad label
        var atTwo = Assert.Single(set.Pairs, p => p.Chosen.Count == 2);
        Assert.Equal(tokenizer.Encode("Q: 2 + 3 * 4?\n3 * 4 = 12.\n"), atTwo.Prompt);
        Assert.Equal(tokenizer.Encode("2 + 12 = 14.\n"), atTwo.Chosen[0]);
        Assert.Equal(tokenizer.Encode("2 + 12 = 15.\n"), atTwo.Rejected[0]);
        Assert.Equal(2, set.Pairs.Count(p => p.Rejected.Count == 1 && p.Compared == 1));
        Assert.Single(set.Pairs.Select(p => p.ProblemId).Distinct());
    }

    [Theory]
    [InlineData("""{"prompt": "Q", "completions": ["a", "b"], "labels": [true]}""", "2 completions but 1 labels")]
    [InlineData("""{"prompt": "Q", "completions": "a", "labels": [true]}""", "'completions' must be an array")]
    [InlineData("""{"prompt": "Q", "completions": ["a"], "labels": ["yes"]}""", "'labels' must be an array of booleans")]
    [InlineData("not json", "not JSON")]
    public void BadLinesNameTheFileAndLine(string line, string message)
    {
        using var dir = new Reasoner.Tests.Models.TestData.TempDirectory();
        var path = Path.Combine(dir.Path, "bad.jsonl");
        File.WriteAllLines(path, ["""{"prompt": "Q", "completions": ["a"], "labels": [true]}""", line]);
        var error = Assert.Throws<Reasoner.Core.Datasets.DatasetFormatException>(() => PlvStepwiseReader.Read(path, Reasoner.Tests.Models.TinyModels.ArithmeticTokenizer, 4096));
        Assert.Contains($"{path}:2:", error.Message);
        Assert.Contains(message, error.Message);
    }
}
