using System.Text.Json.Nodes;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Gguf;
using Reasoner.Models.Tokenization;
using Reasoner.Tests.Models;
using static TorchSharp.torch;

namespace Reasoner.Tests.LlamaCpp;

/// <summary>
/// A tiny random-weight checkpoint (HF layout, real files) with the arithmetic tokenizer, exported to GGUF:
/// hidden 64, 2 layers, 4 query heads sharing 2 K/V heads, weights N(0, 0.3) so logits spread over several nats and
/// greedy choices are far from ties. Weights are the same on every run.
/// </summary>
internal sealed class TinyGguf : IDisposable
{
    private readonly TestData.TempDirectory directory = new();

    public CausalLanguageModel Model { get; }
    public HfTokenizer Tokenizer => TinyModels.ArithmeticTokenizer;
    public string CheckpointDirectory => directory.Path;
    public string GgufPath { get; }
    public ModelConfig Config => Model.Config;

    public TinyGguf(string variant, GgmlType weightType = GgmlType.F32, int seed = 7) : this(ConfigFor(variant), weightType, seed)
    {
    }

    public TinyGguf(ModelConfig config, GgmlType weightType = GgmlType.F32, int seed = 7)
    {
        Model = TinyModels.Create(config, seed);
        Randomize(Model, seed);
        CheckpointWriter.Save(Model, Tokenizer, directory.Path);
        GgufPath = Path.Combine(directory.Path, "model.gguf");
        GgufExporter.Export(directory.Path, GgufPath, new GgufExportOptions { WeightType = weightType });
    }

    /// <summary>The model variants the cross-check covers.</summary>
    public static TheoryData<string> Variants => new()
    {
        "llama-tied", "llama-untied-padded-vocab", "llama-biases", "llama-rope-linear", "llama-rope-llama3", "qwen2", "qwen3",
    };

    public static ModelConfig ConfigFor(string variant)
    {
        var tokenizer = TinyModels.ArithmeticTokenizer;
        string modelType = variant.Split('-')[0];
        var config = TinyModels.Config(modelType, tied: !variant.Contains("untied") && modelType != "qwen2", vocabSize: tokenizer.VocabSize) with
        {
            HiddenSize = 64,
            IntermediateSize = 128,
            // Qwen3 decouples the head size from hidden / heads (64 / 4 = 16): llama.cpp must take it from key_length.
            HeadDimOverride = modelType == "qwen3" ? 32 : null,
            BosTokenId = null,
            EosTokenIds = [tokenizer.EosId],
        };
        return variant switch
        {
            "llama-untied-padded-vocab" => config with { VocabSize = tokenizer.VocabSize + 11 }, // rows past the tokenizer: [PADn]
            "llama-biases" => config with { AttentionBias = true, MlpBias = true },
            "llama-rope-linear" => config with { RopeScaling = new JsonObject { ["rope_type"] = "linear", ["factor"] = 4.0 } },
            "llama-rope-llama3" => config with
            {
                RopeTheta = 500000,
                RopeScaling = new JsonObject
                {
                    ["rope_type"] = "llama3", ["factor"] = 8.0, ["low_freq_factor"] = 1.0, ["high_freq_factor"] = 4.0,
                    ["original_max_position_embeddings"] = 64.0, // small, so the test's positions reach the scaled band
                },
            },
            _ => config,
        };
    }

    /// <summary>
    /// Every parameter random, from a generator of its own (torch's global one is shared with tests running in
    /// parallel, which would make the weights differ between runs): matrices and biases N(0, 0.3), norm scales
    /// 1 + N(0, 0.2), so a swapped norm, a dropped bias or a bias left in HF order changes the output.
    /// </summary>
    private static void Randomize(CausalLanguageModel model, int seed)
    {
        var random = new Random(seed);
        double Normal() => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            bool norm = name.EndsWith("norm.weight");
            var values = new float[p.numel()];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(norm ? 1 + 0.2 * Normal() : 0.3 * Normal());
            using var source = tensor(values).reshape(p.shape);
            p.copy_(source);
        }
    }

    /// <summary>TorchSharp log-softmax after every token of a full (cache-free) forward: [tokens][vocab].</summary>
    public double[][] TorchLogProbs(IReadOnlyList<int> ids)
    {
        using var noGrad = no_grad();
        using var input = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Count]);
        using var logProbs = nn.functional.log_softmax(Model.Forward(input), -1).to(float64);
        var flat = logProbs.data<double>().ToArray();
        int v = Config.VocabSize;
        return Enumerable.Range(0, ids.Count).Select(t => flat[(t * v)..((t + 1) * v)]).ToArray();
    }

    /// <summary>TorchSharp greedy continuation: argmax of a full forward, token by token.</summary>
    public (List<int> Tokens, List<double> LogProbs, double SmallestMargin) TorchGreedy(IReadOnlyList<int> prompt, int count)
    {
        var ids = prompt.ToList();
        var tokens = new List<int>();
        var logProbs = new List<double>();
        double margin = double.MaxValue;
        for (int i = 0; i < count; i++)
        {
            var last = TorchLogProbs(ids)[^1];
            var ranked = last.Select((lp, id) => (lp, id)).OrderByDescending(x => x.lp).ToArray();
            margin = Math.Min(margin, ranked[0].lp - ranked[1].lp);
            tokens.Add(ranked[0].id);
            logProbs.Add(ranked[0].lp);
            ids.Add(ranked[0].id);
        }
        return (tokens, logProbs, margin);
    }

    public void Dispose()
    {
        Model.Dispose();
        directory.Dispose();
    }
}
