using Reasoner.Tests.Models;
using Reasoner.Training;
using Reasoner.Training.Batching;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Training;

public class TrainerTests
{
    private static readonly TrainerOptions Options = new() { LearningRate = 1e-2, MinLearningRate = 1e-3, WarmupSteps = 5, TotalSteps = 60, WeightDecay = 0.0 };

    private static StepResult Step(Trainer trainer, TokenBatch batch) =>
        trainer.TrainStep([batch], b => SequenceLogProbs.Compute(trainer.Model, b).MeanNegativeLogLikelihood());

    [Fact]
    public void TinyModelOverfitsTwoSequences()
    {
        torch.manual_seed(1);
        using var trainer = new Trainer(TinyTraining.Model(), Options);
        using var batch = TokenBatch.Collate(TinyTraining.Sequences, TinyTraining.Pad);
        var losses = Enumerable.Range(0, Options.TotalSteps).Select(_ => Step(trainer, batch).Loss).ToArray();
        Assert.True(losses[0] > 3.0, $"a random model starts near ln(50) = 3.9, got {losses[0]:0.00}");
        Assert.True(losses[^1] < 0.1, $"final loss {losses[^1]:0.000} (first {losses[0]:0.00})");
        Assert.Equal(Options.TotalSteps, trainer.Step);
    }

    [Fact]
    public void AccumulationAveragesTheMicroBatchLosses()
    {
        // Two models of one seed are one model: their weights come from a generator of their own.
        var model = TinyTraining.Model();
        var twin = TinyTraining.Model();
        using var accumulated = new Trainer(model, Options);
        using var together = new Trainer(twin, Options);
        using var first = TokenBatch.Collate([TinyTraining.Sequences[0]], TinyTraining.Pad);
        using var second = TokenBatch.Collate([TinyTraining.Sequences[1]], TinyTraining.Pad);
        Tensor Loss(Trainer t, TokenBatch b) => SequenceLogProbs.Compute(t.Model, b).MeanNegativeLogLikelihood();

        var a = accumulated.TrainStep([first, second], b => Loss(accumulated, b));
        var b = together.TrainStep([first], _ => (Loss(together, first) + Loss(together, second)) / 2);

        Assert.Equal(b.Loss, a.Loss, 5);
        Assert.Equal(b.GradientNorm, a.GradientNorm, 5);
        foreach (var (x, y) in accumulated.Model.parameters().Zip(together.Model.parameters()))
            Assert.True(x.allclose(y, rtol: 1e-4, atol: 1e-6));
    }

    [Fact]
    public void WeightDecayShrinksMatricesButNotNormGains()
    {
        // Zero gradients leave only AdamW's decoupled decay: w <- w * (1 - lr * decay) = w / 2.
        using var trainer = new Trainer(TinyTraining.Model(), Options with { WeightDecay = 0.5, LearningRate = 1.0, MinLearningRate = 1.0, WarmupSteps = 0 });
        var before = trainer.Model.named_parameters().ToDictionary(p => p.name, p => p.parameter.detach().clone());
        using var batch = TokenBatch.Collate(TinyTraining.Sequences, TinyTraining.Pad);
        trainer.TrainStep([batch], b => SequenceLogProbs.Compute(trainer.Model, b).MeanNegativeLogLikelihood() * 0);
        foreach (var (name, p) in trainer.Model.named_parameters())
        {
            var expected = name.EndsWith("norm.weight") ? before[name] : before[name] / 2;
            Assert.True(p.allclose(expected, rtol: 1e-5, atol: 1e-7), name);
        }
    }

    [Fact]
    public void ClippingCapsTheGlobalGradientNorm()
    {
        using var trainer = new Trainer(TinyTraining.Model(), Options with { GradientClip = 0.01 });
        using var batch = TokenBatch.Collate(TinyTraining.Sequences, TinyTraining.Pad);
        var step = Step(trainer, batch);
        Assert.True(step.GradientNorm > 0.01, $"the reported norm is the norm before clipping, got {step.GradientNorm}");
        double clipped = Math.Sqrt(trainer.Model.parameters().Sum(p => p.grad!.pow(2).sum().item<float>()));
        Assert.Equal(0.01, clipped, 4);
    }

    [Fact]
    public void ResumingFromACheckpointContinuesExactly()
    {
        using var temp = new TestData.TempDirectory();
        using var batch = TokenBatch.Collate(TinyTraining.Sequences, TinyTraining.Pad);
        using var original = new Trainer(TinyTraining.Model(), Options);
        for (int i = 0; i < 3; i++) Step(original, batch);
        TrainingCheckpoint.Save(temp.Path, original, TinyModels.ArithmeticTokenizer, new TrainingProgress { Step = 3, TotalSteps = 60, Tokens = 39 });
        var continued = Enumerable.Range(0, 3).Select(_ => Step(original, batch).Loss).ToArray();

        using var resumed = new Trainer(TinyTraining.Model(seed: 99), Options);
        var progress = TrainingCheckpoint.Restore(temp.Path, resumed);
        Assert.Equal(3, resumed.Step);
        Assert.Equal(39, progress.Tokens);
        var afterResume = Enumerable.Range(0, 3).Select(_ => Step(resumed, batch).Loss).ToArray();
        for (int i = 0; i < 3; i++) Assert.Equal(continued[i], afterResume[i], 5);
        Assert.Equal(original.Schedule.At(4), resumed.Schedule.At(4));
    }

    [Fact]
    public void LogIsOneJsonObjectPerLine()
    {
        using var temp = new TestData.TempDirectory();
        using (var log = new TrainingLog(temp.Path))
        {
            log.Write(new StepResult(1, 2.5, 1e-3, 0.7, 100, 60, TimeSpan.FromSeconds(0.5)));
            log.Write(1, [new("greedy_arith", 0.25), new("diverged", double.NaN)]);
        }
        var lines = TrainingLog.Read(Path.Combine(temp.Path, TrainingLog.FileName));
        Assert.Equal(2, lines.Count);
        Assert.Equal(2.5, lines[0]["loss"]!.GetValue<double>());
        Assert.Equal(200, lines[0]["tokens_per_s"]!.GetValue<double>());
        Assert.Equal(0.25, lines[1]["greedy_arith"]!.GetValue<double>());
        Assert.Null(lines[1]["diverged"]);
    }
}
