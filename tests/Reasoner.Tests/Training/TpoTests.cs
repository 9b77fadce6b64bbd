using Reasoner.Models;
using Reasoner.Tests.Models;
using Reasoner.Training;
using Reasoner.Training.Preference;
using Reasoner.Training.Tpo;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class TpoLossTests
{
    private static Tensor T(double[] values, long[] shape) => tensor(values, shape, dtype: ScalarType.Float64);

    [Fact]
    public void PaperLossMatchesTheLambdaWeightedSumWorkedOutByHand()
    {
        // v = (1, 0.5, 0); lr = (0.2, 0.1, −0.3); β = 0.5, so r = (0.1, 0.05, −0.15) and the ranks are 1, 2, 3.
        // L = −Σ_{v_i>v_j} |2^v_i − 2^v_j|·|1/ln(1+τ_i) − 1/ln(1+τ_j)|·log σ(r_i − r_j) = 0.670748 (python, plain floats).
        var lr = T([0.2, 0.1, -0.3], [3, 1]);
        var result = TpoLoss.Paper(lr, ones(3, 1, ScalarType.Bool), [1, 0.5, 0], embeddings: null, beta: 0.5, lambdaWeights: true);
        Assert.Equal(0.6707479290, result.Loss.item<double>(), 8);
        Assert.Equal([0.1, 0.05, -0.15], result.Rewards.Select(r => Math.Round(r, 10)));
    }

    [Fact]
    public void WithTwoBranchesNoLambdaAndNoStepWeightsTheLossIsDpos()
    {
        var lr = T([0.7, -0.4, 0.1, 0.2], [2, 2]); // two steps each
        var tpo = TpoLoss.Paper(lr, ones(2, 2, ScalarType.Bool), [1, 0], embeddings: null, beta: 0.3, lambdaWeights: false).Loss;
        var sums = lr.sum(1);
        var dpo = DpoLoss.Compute(DpoLossKind.Sigmoid, sums.narrow(0, 0, 1), sums.narrow(0, 1, 1), zeros(1, ScalarType.Float64), zeros(1, ScalarType.Float64), beta: 0.3);
        Assert.Equal(dpo.item<double>(), tpo.item<double>(), 12);
    }

    [Fact]
    public void TheAdaptiveStepRewardWeightsAlignedStepsByOnePlusCosineAndUnpairedStepsByOne()
    {
        // Step 0 embeddings are parallel (w = 2), step 1 orthogonal (w = 1); branch 1 has no step 2, so branch 0's step 2 has weight 1.
        var lr = T([0.3, -0.2, 0.5, 0.1, 0.4, 0.0], [2, 3]);
        var mask = tensor(new[] { true, true, true, true, true, false }, [2, 3]);
        var e = T([1, 0, 1, 0, 2, 2, 3, 0, 0, 5, 9, 9], [2, 3, 2]);
        double beta = 0.5, rm = beta * (2 * (0.3 - 0.1) + 1 * (-0.2 - 0.4) + 1 * 0.5);
        var loss = TpoLoss.Paper(lr, mask, [1, 0], e, beta, lambdaWeights: false).Loss.item<double>();
        Assert.Equal(Math.Log(1 + Math.Exp(-rm)), loss, 10);
    }

    [Fact]
    public void TiesGiveNoPairAndAListOfEqualValuesNoLoss()
    {
        var lr = T([0.2, 0.1, -0.3], [3, 1]);
        Assert.Equal(0.0, TpoLoss.Paper(lr, ones(3, 1, ScalarType.Bool), [0.5, 0.5, 0.5], null, 0.5, true).Loss.item<double>());
    }

    [Fact]
    public void CodeVariantIsThePlainPairwiseLossOverAllOrderedPairsOfStepMeans()
    {
        // One step each with 2, 4 and 1 tokens: p = β·lr/tokens; mean over the 6 ordered pairs of −log σ((p_i − p_j)·sign(v_i − v_j)) = 0.629302.
        var lr = T([0.2, 0.1, -0.3], [3, 1]);
        var tokens = T([2, 4, 1], [3, 1]);
        Assert.Equal(0.6293020525, TpoLoss.Code(lr, tokens, [1, 0.5, 0], null, 0.5).Loss.item<double>(), 8);
    }

    [Fact]
    public void CodeVariantWeightsEachStepAgainstTheFirstBranch()
    {
        // Branch 1's step 0 is parallel to branch 0's (w = 2), its step 1 orthogonal (w = 1): p_1 = β(2·m0 + m1)/3.
        var lr = T([0.4, 0.2, 0.6, -0.3], [2, 2]);
        var tokens = T([2, 2, 3, 1], [2, 2]);
        var e = T([1, 0, 0, 1, 2, 0, 1, 0], [2, 2, 2]);
        double beta = 0.5;
        double p0 = beta * (2 * 0.2 + 2 * 0.1) / 4, p1 = beta * (2 * 0.2 + 1 * -0.3) / 3;
        var result = TpoLoss.Code(lr, tokens, [1, 0], e, beta);
        Assert.Equal(p0, result.Rewards[0], 10);
        Assert.Equal(p1, result.Rewards[1], 10);
        Assert.Equal(Math.Log(1 + Math.Exp(-(p0 - p1))), result.Loss.item<double>(), 10);
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public void PaperGradientMatchesFiniteDifferences(bool lambda, bool stepWeights)
    {
        var generator = new Random(5);
        double[] start = [.. Enumerable.Range(0, 8).Select(_ => generator.NextDouble() - 0.5)];
        var mask = tensor(new[] { true, true, true, false, true, true, true, true }, [4, 2]);
        var e = T([.. Enumerable.Range(0, 24).Select(_ => generator.NextDouble() - 0.5)], [4, 2, 3]);
        double[] values = [1, 0.25, 0.5, 0];
        double Loss(double[] x) => TpoLoss.Paper(T(x, [4, 2]) * mask, mask, values, stepWeights ? e : null, 0.7, lambda).Loss.item<double>();
        var lr = T(start, [4, 2]).requires_grad_(true);
        TpoLoss.Paper(lr * mask, mask, values, stepWeights ? e : null, 0.7, lambda).Loss.backward();
        var analytic = lr.grad!.data<double>().ToArray();
        for (int i = 0; i < start.Length; i++)
        {
            double h = 1e-6;
            var plus = (double[])start.Clone(); plus[i] += h;
            var minus = (double[])start.Clone(); minus[i] -= h;
            Assert.Equal((Loss(plus) - Loss(minus)) / (2 * h), analytic[i], 6);
        }
    }

    [Fact]
    public void CodeGradientMatchesFiniteDifferences()
    {
        var generator = new Random(8);
        double[] start = [.. Enumerable.Range(0, 6).Select(_ => generator.NextDouble() - 0.5)];
        var tokens = T([3, 2, 1, 4, 2, 0], [3, 2]);
        var e = T([.. Enumerable.Range(0, 18).Select(_ => generator.NextDouble() - 0.5)], [3, 2, 3]);
        double[] values = [1, 0, 0.5];
        var keep = (tokens > 0).to(ScalarType.Float64);
        double Loss(double[] x) => TpoLoss.Code(T(x, [3, 2]) * keep, tokens, values, e, 0.5).Loss.item<double>();
        var lr = T(start, [3, 2]).requires_grad_(true);
        TpoLoss.Code(lr * keep, tokens, values, e, 0.5).Loss.backward();
        var analytic = lr.grad!.data<double>().ToArray();
        for (int i = 0; i < start.Length; i++)
        {
            double h = 1e-6;
            var plus = (double[])start.Clone(); plus[i] += h;
            var minus = (double[])start.Clone(); minus[i] -= h;
            Assert.Equal((Loss(plus) - Loss(minus)) / (2 * h), analytic[i], 6);
        }
    }

    [Fact]
    public void RanksAreOneBasedByDescendingRewardWithTiesInListOrder() =>
        Assert.Equal([2, 1, 3, 4], TpoLoss.Ranks([0.5, 0.9, 0.5, -1]));
}

public class TpoTrainerTests
{
    /// <summary>Lists of three branches after a shared prompt; the best ends 20 21, the middle 30 31, the worst 40 41 42.</summary>
    private static TokenizedList[] Lists(int count, int offset = 0) => Enumerable.Range(offset, count)
        .Select(i => new TokenizedList($"p{i}", [1, 2 + i % 7, 3],
        [
            new TokenizedBranch([5 + i % 4, 6, 20, 21], [2, 2], 1.0),
            new TokenizedBranch([5 + i % 4, 30, 31], [1, 2], 0.5),
            new TokenizedBranch([5 + i % 4, 6, 40, 41, 42], [2, 3], 0.0),
        ]))
        .ToArray();

    [Theory]
    [InlineData(TpoVariant.Paper)]
    [InlineData(TpoVariant.Code)]
    public void TpoLearnsTheListOrderAndItGeneralisesToHeldOutLists(TpoVariant variant)
    {
        using var model = TinyTraining.Model(seed: 5);
        var settings = new TpoSettings { Variant = variant, NllWeight = 0, LearningRate = 5e-3, Epochs = 6, Batch = 4, EvalEvery = 1000 };
        var metrics = new List<TpoMetrics>();
        var result = new TpoTrainer(model, TinyTraining.Pad, settings) { OnStep = (_, _, m) => metrics.Add(m) }.Train(Lists(12), Lists(4, offset: 100));

        Assert.Equal(18, result.Steps); // 3 batches of 4 lists, 6 epochs
        Assert.Equal(0.0, metrics[0].TopAccuracy); // every reward is 0 at the start: no branch is on top
        Assert.True(metrics[^1].Loss < 0.75 * metrics[0].Loss, $"training loss {metrics[0].Loss:0.000} → {metrics[^1].Loss:0.000}");
        Assert.Equal(1.0, result.EvalAfter!.PairAccuracy);
        Assert.Equal(1.0, result.EvalAfter.TopAccuracy);
        Assert.True(result.EvalAfter.BestReward > result.EvalAfter.WorstReward);
    }

    [Fact]
    public void AStoppedRunResumedFromItsCheckpointEndsWithTheWeightsOfAnUninterruptedOne()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var initial = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize), seed: 9);
        CausalLanguageModel Copy() => TinyTraining.CopyOf(initial);
        var settings = new TpoSettings { LearningRate = 1e-2, Epochs = 2, Batch = 2, SaveEvery = 2 };
        var lists = Lists(6);

        using var straight = Copy();
        new TpoTrainer(straight, TinyTraining.Pad, settings).Train(lists, []);

        using var dir = new TestData.TempDirectory();
        using var cancel = new CancellationTokenSource();
        using var stopped = Copy();
        var first = new TpoTrainer(stopped, TinyTraining.Pad, settings)
        {
            OnStep = (step, _, _) => { if (step.Step == 3) cancel.Cancel(); },
            SaveCheckpoint = (t, p) => TrainingCheckpoint.Save(dir.Path, t, tokenizer, p),
        }.Train(lists, [], cancel: cancel.Token);
        Assert.Equal(3, first.Steps);

        using var resumed = Copy();
        var second = new TpoTrainer(resumed, TinyTraining.Pad, settings) { RestoreCheckpoint = t => TrainingCheckpoint.Restore(dir.Path, t) }.Train(lists, []);
        Assert.Equal(6, second.Steps);
        foreach (var (x, y) in straight.parameters().Zip(resumed.parameters()))
            Assert.True(x.allclose(y, rtol: 1e-4, atol: 1e-6), "resumed weights differ from the uninterrupted run's");
    }

    [Fact]
    public void StepSumsOfTheBatchAddUpToTheSequenceLogProbabilities()
    {
        // The step masks cut each branch into its steps: their log-probability sums add up to the branch's.
        using var model = TinyTraining.Model(seed: 5);
        var lists = Lists(2);
        var objective = new TpoObjective(model, TinyTraining.Pad, new TpoSettings());
        using var noGrad = no_grad();
        using var batch = objective.Collate(lists, new double[2][][], CPU);
        var steps = objective.Reference(batch);
        using var whole = SequenceLogProbs.Compute(model, batch.Tokens);
        var sums = whole.SequenceSums().data<float>().ToArray();
        int row = 0;
        foreach (var list in steps)
            foreach (var branch in list)
                Assert.Equal(sums[row++], branch.Sum(), 4);
    }
}
