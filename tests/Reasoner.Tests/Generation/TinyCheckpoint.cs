using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Generation;
using Reasoner.Tests.Models;
using static TorchSharp.torch;

namespace Reasoner.Tests.Generation;

/// <summary>
/// A tiny random-weight Llama checkpoint written in the Hugging Face layout with the arithmetic BPE tokenizer,
/// shared by a test class; every test loads its own engine from it, so prefix caches never leak between tests.
/// </summary>
public sealed class TinyCheckpoint : IDisposable
{
    public const string Prompt = "Question: What is 12 + 35?\nStep 1:";

    private readonly TestData.TempDirectory directory = new();

    public TinyCheckpoint()
    {
        using var model = TinyModels.Create(TinyModels.Config(vocabSize: TinyModels.ArithmeticTokenizer.VocabSize), seed: 11);
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, directory.Path);
    }

    public string Path => directory.Path;

    public TorchEngine Engine(TorchEngineOptions? options = null) => TorchEngine.Load(Path, options: options);

    /// <summary>Log-softmax of a plain full-sequence forward (no cache): [tokens, vocabulary].</summary>
    public static Tensor FullLogProbs(CausalLanguageModel model, IEnumerable<int> tokenIds)
    {
        using var noGrad = no_grad();
        var ids = tokenIds.Select(id => (long)id).ToArray();
        return model.Forward(tensor(ids, [1, ids.Length]))[0].log_softmax(-1);
    }

    public void Dispose() => directory.Dispose();
}
