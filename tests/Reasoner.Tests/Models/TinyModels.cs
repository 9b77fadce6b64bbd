using Reasoner.Models;
using Reasoner.Models.Tokenization;
using TorchSharp;

namespace Reasoner.Tests.Models;

/// <summary>Tiny random-weight models and a tokenizer trained on arithmetic text, shared by the model tests.</summary>
internal static class TinyModels
{
    public static readonly string[] ArithmeticCorpus =
    [
        "Question: What is 12 + 35?\nStep 1: 12 + 35 = 47.\nAnswer: 47",
        "Question: What is 9 * 8 - 5?\nStep 1: 9 * 8 = 72.\nStep 2: 72 - 5 = 67.\nAnswer: 67",
        "Question: Is (true and not false) or false?\nStep 1: not false = true.\nStep 2: true and true = true.\nAnswer: true",
        "Question: What is 100 / 4 + 3?\nStep 1: 100 / 4 = 25.\nStep 2: 25 + 3 = 28.\nAnswer: 28",
    ];

    private static readonly Lazy<HfTokenizer> ArithmeticTokenizerInstance = new(() => ByteLevelBpeTrainer.Train(ArithmeticCorpus, vocabSize: 300));

    public static HfTokenizer ArithmeticTokenizer => ArithmeticTokenizerInstance.Value;

    /// <summary>hidden 32, 2 layers, 4 query heads sharing 2 K/V heads; a large init range so attention is far from uniform.</summary>
    public static ModelConfig Config(string modelType = "llama", bool tied = true, int vocabSize = 100) => new()
    {
        ModelType = modelType,
        Architectures = [ModelConfig.ArchitectureByModelType[modelType]],
        VocabSize = vocabSize,
        HiddenSize = 32,
        IntermediateSize = 64,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        NumKeyValueHeads = 2,
        HeadDimOverride = modelType == "qwen3" ? 16 : null, // Qwen3 decouples head_dim from hidden / heads
        RmsNormEps = 1e-6,
        RopeTheta = modelType == "llama" ? 10000 : 1000000,
        TieWordEmbeddings = tied,
        InitializerRange = 0.3,
        BosTokenId = 1,
        EosTokenIds = [2],
    };

    /// <summary>The same weights for the same config and seed, whatever other tests draw meanwhile: a generator of its own, not libtorch's global one.</summary>
    public static CausalLanguageModel Create(ModelConfig config, int seed = 7)
    {
        using var generator = new torch.Generator((ulong)seed);
        var model = new CausalLanguageModel(config);
        model.InitializeWeights(generator);
        model.eval();
        return model;
    }
}
