using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Tests.Models;
using Reasoner.Training;
using Reasoner.Training.Trpa;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class TrpaLossTests
{
    private static Tensor T(params double[] values) => tensor(values, dtype: ScalarType.Float64);

    [Fact]
    public void CrossLevelPairsWithALevelOneWinnerAreScaledByTheAnisotropy()
    {
        // r = (0.2, −0.1, 0.05), levels (1, 2, 2): pairs (0,1) and (0,2), h = 2.5·0.1·Δr; −mean log σ(h) = 0.665462 (python).
        Assert.Equal(0.6654615462, TrpaLoss.Preference(T(0.2, -0.1, 0.05), [1, 2, 2], beta: 0.1, anisotropy: 2.5).item<double>(), 9);
    }

    [Fact]
    public void PairsBetweenLowerLevelsUseBetaAlone()
    {
        // Levels (2, 3, 4): all three pairs, h = 0.1·Δr; 0.688203 (python).
        Assert.Equal(0.6882034290, TrpaLoss.Preference(T(0.2, -0.1, 0.05), [2, 3, 4], beta: 0.1, anisotropy: 2.5).item<double>(), 9);
    }

    [Fact]
    public void AGroupWithoutACrossLevelPairFallsBackToTheSignedLogRatioWithoutBeta()
    {
        // Levels (2, 2): −mean log σ(−r) = 0.721268; all level 1: −mean log σ(r).
        Assert.Equal(0.7212677647, TrpaLoss.Preference(T(0.2, -0.1), [2, 2], beta: 0.1, anisotropy: 2.5).item<double>(), 9);
        Assert.Equal((Math.Log(1 + Math.Exp(-0.2)) + Math.Log(1 + Math.Exp(0.1))) / 2, TrpaLoss.Preference(T(0.2, -0.1), [1, 1], 0.1, 2.5).item<double>(), 9);
    }

    [Fact]
    public void TheTrustRegionIsTheMaskedMeanK3KlClampedAtTen()
    {
        // old − new = (−0.5, 1): (e^−0.5 + 0.5 − 1 + e − 2)/2 = 0.412406; the masked third token is left out.
        var policy = tensor(new[] { -1.0, -2.0, -9.0 }, [1, 3], dtype: ScalarType.Float64);
        var old = tensor(new[] { -1.5, -1.0, 0.0 }, [1, 3], dtype: ScalarType.Float64);
        var mask = tensor(new[] { 1.0, 1.0, 0.0 }, [1, 3], dtype: ScalarType.Float64);
        Assert.Equal(0.4124062441, TrpaLoss.TrustRegionKl(policy, old, mask).item<double>(), 9);
        // A token 50 nats less likely than the sampler had it costs 10, not e^50.
        Assert.Equal(10.0, TrpaLoss.TrustRegionKl(tensor(new[] { -60.0 }, [1, 1], dtype: ScalarType.Float64), tensor(new[] { -10.0 }, [1, 1], dtype: ScalarType.Float64), tensor(new[] { 1.0 }, [1, 1], dtype: ScalarType.Float64)).item<double>(), 9);
    }

    [Fact]
    public void GradientsMatchFiniteDifferences()
    {
        double[] start = [0.3, -0.2, 0.1, 0.05];
        int[] levels = [1, 2, 3, 2];
        var old = tensor(new[] { -1.0, -0.5, -2.0, -0.7 }, [2, 2], dtype: ScalarType.Float64);
        var mask = tensor(new[] { 1.0, 1.0, 1.0, 0.0 }, [2, 2], dtype: ScalarType.Float64);
        double Loss(double[] x)
        {
            var t = T(x);
            return (TrpaLoss.Preference(t, levels, 0.1, 2.5) + 0.5 * TrpaLoss.TrustRegionKl(t.reshape(2, 2), old, mask)).item<double>();
        }
        var r = T(start).requires_grad_(true);
        (TrpaLoss.Preference(r, levels, 0.1, 2.5) + 0.5 * TrpaLoss.TrustRegionKl(r.reshape(2, 2), old, mask)).backward();
        var analytic = r.grad!.data<double>().ToArray();
        for (int i = 0; i < start.Length; i++)
        {
            var plus = (double[])start.Clone(); plus[i] += 1e-6;
            var minus = (double[])start.Clone(); minus[i] -= 1e-6;
            Assert.Equal((Loss(plus) - Loss(minus)) / 2e-6, analytic[i], 6);
        }
    }
}

public class TrpaTrainerTests
{
    /// <summary>Groups of four solutions: the correct one ends 20 21, wrong ones 30 31 and 40 41, the cut-off one 45.</summary>
    private static SolutionGroup[] Groups(int count, int offset = 0) => Enumerable.Range(offset, count)
        .Select(i => new SolutionGroup($"p{i}", [1, 2 + i % 7, 3],
        [
            new LeveledSolution([5 + i % 4, 20, 21], 1),
            new LeveledSolution([5 + i % 4, 30, 31], 2),
            new LeveledSolution([5 + i % 4, 6, 40, 41], 2),
            new LeveledSolution([5 + i % 4, 45], 4),
        ]))
        .ToArray();

    [Fact]
    public void TrpaRaisesTheCorrectSolutionsOverTheOthersOnHeldOutGroupsWhileTheKlStaysSmall()
    {
        using var model = TinyTraining.Model(seed: 5);
        var settings = new TrpaSettings { Beta = 1, LearningRate = 5e-3, Epochs = 6, Batch = 4, EvalEvery = 1000 };
        var metrics = new List<TrpaMetrics>();
        var result = new TrpaTrainer(model, TinyTraining.Pad, settings) { OnStep = (_, _, m) => metrics.Add(m) }.Train(Groups(12), Groups(4, offset: 100));

        Assert.Equal(18, result.Steps);
        Assert.Equal(Math.Log(2), metrics[0].Loss, 3); // the policy is its own reference and sampler at the start: h = 0, KL = 0
        Assert.Equal(0.0, metrics[0].TrustRegionKl, 6);
        Assert.True(metrics[^1].PreferenceLoss < metrics[0].PreferenceLoss, $"preference loss {metrics[0].PreferenceLoss:0.000} → {metrics[^1].PreferenceLoss:0.000}");
        Assert.Equal(1.0, result.EvalAfter!.PairAccuracy);
        Assert.True(result.EvalAfter.BestLogRatio > result.EvalAfter.OtherLogRatio);
        Assert.True(result.EvalAfter.TrustRegionKl > 0);
    }

    [Fact]
    public void AStoppedRunResumedFromItsCheckpointEndsWithTheWeightsOfAnUninterruptedOne()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var initial = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize), seed: 9);
        CausalLanguageModel Copy() => TinyTraining.CopyOf(initial);
        var settings = new TrpaSettings { LearningRate = 1e-2, Epochs = 2, Batch = 2, SaveEvery = 2 };
        var groups = Groups(6);
        using var straight = Copy();
        new TrpaTrainer(straight, TinyTraining.Pad, settings).Train(groups, []);

        using var dir = new TestData.TempDirectory();
        using var cancel = new CancellationTokenSource();
        using var stopped = Copy();
        new TrpaTrainer(stopped, TinyTraining.Pad, settings)
        {
            OnStep = (step, _, _) => { if (step.Step == 3) cancel.Cancel(); },
            SaveCheckpoint = (t, p) => TrainingCheckpoint.Save(dir.Path, t, tokenizer, p),
        }.Train(groups, [], cancel: cancel.Token);
        using var resumed = Copy();
        Assert.Equal(6, new TrpaTrainer(resumed, TinyTraining.Pad, settings) { RestoreCheckpoint = t => TrainingCheckpoint.Restore(dir.Path, t) }.Train(groups, []).Steps);
        foreach (var (x, y) in straight.parameters().Zip(resumed.parameters()))
            Assert.True(x.allclose(y, rtol: 1e-4, atol: 1e-6), "resumed weights differ from the uninterrupted run's");
    }

    /// <summary>
    /// Fresh examples each epoch: epoch e's are asked for once, after epoch e−1's steps; the trust region then measures
    /// against the log-probabilities the sampler recorded, not the reference's; and a stopped run resumed from its
    /// checkpoint is not asked again for an epoch it finished, and ends with the uninterrupted run's weights.
    /// </summary>
    [Fact]
    public void EpochExamplesAreAskedForOncePerLaterEpochAfterThePreviousStepsAndAResumeSkipsFinishedEpochs()
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        using var initial = TinyModels.Create(TinyModels.Config(vocabSize: tokenizer.VocabSize), seed: 9);
        var settings = new TrpaSettings { LearningRate = 1e-2, Epochs = 3, Batch = 2, SaveEvery = 2 };
        // Epoch e's solutions carry a recorded sampling log-probability of −(e+1) per token.
        SolutionGroup[] Epoch(int e) => Groups(4, offset: 10 * e).Select(g => g with
        {
            Solutions = g.Solutions.Select(s => s with { SamplingLogProbs = Enumerable.Repeat(-(e + 1f), s.Tokens.Length).ToArray() }).ToArray(),
        }).ToArray();

        using var straight = TinyTraining.CopyOf(initial);
        using var frozen = TinyTraining.CopyOf(initial);
        var asked = new List<(int Epoch, int AfterStep)>();
        var metrics = new List<TrpaMetrics>();
        int lastStep = 0;
        var result = new TrpaTrainer(straight, TinyTraining.Pad, settings, frozen)
        {
            EpochExamples = e => { asked.Add((e, lastStep)); return Epoch(e); },
            OnStep = (step, _, m) => { lastStep = step.Step; metrics.Add(m); },
        }.Train(Epoch(0), []);
        Assert.Equal(6, result.Steps);
        Assert.Equal([(1, 2), (2, 4)], asked);
        // At the first step the policy still equals the reference (log-ratio 0), and the KL is to the recorded −1 per token, not 0.
        Assert.True(metrics[0].TrustRegionKl > 0.1, $"KL {metrics[0].TrustRegionKl}");

        using var dir = new TestData.TempDirectory();
        using var cancel = new CancellationTokenSource();
        using var stopped = TinyTraining.CopyOf(initial);
        new TrpaTrainer(stopped, TinyTraining.Pad, settings, frozen)
        {
            EpochExamples = Epoch,
            OnStep = (step, _, _) => { if (step.Step == 5) cancel.Cancel(); },
            SaveCheckpoint = (t, p) => TrainingCheckpoint.Save(dir.Path, t, tokenizer, p),
        }.Train(Epoch(0), [], cancel: cancel.Token);
        using var resumed = TinyTraining.CopyOf(initial);
        var askedOnResume = new List<int>();
        Assert.Equal(6, new TrpaTrainer(resumed, TinyTraining.Pad, settings, frozen)
        {
            EpochExamples = e => { askedOnResume.Add(e); return Epoch(e); },
            RestoreCheckpoint = t => TrainingCheckpoint.Restore(dir.Path, t),
        }.Train(Epoch(0), []).Steps);
        Assert.Equal([2], askedOnResume);
        foreach (var (x, y) in straight.parameters().Zip(resumed.parameters()))
            Assert.True(x.allclose(y, rtol: 1e-4, atol: 1e-6), "resumed weights differ from the uninterrupted run's");
    }

    [Fact]
    public void SampledSolutionsTakeTheirLevelFromTheAnswerAndHowTheyEndedAndKeepTheSamplersTokens()
    {
        var problem = new Reasoner.Core.Problems.Problem("p", "arith", "What is 2 + 3?", "5", Reasoner.Core.Problems.AnswerKind.Number);
        Completion C(string text, FinishReason finish) => new(text, [7, 8, 9], [-0.5, -1.5, -0.25], finish);
        var samples = new[]
        {
            new Reasoner.Training.Framework.SampledSolutions(problem,
            [
                C("2 + 3 = 5.\nThe answer is 5.", FinishReason.EndOfSequence),
                C("2 + 3 = 6.\nThe answer is 6.", FinishReason.EndOfSequence),
                C("I give up.", FinishReason.EndOfSequence),
                C("2 + 3 = 5.\nThe answer is 5.", FinishReason.Length),
            ]),
        };
        var tokenizer = TinyModels.ArithmeticTokenizer;
        var group = Assert.Single(TrpaGroups.FromSamples(samples, p => "Question: " + p.Question + "\n", tokenizer, new TrpaSettings { Levels = [1, 2, 2, 3] }));
        Assert.Equal([1, 2, 2, 3], group.Solutions.Select(s => s.Level));
        Assert.Equal(tokenizer.Encode("Question: What is 2 + 3?\n"), group.Prompt);
        Assert.All(group.Solutions, s => Assert.Equal([7, 8, 9], s.Tokens));
        Assert.All(group.Solutions, s => Assert.Equal([-0.5f, -1.5f, -0.25f], s.SamplingLogProbs!));
    }
}
