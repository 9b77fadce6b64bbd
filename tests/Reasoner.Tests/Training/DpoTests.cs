using Reasoner.Models;
using Reasoner.Tests.Models;
using Reasoner.Training;
using Reasoner.Training.Preference;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class DpoLossTests
{
    private static Tensor T(params double[] values) => tensor(values.Select(v => (float)v).ToArray());

    private static double[] Values(Tensor t) => t.to(ScalarType.Float64).data<double>().ToArray();

    [Fact]
    public void SigmoidLossIsMinusLogSigmoidOfBetaTimesTheLogRatioDifference()
    {
        // h = (−3 − −4) − (−5 − −4) = 2; β = 0.5 → −log σ(1) = log(1 + e^−1).
        var loss = DpoLoss.Compute(DpoLossKind.Sigmoid, T(-3, -4), T(-5, -4), T(-4, -4), T(-4, -4), beta: 0.5);
        var values = Values(loss);
        Assert.Equal(Math.Log(1 + Math.Exp(-1)), values[0], 5);
        Assert.Equal(Math.Log(2), values[1], 5); // policy equals reference: h = 0
    }

    [Fact]
    public void ConservativeLossMixesBothDirectionsByEpsilon()
    {
        double h = 2, beta = 0.5, eps = 0.25;
        var loss = DpoLoss.Compute(DpoLossKind.Conservative, T(-3), T(-5), T(-4), T(-4), beta, T(eps));
        double expected = -(1 - eps) * Math.Log(1 / (1 + Math.Exp(-beta * h))) - eps * Math.Log(1 / (1 + Math.Exp(beta * h)));
        Assert.Equal(expected, Values(loss)[0], 5);
    }

    [Fact]
    public void ConservativeLossWithEpsilonOneHalfHasNoGradient()
    {
        // ε = 0.5 says the pair carries no preference: the loss is symmetric in h and flat at h = 0.
        var chosen = T(-4).requires_grad_();
        var loss = DpoLoss.Compute(DpoLossKind.Conservative, chosen, T(-4), T(-4), T(-4), 0.1, T(0.5));
        loss.sum().backward();
        Assert.Equal(0, chosen.grad!.item<float>(), 6);
    }

    [Fact]
    public void IpoLossIsTheSquaredDistanceToOneOverTwoBeta()
    {
        var loss = DpoLoss.Compute(DpoLossKind.Ipo, T(-1), T(-2), T(-1.5), T(-1.5), beta: 0.25);
        Assert.Equal(Math.Pow(1 - 2, 2), Values(loss)[0], 5);
    }

    [Theory]
    [InlineData(10, 0, 0.0)]
    [InlineData(10, 10, 0.5)]
    [InlineData(9, 3, 0.25)]
    [InlineData(0, 1, 0.5)]
    [InlineData(4, 2, 1.0 / 3)]
    public void VisitSmoothingFollowsMctsDpo(int chosenVisits, int rejectedVisits, double expected) =>
        Assert.Equal(expected, DpoLoss.VisitSmoothing(chosenVisits, rejectedVisits), 10);

    [Fact]
    public void BadBetaIsRefused() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => DpoLoss.Compute(DpoLossKind.Sigmoid, T(0), T(0), T(0), T(0), beta: 0));
}

public class StepDpoTrainerTests
{
    /// <summary>Pairs whose sides differ in their last two tokens; the chosen side always ends 20 21, the rejected 30 31.</summary>
    private static TokenizedPair[] Pairs(int count, int offset = 0) => Enumerable.Range(offset, count)
        .Select(i => new TokenizedPair($"p{i}", [1, 2 + i % 7, 3], [5 + i % 4, 20, 21], [5 + i % 4, 30, 31, 32], ChosenVisits: 4, RejectedVisits: 1))
        .ToArray();

    [Fact]
    public void DpoRaisesTheChosenSidesLogRatioAndGeneralisesToHeldOutPairs()
    {
        torch.manual_seed(3);
        using var model = TinyTraining.Model(seed: 5);
        var settings = new DpoSettings { Loss = DpoLossKind.Sigmoid, NllWeight = 0, Beta = 0.5, LearningRate = 5e-3, Epochs = 6, Batch = 4, EvalEvery = 1000 };
        var metrics = new List<DpoMetrics>();
        var trainer = new StepDpoTrainer(model, TinyTraining.Pad, settings) { OnStep = (_, _, m) => metrics.Add(m) };

        var result = trainer.Train(Pairs(12), Pairs(4, offset: 100));

        Assert.Equal(18, result.Steps); // 3 batches of 4 pairs, 6 epochs
        // The policy starts as its own reference: h = 0 and the loss is log 2 on the first step.
        Assert.Equal(Math.Log(2), metrics[0].Loss, 3);
        Assert.True(metrics[^1].Loss < 0.3, $"final training loss {metrics[^1].Loss:0.000}");
        Assert.Equal(1.0, metrics[^1].RewardAccuracy);
        Assert.Equal(Math.Log(2), result.EvalBefore!.Loss, 3);
        Assert.True(result.EvalAfter!.RewardAccuracy == 1.0, $"held-out reward accuracy {result.EvalAfter.RewardAccuracy:P0}");
        Assert.True(result.EvalAfter.RewardMargin > 1.0, $"held-out margin {result.EvalAfter.RewardMargin:0.000}");
        Assert.True(result.EvalAfter.RejectedReward < 0, "the rejected side's log-ratio falls");
    }

    [Fact]
    public void ConservativeLossWithEqualVisitsLeavesThePolicyAlone()
    {
        // Equal visits give ε = 0.5: no preference, no gradient, so the weights do not move (no weight decay).
        using var model = TinyTraining.Model(seed: 5);
        var before = model.parameters().Select(p => p.detach().clone()).ToList();
        var pairs = Pairs(4).Select(p => p with { ChosenVisits = 3, RejectedVisits = 3 }).ToArray();
        new StepDpoTrainer(model, TinyTraining.Pad, new DpoSettings { NllWeight = 0, LearningRate = 1e-2, Epochs = 2, Batch = 2 }).Train(pairs, []);
        foreach (var (a, b) in model.parameters().Zip(before)) Assert.True(a.allclose(b, rtol: 0, atol: 1e-7));
    }

    [Fact]
    public void TheNllTermAddsTheChosenSidesPerTokenNegativeLogLikelihoodAndRaisesItsProbability()
    {
        using var model = TinyTraining.Model(seed: 5);
        var pairs = Pairs(4);
        double nll;
        using (torch.no_grad())
        {
            // Mean over pairs of −log π(chosen)/|chosen| under the starting model.
            nll = pairs.Average(p =>
            {
                using var batch = Reasoner.Training.Batching.TokenBatch.Collate([p.ChosenSequence], TinyTraining.Pad);
                using var lp = SequenceLogProbs.Compute(model, batch);
                return -lp.SequenceSums().item<float>() / p.Chosen.Length;
            });
        }
        var metrics = new List<DpoMetrics>();
        var result = new StepDpoTrainer(model, TinyTraining.Pad,
            new DpoSettings { Loss = DpoLossKind.Sigmoid, NllWeight = 1, LearningRate = 5e-3, Epochs = 8, Batch = 4 }) { OnStep = (_, _, m) => metrics.Add(m) }
            .Train(pairs, []);
        Assert.Equal(Math.Log(2) + nll, metrics[0].Loss, 3);
        Assert.True(metrics[^1].ChosenReward > 0, $"the chosen side's log-ratio rises with the NLL term: {metrics[^1].ChosenReward:0.000}");
        Assert.True(metrics[^1].RewardAccuracy == 1.0);
    }

    [Fact]
    public void TheLogRecordsStepsAndHeldOutMeasurements()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyTraining.Model(seed: 5);
        using (var log = new TrainingLog(dir.Path))
            new StepDpoTrainer(model, TinyTraining.Pad, new DpoSettings { Epochs = 1, Batch = 2, EvalEvery = 2 }).Train(Pairs(8), Pairs(2, 50), log);
        var lines = TrainingLog.Read(Path.Combine(dir.Path, TrainingLog.FileName));
        Assert.Equal(4, lines.Count(l => l.ContainsKey("loss")));
        Assert.Equal([0, 2, 4], lines.Where(l => l.ContainsKey("eval/loss")).Select(l => (int)l["step"]!));
        Assert.All(lines.Where(l => l.ContainsKey("loss")), l => Assert.InRange((double)l["rewards/accuracy"]!, 0, 1));
    }

    [Fact]
    public void AStoppedRunResumedFromItsCheckpointEndsWithTheWeightsOfAnUninterruptedOne()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var initial = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize), seed: 9);
        CausalLanguageModel Copy() => TinyTraining.CopyOf(initial);
        var settings = new DpoSettings { LearningRate = 1e-2, Epochs = 2, Batch = 2, SaveEvery = 2 };
        var pairs = Pairs(6);

        using var straight = Copy();
        new StepDpoTrainer(straight, TinyTraining.Pad, settings).Train(pairs, []);

        using var dir = new TestData.TempDirectory();
        using var cancel = new CancellationTokenSource();
        using var stopped = Copy();
        var saves = new List<int>();
        var first = new StepDpoTrainer(stopped, TinyTraining.Pad, settings)
        {
            OnStep = (step, _, _) => { if (step.Step == 3) cancel.Cancel(); },
            SaveCheckpoint = (t, p) => { TrainingCheckpoint.Save(dir.Path, t, tokenizer, p); saves.Add(p.Step); },
        }.Train(pairs, [], cancel: cancel.Token);
        Assert.Equal(3, first.Steps);
        Assert.Equal([2, 3], saves); // every 2 steps, and where it stopped

        using var resumed = Copy();
        var second = new StepDpoTrainer(resumed, TinyTraining.Pad, settings) { RestoreCheckpoint = t => TrainingCheckpoint.Restore(dir.Path, t) }.Train(pairs, []);
        Assert.Equal(6, second.Steps);
        foreach (var (x, y) in straight.parameters().Zip(resumed.parameters()))
            Assert.True(x.allclose(y, rtol: 1e-4, atol: 1e-6), "resumed weights differ from the uninterrupted run's");

        // Other settings make other batches: resuming them from this checkpoint is refused.
        using var other = Copy();
        Assert.Throws<ArgumentException>(() => new StepDpoTrainer(other, TinyTraining.Pad, settings with { Epochs = 3 })
            { RestoreCheckpoint = t => TrainingCheckpoint.Restore(dir.Path, t) }.Train(pairs, []));
    }

    [Fact]
    public void BadSettingsAreRefused()
    {
        using var model = TinyTraining.Model();
        Assert.Throws<ArgumentException>(() => new StepDpoTrainer(model, 0, new DpoSettings { Beta = -1 }).Train(Pairs(2), []));
        Assert.Throws<ArgumentException>(() => new StepDpoTrainer(model, 0, new DpoSettings()).Train([], []));
    }
}
