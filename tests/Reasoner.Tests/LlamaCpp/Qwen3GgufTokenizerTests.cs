using System.Text.Json;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Gguf;
using Reasoner.Models.Tokenization;
using Reasoner.Tests.Models;

namespace Reasoner.Tests.LlamaCpp;

/// <summary>
/// The real Qwen3 tokenizer exported into a GGUF (tokens, merges, token types, pre-tokenizer "qwen2"): llama.cpp's
/// own tokenizer must then give the reference ids of the HF pipeline for every reference text.
/// </summary>
public class Qwen3GgufTokenizerTests
{
    [Fact]
    public void LlamaCppTokenizesTheReferenceTextsLikeHf()
    {
        var tokenizer = HfTokenizer.Load(TestData.Qwen3TokenizerDirectory);
        // Qwen3's real shapes where they matter to the tokenizer (vocab_size 151936 > 151669 tokens), tiny elsewhere.
        var config = TinyModels.Config("qwen3", tied: true, vocabSize: 151936) with { HiddenSize = 16, IntermediateSize = 32, HeadDimOverride = 8, NumHiddenLayers = 1 };
        using var model = TinyModels.Create(config);
        using var dir = new TestData.TempDirectory();
        var path = Path.Combine(dir.Path, "qwen3-tokenizer.gguf");
        using (var stream = File.Create(path)) GgufExporter.CreateWriter(model, tokenizer, new GgufExportOptions()).Write(stream);

        using var llama = LlamaCppModel.Load(path, new LlamaCppOptions { ContextSize = 64 });
        var mismatches = new List<string>();
        foreach (var line in File.ReadLines(Path.Combine(TestData.Qwen3TokenizerDirectory, "reference_ids.jsonl")).Where(l => l.Length > 0))
        {
            using var doc = JsonDocument.Parse(line);
            string text = doc.RootElement.GetProperty("text").GetString()!;
            var expected = doc.RootElement.GetProperty("ids").EnumerateArray().Select(e => e.GetInt32()).ToArray();
            var actual = llama.Tokenize(text);
            if (!expected.SequenceEqual(actual)) mismatches.Add($"{JsonSerializer.Serialize(text)}: expected [{string.Join(",", expected)}] got [{string.Join(",", actual)}]");
            else if (llama.Decode(actual) != text) mismatches.Add($"{JsonSerializer.Serialize(text)}: decodes to {JsonSerializer.Serialize(llama.Decode(actual))}");
        }
        Assert.True(mismatches.Count == 0, string.Join("\n", mismatches));
    }
}
