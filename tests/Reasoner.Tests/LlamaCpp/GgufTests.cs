using System.Text.Json.Nodes;
using Reasoner.Models.Gguf;
using Reasoner.Models.Tokenization;
using Reasoner.Tests.Models;

namespace Reasoner.Tests.LlamaCpp;

/// <summary>What the GGUF writer puts in the file, read back with <see cref="GgufFile"/> (no llama.cpp involved).</summary>
public class GgufTests
{
    [Fact]
    public void WriterRoundTripsEveryValueTypeAndAlignsTensorData()
    {
        using var dir = new TestData.TempDirectory();
        var path = Path.Combine(dir.Path, "t.gguf");
        float[] matrix = Enumerable.Range(0, 15).Select(i => i * 0.25f - 1).ToArray();
        float[] halves = [0.1f, -2.5f, 65504f, 1e-8f, 3.14159f, 0, -0.0f];
        var writer = new GgufWriter()
            .Add("s", "héllo").Add("u32", 7u).Add("i32", -7).Add("f32", 1.5f).Add("b", true)
            .Add("u64", ulong.MaxValue).Add("i64", long.MinValue).Add("f64", Math.PI)
            .Add("strings", new[] { "a", "", "Ġb" }).Add("ints", new[] { 1, -2, 3 }).Add("floats", new[] { 0.5f })
            .AddTensor("m", [3, 5], GgmlType.F32, () => matrix)
            .AddTensor("h", [7], GgmlType.F16, () => halves)
            .AddTensor("v", [1], GgmlType.F32, () => [42f]);
        using (var stream = File.Create(path)) writer.Write(stream);

        var file = GgufFile.Read(path);
        Assert.Equal(3u, file.Version);
        Assert.Equal(["s", "u32", "i32", "f32", "b", "u64", "i64", "f64", "strings", "ints", "floats", "general.alignment"], file.Keys);
        Assert.Equal("héllo", file.Get<string>("s"));
        Assert.Equal(7u, file.Get<uint>("u32"));
        Assert.Equal(-7, file.Get<int>("i32"));
        Assert.Equal(1.5f, file.Get<float>("f32"));
        Assert.True(file.Get<bool>("b"));
        Assert.Equal(ulong.MaxValue, file.Get<ulong>("u64"));
        Assert.Equal(long.MinValue, file.Get<long>("i64"));
        Assert.Equal(Math.PI, file.Get<double>("f64"));
        Assert.Equal(["a", "", "Ġb"], file.Get<string[]>("strings"));
        Assert.Equal([1, -2, 3], file.Get<int[]>("ints"));
        Assert.Equal([0.5f], file.Get<float[]>("floats"));
        Assert.Equal(32u, file.Get<uint>("general.alignment"));

        Assert.Equal([5L, 3L], file.Tensor("m").Dims); // innermost first
        Assert.All(file.Tensors, t => Assert.Equal(0, t.Offset % 32));
        Assert.Equal(0, file.DataOffset % 32);
        Assert.Equal(matrix, file.ReadFloats("m"));
        Assert.Equal(halves.Select(v => (float)(Half)v), file.ReadFloats("h"));
        Assert.Equal([42f], file.ReadFloats("v"));
        var last = file.Tensors[^1];
        Assert.Equal(file.DataOffset + GgufFormat.AlignUp(last.Offset + last.ByteSize, 32), new FileInfo(path).Length);
    }

    [Fact]
    public void WriterRejectsWhatGgufCannotHold()
    {
        var writer = new GgufWriter().Add("k", 1u);
        Assert.Throws<ArgumentException>(() => writer.Add("k", 2u));
        Assert.Throws<NotSupportedException>(() => writer.Add("d", 1m));
        Assert.Throws<NotSupportedException>(() => writer.Add("o", new object[] { 1 }));
        Assert.Throws<ArgumentException>(() => writer.Add(GgufWriter.AlignmentKey, 64u));
        Assert.Throws<InvalidOperationException>(() => new GgufWriter().AddTensor("t", [2, 2], GgmlType.F32, () => [1f]).Write(Stream.Null));
    }

    [Fact]
    public void ReaderRejectsFilesThatAreNotGguf()
    {
        using var dir = new TestData.TempDirectory();
        var path = Path.Combine(dir.Path, "x.gguf");
        File.WriteAllBytes(path, "GGML\0\0\0\0"u8.ToArray());
        Assert.Throws<InvalidDataException>(() => GgufFile.Read(path));
        File.WriteAllBytes(path, [.. "GGUF"u8.ToArray(), 3, 0, 0, 0, 1]);
        Assert.Throws<InvalidDataException>(() => GgufFile.Read(path));
    }

    [Fact]
    public void ExportedLlamaCarriesLlamaCppHyperparametersAndTokenizer()
    {
        using var tiny = new TinyGguf("llama-tied");
        var file = GgufFile.Read(tiny.GgufPath);
        var c = tiny.Config;
        Assert.Equal("llama", file.Get<string>("general.architecture"));
        Assert.Equal(0u, file.Get<uint>("general.file_type"));
        Assert.Equal((uint)c.MaxPositionEmbeddings, file.Get<uint>("llama.context_length"));
        Assert.Equal(64u, file.Get<uint>("llama.embedding_length"));
        Assert.Equal(2u, file.Get<uint>("llama.block_count"));
        Assert.Equal(128u, file.Get<uint>("llama.feed_forward_length"));
        Assert.Equal(4u, file.Get<uint>("llama.attention.head_count"));
        Assert.Equal(2u, file.Get<uint>("llama.attention.head_count_kv"));
        Assert.Equal(16u, file.Get<uint>("llama.rope.dimension_count"));
        Assert.Equal((float)c.RmsNormEps, file.Get<float>("llama.attention.layer_norm_rms_epsilon"));
        Assert.Equal((float)c.RopeTheta, file.Get<float>("llama.rope.freq_base"));
        Assert.Equal((uint)c.VocabSize, file.Get<uint>("llama.vocab_size"));

        var tokenizer = tiny.Tokenizer;
        Assert.Equal("gpt2", file.Get<string>("tokenizer.ggml.model"));
        Assert.Equal("qwen2", file.Get<string>("tokenizer.ggml.pre"));
        var tokens = file.Get<string[]>("tokenizer.ggml.tokens");
        Assert.Equal(Enumerable.Range(0, c.VocabSize).Select(i => tokenizer.IdToToken(i)), tokens);
        var types = file.Get<int[]>("tokenizer.ggml.token_type");
        Assert.All(Enumerable.Range(0, c.VocabSize), i => Assert.Equal(tokenizer.IsSpecial(i) ? 3 : 1, types[i]));
        Assert.Equal(tokenizer.Merges, file.Get<string[]>("tokenizer.ggml.merges"));
        Assert.Equal((uint)tokenizer.EosId, file.Get<uint>("tokenizer.ggml.eos_token_id"));
        Assert.False(file.Metadata.ContainsKey("tokenizer.ggml.bos_token_id"));
        Assert.False(file.Get<bool>("tokenizer.ggml.add_bos_token"));

        string[] perLayer = ["attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down"];
        var expectedNames = new[] { "token_embd.weight", "output_norm.weight" }
            .Concat(Enumerable.Range(0, 2).SelectMany(l => perLayer.Select(t => $"blk.{l}.{t}.weight")));
        Assert.Equal(expectedNames.Order(), file.Tensors.Select(t => t.Name).Order()); // tied: no output.weight
        Assert.Equal([64L, c.VocabSize], file.Tensor("token_embd.weight").Dims);
        Assert.Equal([64L, 4L * 16], file.Tensor("blk.0.attn_q.weight").Dims);
        Assert.Equal([64L, 2L * 16], file.Tensor("blk.0.attn_k.weight").Dims);
        Assert.Equal([128L, 64L], file.Tensor("blk.1.ffn_down.weight").Dims);
    }

    [Fact]
    public void UntiedHeadIsWrittenAndRowsPastTheTokenizerArePadTokens()
    {
        using var tiny = new TinyGguf("llama-untied-padded-vocab");
        var file = GgufFile.Read(tiny.GgufPath);
        Assert.Equal([64L, tiny.Config.VocabSize], file.Tensor("output.weight").Dims);
        Assert.Equal(tiny.Model.state_dict()["lm_head.weight"].data<float>().ToArray(), file.ReadFloats("output.weight"));
        var tokens = file.Get<string[]>("tokenizer.ggml.tokens");
        var types = file.Get<int[]>("tokenizer.ggml.token_type");
        int first = tiny.Tokenizer.VocabSize;
        Assert.Equal($"[PAD{first}]", tokens[first]);
        Assert.Equal(tiny.Config.VocabSize, tokens.Length);
        Assert.All(types[first..], t => Assert.Equal(5, t)); // unused
    }

    /// <summary>
    /// Llama's q/k rows are reordered per head from rotate_half halves to interleaved pairs (row s·d/2 + j → row 2j + s),
    /// K with the K/V head count; everything else, and every Qwen tensor, is written as HF stores it.
    /// </summary>
    [Theory]
    [InlineData("llama-biases", true)]
    [InlineData("qwen2", false)]
    public void QueryAndKeyRowsArePermutedForLlamaOnly(string variant, bool permuted)
    {
        using var tiny = new TinyGguf(variant);
        var file = GgufFile.Read(tiny.GgufPath);
        var hf = tiny.Model.state_dict();
        int d = tiny.Config.HeadDim;
        float[] Interleave(string name, int heads)
        {
            var w = hf[name].data<float>().ToArray();
            int columns = w.Length / (heads * d);
            var result = new float[w.Length];
            for (int h = 0; h < heads; h++)
                for (int row = 0; row < d; row++)
                {
                    int source = h * d + (row % 2) * (d / 2) + row / 2;
                    Array.Copy(w, source * columns, result, (h * d + row) * columns, columns);
                }
            return permuted ? result : w;
        }
        foreach (var leaf in new[] { "weight", "bias" })
        {
            Assert.Equal(Interleave($"model.layers.1.self_attn.q_proj.{leaf}", 4), file.ReadFloats($"blk.1.attn_q.{leaf}"));
            Assert.Equal(Interleave($"model.layers.1.self_attn.k_proj.{leaf}", 2), file.ReadFloats($"blk.1.attn_k.{leaf}"));
            Assert.Equal(hf[$"model.layers.1.self_attn.v_proj.{leaf}"].data<float>().ToArray(), file.ReadFloats($"blk.1.attn_v.{leaf}"));
        }
        Assert.Equal(variant == "llama-biases", file.Tensors.Any(t => t.Name == "blk.0.attn_output.bias"));
        Assert.Equal(variant == "llama-biases", file.Tensors.Any(t => t.Name == "blk.0.ffn_gate.bias"));
    }

    [Fact]
    public void Qwen3WritesItsHeadSizeAndQueryKeyNorms()
    {
        using var tiny = new TinyGguf("qwen3");
        var file = GgufFile.Read(tiny.GgufPath);
        Assert.Equal("qwen3", file.Get<string>("general.architecture"));
        Assert.Equal(32u, file.Get<uint>("qwen3.attention.key_length"));
        Assert.Equal(32u, file.Get<uint>("qwen3.rope.dimension_count"));
        Assert.Equal([32L], file.Tensor("blk.0.attn_q_norm.weight").Dims);
        Assert.Equal([32L], file.Tensor("blk.0.attn_k_norm.weight").Dims);
        Assert.Equal([64L, 4L * 32], file.Tensor("blk.0.attn_q.weight").Dims);
    }

    [Fact]
    public void RopeScalingIsWrittenAsLlamaCppReadsIt()
    {
        using (var linear = new TinyGguf("llama-rope-linear"))
        {
            var file = GgufFile.Read(linear.GgufPath);
            Assert.Equal("linear", file.Get<string>("llama.rope.scaling.type"));
            Assert.Equal(4f, file.Get<float>("llama.rope.scaling.factor"));
        }
        using var llama3 = new TinyGguf("llama-rope-llama3");
        var factors = GgufFile.Read(llama3.GgufPath).ReadFloats("rope_freqs.weight");
        Assert.Equal(8, factors.Length); // head_dim / 2
        Assert.Equal(1f, factors[0]);    // short wavelengths keep their frequency
        Assert.Equal(8f, factors[^1]);   // long ones are divided by the factor
        Assert.InRange(factors[1], 1f, 8f);
    }

    [Fact]
    public void ATokenizerWhoseSplitLlamaCppDoesNotKnowIsRefused()
    {
        var json = JsonNode.Parse(TinyModels.ArithmeticTokenizer.TokenizerJson)!.AsObject();
        json["pre_tokenizer"] = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["use_regex"] = true }; // GPT-2's split
        var gpt2Split = HfTokenizer.FromJson(json.ToJsonString(), null);
        using var tiny = new TinyGguf("llama-tied");
        var e = Assert.Throws<NotSupportedException>(() => GgufExporter.CreateWriter(tiny.Model, gpt2Split, new GgufExportOptions()));
        Assert.Contains("pre-tokenizer", e.Message);
    }

    [Fact]
    public void AModelVocabularySmallerThanTheTokenizerIsRefused()
    {
        using var model = TinyModels.Create(TinyGguf.ConfigFor("llama-tied") with { VocabSize = 100 });
        Assert.Throws<InvalidDataException>(() => GgufExporter.CreateWriter(model, TinyModels.ArithmeticTokenizer, new GgufExportOptions()));
    }
}
