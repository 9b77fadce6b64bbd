using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Tokenization;
using TorchSharp;

namespace Reasoner.Cli.Bench;

/// <summary>
/// A random-weight Llama model at the scale of a small built-in model (6 layers of 256 channels, 4 heads of 64,
/// a byte-level BPE tokenizer learned from the built-in tasks' text, 1024 embedding rows), for timing the engine when no
/// trained checkpoint is at hand: speed depends on the shapes, not on what the weights say.
/// </summary>
static class RandomModel
{
    public static (CausalLanguageModel Model, HfTokenizer Tokenizer) Create(torch.Device device, int seed)
    {
        var tokenizer = ByteLevelBpeTrainer.Train(BenchText.Corpus(problems: 400, seed), vocabSize: 1000);
        var config = new ModelConfig
        {
            // The tasks' words are all merged by about 600 tokens; the embedding is padded to 1024 rows, as released
            // models pad theirs past the tokenizer, so the output layer costs what a ~1000-token vocabulary costs.
            VocabSize = Math.Max(1024, tokenizer.VocabSize),
            HiddenSize = 256,
            IntermediateSize = 704,
            NumHiddenLayers = 6,
            NumAttentionHeads = 4,
            NumKeyValueHeads = 4,
            MaxPositionEmbeddings = 2048,
            TieWordEmbeddings = true,
            EosTokenIds = [tokenizer.EosId],
        };
        torch.manual_seed(seed);
        var model = new CausalLanguageModel(config);
        model.InitializeWeights();
        model.to(device);
        model.eval();
        return (model, tokenizer);
    }
}

/// <summary>Solved built-in problems as text: the random model's tokenizer corpus and the benchmark's prompt.</summary>
static class BenchText
{
    public static IEnumerable<string> Corpus(int problems, int seed) =>
        BuiltinTasks.Generate(BuiltinTasks.Arith, Split.Train, seed).Take(problems / 2)
            .Concat(BuiltinTasks.Generate(BuiltinTasks.Logic, Split.Train, seed).Take(problems - problems / 2))
            .Select(Solved);

    /// <summary>
    /// Solved problems one after another, as a few-shot prompt has them, cut to about <paramref name="tokens"/>
    /// tokens (re-encoding the cut text may merge a token or two differently).
    /// </summary>
    public static string Prompt(ITextTokenizer tokenizer, int tokens, int seed)
    {
        var text = new System.Text.StringBuilder();
        foreach (var problem in Corpus(problems: 2 * tokens, seed))
        {
            text.Append(problem);
            var ids = tokenizer.Encode(text.ToString());
            if (ids.Length >= tokens) return tokenizer.Decode(ids.Take(tokens));
        }
        return text.ToString();
    }

    private static string Solved(Problem problem) =>
        $"Question: {problem.Question}\nAnswer:\n{string.Join("\n", problem.ReferenceSteps ?? [])}\n\n";
}
