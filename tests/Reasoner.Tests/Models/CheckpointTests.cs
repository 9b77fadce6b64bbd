using System.Text.Json.Nodes;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Tests.Models;

/// <summary>Tiny random-weight checkpoints written in the HF layout load back to the same model.</summary>
public class CheckpointTests
{
    private static ModelConfig Config(string modelType = "llama", bool tied = true) =>
        TinyModels.Config(modelType, tied, vocabSize: TinyModels.ArithmeticTokenizer.VocabSize);

    private static Tensor SampleIds() => tensor(new long[] { 3, 77, 120, 5, 260, 41, 9, 200 }, [2, 4]);

    private static void AssertSameWeights(CausalLanguageModel expected, CausalLanguageModel actual, Func<Tensor, Tensor>? stored = null)
    {
        var a = expected.state_dict();
        var b = actual.state_dict();
        Assert.Equal(a.Keys.Order(), b.Keys.Order());
        foreach (var (name, t) in a)
            Assert.True((stored?.Invoke(t) ?? t).allclose(b[name], rtol: 0, atol: 0), $"tensor {name} differs");
    }

    private static void AssertSameLogits(CausalLanguageModel expected, CausalLanguageModel actual)
    {
        using var _ = no_grad();
        Assert.True(expected.Forward(SampleIds()).allclose(actual.Forward(SampleIds()), rtol: 0, atol: 1e-6));
    }

    [Fact]
    public void LlamaWithTiedEmbeddingsRoundTrips()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config("llama", tied: true));
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);

        foreach (var file in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "generation_config.json" })
            Assert.True(File.Exists(Path.Combine(dir.Path, file)), file);
        using (var reader = SafeTensorsReader.Open(Path.Combine(dir.Path, "model.safetensors")))
        {
            Assert.DoesNotContain("lm_head.weight", reader.Entries.Keys); // HF saves tied weights once
            Assert.Equal("pt", reader.Metadata["format"]);
            Assert.Equal("F32", reader.Entries["model.embed_tokens.weight"].Dtype);
        }

        var loaded = CheckpointLoader.Load(dir.Path);
        Assert.Equal(model.Config.ToJson(), loaded.Config.ToJson());
        AssertSameWeights(model, loaded.Model);
        AssertSameLogits(model, loaded.Model);
        Assert.Equal(TinyModels.ArithmeticTokenizer.Encode("12 + 35 = 47"), loaded.Tokenizer.Encode("12 + 35 = 47"));
    }

    [Fact]
    public void Qwen2WithBiasAndUntiedHeadRoundTrips()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config("qwen2", tied: false));
        var names = model.state_dict().Keys.ToHashSet();
        Assert.Contains("lm_head.weight", names);
        Assert.Contains("model.layers.1.self_attn.k_proj.bias", names);
        Assert.DoesNotContain("model.layers.1.self_attn.o_proj.bias", names); // Qwen2 has q/k/v bias only

        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        var loaded = CheckpointLoader.LoadModel(dir.Path);
        AssertSameWeights(model, loaded);
        AssertSameLogits(model, loaded);
    }

    [Fact]
    public void Qwen3WithQkNormAndExplicitHeadDimRoundTrips()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config("qwen3", tied: true));
        Assert.Contains("model.layers.0.self_attn.q_norm.weight", model.state_dict().Keys);
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        var loaded = CheckpointLoader.LoadModel(dir.Path);
        AssertSameWeights(model, loaded);
        AssertSameLogits(model, loaded);
    }

    [Fact]
    public void Bf16CheckpointLoadsAsFp32()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config("llama", tied: false));
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path, dtype: ScalarType.BFloat16);
        using (var reader = SafeTensorsReader.Open(Path.Combine(dir.Path, "model.safetensors")))
            Assert.All(reader.Entries.Values, e => Assert.Equal("BF16", e.Dtype));
        Assert.Equal("bfloat16", JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!["torch_dtype"]!.GetValue<string>());

        var loaded = CheckpointLoader.LoadModel(dir.Path);
        Assert.All(loaded.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
        AssertSameWeights(model, loaded, stored: t => t.to(ScalarType.BFloat16).to(ScalarType.Float32));
    }

    [Fact]
    public void ShardedCheckpointWithIndexRoundTrips()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config("qwen2", tied: false));
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path, maxShardBytes: 40_000);

        Assert.False(File.Exists(Path.Combine(dir.Path, "model.safetensors")));
        var index = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "model.safetensors.index.json")))!;
        var shardFiles = index["weight_map"]!.AsObject().Select(kv => kv.Value!.GetValue<string>()).Distinct().ToList();
        Assert.True(shardFiles.Count > 2, $"{shardFiles.Count} shards");
        Assert.All(shardFiles, f => Assert.Matches(@"^model-\d{5}-of-\d{5}\.safetensors$", f));
        Assert.Equal(model.parameters().Sum(p => p.numel() * 4), index["metadata"]!["total_size"]!.GetValue<long>());

        var loaded = CheckpointLoader.LoadModel(dir.Path);
        AssertSameWeights(model, loaded);
        AssertSameLogits(model, loaded);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config());
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        var kept = model.named_parameters().Where(p => p.name != "model.layers.1.mlp.up_proj.weight").Select(p => (p.name, (Tensor)p.parameter)).ToList();
        SafeTensors.Write(Path.Combine(dir.Path, "model.safetensors"), kept);

        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Equal($"checkpoint {dir.Path} lacks tensor 'model.layers.1.mlp.up_proj.weight'", e.Message);
    }

    [Fact]
    public void WrongShapeNamesTensorExpectedAndFound()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config());
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        config["intermediate_size"] = 48;
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), config.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Contains("tensor 'model.layers.0.mlp.gate_proj.weight' has shape [64, 32] but the config expects [48, 32]", e.Message);
    }

    [Fact]
    public void UnexpectedTensorIsNamed()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config("llama", tied: false));
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        config["tie_word_embeddings"] = true;
        config["num_hidden_layers"] = 1;
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), config.ToJsonString());

        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Contains("has tensor 'model.layers.1.", e.Message);
    }

    [Theory]
    [InlineData("model_type", "gpt2", "model_type 'gpt2' is not supported")]
    [InlineData("architectures", "MistralForCausalLM", "architecture 'MistralForCausalLM' is not supported")]
    public void UnknownArchitectureIsRejected(string key, string value, string message)
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config());
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir.Path, "config.json")))!;
        config[key] = key == "architectures" ? new JsonArray(value) : value;
        File.WriteAllText(Path.Combine(dir.Path, "config.json"), config.ToJsonString());

        var e = Assert.Throws<NotSupportedException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Contains(message, e.Message);
    }

    [Fact]
    public void TruncatedWeightsFileIsReported()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config());
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        string weights = Path.Combine(dir.Path, "model.safetensors");
        using (var f = new FileStream(weights, FileMode.Open)) f.SetLength(f.Length - 100);

        var e = Assert.Throws<InvalidDataException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Contains($"safetensors file {weights} is truncated", e.Message);
    }

    [Fact]
    public void MissingWeightsAndShardsAreReported()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config());
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path, maxShardBytes: 40_000);
        File.Delete(Path.Combine(dir.Path, "model-00002-of-" + Directory.GetFiles(dir.Path, "model-00001-of-*")[0][^17..]));
        var e = Assert.Throws<FileNotFoundException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Contains("shard model-00002-of-", e.Message);

        File.Delete(Path.Combine(dir.Path, "model.safetensors.index.json"));
        e = Assert.Throws<FileNotFoundException>(() => CheckpointLoader.LoadModel(dir.Path));
        Assert.Contains("has neither model.safetensors nor model.safetensors.index.json", e.Message);
    }

    [Fact]
    public void SavingAgainReplacesOldShards()
    {
        using var dir = new TestData.TempDirectory();
        using var model = TinyModels.Create(Config());
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path, maxShardBytes: 40_000);
        CheckpointWriter.Save(model, TinyModels.ArithmeticTokenizer, dir.Path);
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path, "model*").Select(Path.GetFileName));
    }
}
