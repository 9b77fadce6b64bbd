using Reasoner.Models;
using Reasoner.Tests.Models;
using Reasoner.Training.Batching;

namespace Reasoner.Tests.Training;

/// <summary>Tiny models and hand-made sequences for the training-core tests (seconds, not minutes).</summary>
internal static class TinyTraining
{
    public const int Vocab = 50;
    public const int Pad = 0;

    /// <summary>A new model of <paramref name="initial"/>'s shape holding its weights, so that runs compared with each other start alike.</summary>
    public static CausalLanguageModel CopyOf(CausalLanguageModel initial)
    {
        var model = new CausalLanguageModel(initial.Config);
        using (TorchSharp.torch.no_grad())
            foreach (var (x, y) in initial.parameters().Zip(model.parameters())) y.copy_(x);
        return model;
    }

    public static CausalLanguageModel Model(int seed = 7) =>
        TinyModels.Create(TinyModels.Config(vocabSize: Vocab) with { InitializerRange = 0.05 }, seed);

    /// <summary>Two sequences of different lengths, so the shorter one is padded.</summary>
    public static TrainingSequence[] Sequences =>
    [
        new([3, 4, 5, 6, 7, 8, 9, 10], promptLength: 3),
        new([11, 12, 13, 14, 15], promptLength: 2),
    ];
}
