using System.Text.Json.Nodes;
using Reasoner.Models;

namespace Reasoner.Tests.Models;

public class ModelConfigTests
{
    // Qwen3-0.6B's config.json as published.
    private const string Qwen3Config = """
        {
          "architectures": ["Qwen3ForCausalLM"], "attention_bias": false, "attention_dropout": 0.0,
          "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
          "hidden_size": 1024, "initializer_range": 0.02, "intermediate_size": 3072, "max_position_embeddings": 40960,
          "max_window_layers": 28, "model_type": "qwen3", "num_attention_heads": 16, "num_hidden_layers": 28,
          "num_key_value_heads": 8, "rms_norm_eps": 1e-06, "rope_scaling": null, "rope_theta": 1000000,
          "sliding_window": null, "tie_word_embeddings": true, "torch_dtype": "bfloat16",
          "transformers_version": "4.51.0", "use_cache": true, "use_sliding_window": false, "vocab_size": 151936
        }
        """;

    [Fact]
    public void ParsesQwen3Config()
    {
        var c = ModelConfig.Parse(Qwen3Config);
        Assert.Equal("qwen3", c.ModelType);
        Assert.Equal(128, c.HeadDim); // not hidden_size / heads = 64
        Assert.Equal(8, c.NumKeyValueHeads);
        Assert.Equal(1e6, c.RopeTheta);
        Assert.True(c.TieWordEmbeddings);
        Assert.True(c.HasQkNorm);
        Assert.False(c.HasQkvBias);
        Assert.Equal([151645], c.EosTokenIds);
        Assert.Equal("bfloat16", c.TorchDtype);
    }

    [Fact]
    public void WritesBackEveryKeyIncludingOnesItDoesNotModel()
    {
        var original = JsonNode.Parse(Qwen3Config)!.AsObject();
        var written = JsonNode.Parse(ModelConfig.Parse(Qwen3Config).ToJson())!.AsObject();
        foreach (var (key, value) in original)
            Assert.True(JsonNode.DeepEquals(value, written[key]), $"{key}: {value?.ToJsonString()} vs {written[key]?.ToJsonString()}");
        Assert.Equal(ModelConfig.Parse(Qwen3Config).ToJson(), ModelConfig.Parse(ModelConfig.Parse(Qwen3Config).ToJson()).ToJson());
    }

    [Fact]
    public void ReadsEosListsAndLlama3RopeScaling()
    {
        var c = ModelConfig.Parse("""
            {"architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256, "hidden_size": 2048,
             "intermediate_size": 8192, "num_hidden_layers": 16, "num_attention_heads": 32, "num_key_value_heads": 8,
             "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009], "rope_theta": 500000.0,
             "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                              "original_max_position_embeddings": 8192, "rope_type": "llama3"}}
            """);
        Assert.Equal([128001, 128008, 128009], c.EosTokenIds);
        Assert.Equal(64, c.HeadDim);
        Assert.Equal("llama3", c.RopeScaling!["rope_type"]!.GetValue<string>());
        Assert.Equal(1e-6, c.RmsNormEps); // HF default when absent
    }

    [Theory]
    [InlineData("""{"model_type": "llama"}""", "lacks 'num_attention_heads'")]
    [InlineData("""{"vocab_size": 10}""", "lacks 'model_type'")]
    [InlineData("not json", "not a valid config.json")]
    public void MalformedConfigsNameTheProblem(string json, string message) =>
        Assert.Contains(message, Assert.Throws<FormatException>(() => ModelConfig.Parse(json, "x/config.json")).Message);

    [Fact]
    public void UnsupportedRopeScalingAndHeadCountsAreRejected()
    {
        var yarn = Qwen3Config.Replace("\"rope_scaling\": null", "\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}");
        Assert.Contains("rope_scaling type 'yarn' is not supported", Assert.Throws<NotSupportedException>(() => ModelConfig.Parse(yarn)).Message);
        var badHeads = Qwen3Config.Replace("\"num_key_value_heads\": 8", "\"num_key_value_heads\": 5");
        Assert.Contains("must be a multiple of num_key_value_heads", Assert.Throws<FormatException>(() => ModelConfig.Parse(badHeads)).Message);
    }
}
