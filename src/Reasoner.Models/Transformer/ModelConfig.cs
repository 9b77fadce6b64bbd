using System.Text.Json;
using System.Text.Json.Nodes;

namespace Reasoner.Models;

/// <summary>
/// The subset of a Hugging Face <c>config.json</c> that a Llama / Qwen2 / Qwen3 decoder needs.
/// Keys this record does not model are kept in <see cref="OtherKeys"/> so a loaded config is written back unchanged.
/// </summary>
public sealed record ModelConfig
{
    public static readonly IReadOnlyDictionary<string, string> ArchitectureByModelType = new Dictionary<string, string>
    {
        ["llama"] = "LlamaForCausalLM",
        ["qwen2"] = "Qwen2ForCausalLM",
        ["qwen3"] = "Qwen3ForCausalLM",
    };

    /// <summary>
    /// The scorer architectures: the decoder and a linear <c>score</c> over its final hidden state, one scalar per position
    /// (num_labels = 1). A Tree-PLV step verifier and an OREO value model are saved so.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> ScorerByModelType = new Dictionary<string, string>
    {
        ["llama"] = "LlamaForTokenClassification",
        ["qwen2"] = "Qwen2ForTokenClassification",
        ["qwen3"] = "Qwen3ForTokenClassification",
    };

    public string ModelType { get; init; } = "llama";
    public IReadOnlyList<string> Architectures { get; init; } = ["LlamaForCausalLM"];
    public int VocabSize { get; init; }
    public int HiddenSize { get; init; }
    public int IntermediateSize { get; init; }
    public int NumHiddenLayers { get; init; }
    public int NumAttentionHeads { get; init; }
    public int NumKeyValueHeads { get; init; }
    /// <summary>Explicit head size (Qwen3 decouples it from hidden_size / heads); null means hidden_size / heads.</summary>
    public int? HeadDimOverride { get; init; }
    public double RmsNormEps { get; init; } = 1e-6;
    public double RopeTheta { get; init; } = 10000.0;
    /// <summary>HF <c>rope_scaling</c> object (null, or type "linear" / "llama3"), kept as JSON.</summary>
    public JsonObject? RopeScaling { get; init; }
    public int MaxPositionEmbeddings { get; init; } = 2048;
    public bool TieWordEmbeddings { get; init; }
    /// <summary>Llama / Qwen3 <c>attention_bias</c>: bias on q, k, v and o. Qwen2 always has q/k/v bias and never o bias.</summary>
    public bool AttentionBias { get; init; }
    public bool MlpBias { get; init; }
    public double InitializerRange { get; init; } = 0.02;
    public int? BosTokenId { get; init; }
    public IReadOnlyList<int> EosTokenIds { get; init; } = [];
    public int? PadTokenId { get; init; }
    /// <summary>dtype the weights were saved in ("float32", "bfloat16", ...); the runtime dtype is a load option.</summary>
    public string TorchDtype { get; init; } = "float32";
    public JsonObject OtherKeys { get; init; } = new();

    public int HeadDim => HeadDimOverride ?? HiddenSize / NumAttentionHeads;

    /// <summary>A scorer (…ForTokenClassification): a <c>score</c> head instead of the language-model head.</summary>
    public bool IsScorer => Architectures.Any(ScorerByModelType.Values.Contains);

    /// <summary>The classifier's label count, as HF writes it (<c>id2label</c>) or as given (<c>num_labels</c>); 2 when neither is there, HF's default.</summary>
    public int Labels => OtherKeys["id2label"] is JsonObject labels ? labels.Count : OtherKeys["num_labels"]?.GetValue<int>() ?? 2;

    /// <summary>This decoder as a one-label scorer, in the layout HF's …ForTokenClassification reads.</summary>
    public ModelConfig AsScorer()
    {
        var other = (JsonObject)OtherKeys.DeepClone();
        other.Remove("num_labels");
        other["id2label"] = new JsonObject { ["0"] = "LABEL_0" };
        other["label2id"] = new JsonObject { ["LABEL_0"] = 0 };
        return this with { Architectures = [ScorerByModelType[ModelType]], OtherKeys = other };
    }
    public bool HasQkvBias => ModelType == "qwen2" || AttentionBias;
    public bool HasOutputBias => ModelType != "qwen2" && AttentionBias;
    public bool HasQkNorm => ModelType == "qwen3";

    private static readonly HashSet<string> ModeledKeys =
    [
        "model_type", "architectures", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
        "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps", "rope_theta", "rope_scaling",
        "max_position_embeddings", "tie_word_embeddings", "attention_bias", "mlp_bias", "initializer_range",
        "bos_token_id", "eos_token_id", "pad_token_id", "torch_dtype", "dtype",
    ];

    /// <summary>
    /// Weights of the matrices (projections, MLP, embeddings and an untied head), norms and biases left out: the model's
    /// size as its matrix products see it, known from the config before any weight is read.
    /// </summary>
    public long MatrixWeights =>
        NumHiddenLayers * ((long)HiddenSize * HeadDim * (2L * NumAttentionHeads + 2L * NumKeyValueHeads) + 3L * HiddenSize * IntermediateSize)
        + (long)VocabSize * HiddenSize * (TieWordEmbeddings ? 1 : 2);

    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"model config {path} does not exist", path);
        return Parse(File.ReadAllText(path), path);
    }

    /// <param name="source">Named in error messages (usually the file path).</param>
    public static ModelConfig Parse(string json, string source = "config.json")
    {
        JsonObject root;
        try { root = JsonNode.Parse(json) as JsonObject ?? throw new FormatException("not a JSON object"); }
        catch (Exception e) when (e is JsonException or FormatException)
        {
            throw new FormatException($"{source}: not a valid config.json ({e.Message})", e);
        }

        string modelType = root["model_type"]?.GetValue<string>()
            ?? throw new FormatException($"{source}: lacks 'model_type'");
        if (!ArchitectureByModelType.ContainsKey(modelType))
            throw new NotSupportedException(
                $"{source}: model_type '{modelType}' is not supported (supported: {string.Join(", ", ArchitectureByModelType.Keys)})");
        var architectures = root["architectures"] is JsonArray a
            ? a.Select(n => n!.GetValue<string>()).ToArray()
            : [ArchitectureByModelType[modelType]];
        var unknown = architectures.Where(x => !ArchitectureByModelType.Values.Contains(x) && !ScorerByModelType.Values.Contains(x)).ToArray();
        if (unknown.Length > 0)
            throw new NotSupportedException(
                $"{source}: architecture '{unknown[0]}' is not supported (supported: {string.Join(", ", ArchitectureByModelType.Values.Concat(ScorerByModelType.Values))})");

        int Required(string key) => root[key]?.GetValue<int>() ?? throw new FormatException($"{source}: lacks '{key}'");
        int heads = Required("num_attention_heads");
        var other = new JsonObject();
        foreach (var (key, value) in root)
            if (!ModeledKeys.Contains(key)) other[key] = value?.DeepClone();

        var config = new ModelConfig
        {
            ModelType = modelType,
            Architectures = architectures,
            VocabSize = Required("vocab_size"),
            HiddenSize = Required("hidden_size"),
            IntermediateSize = Required("intermediate_size"),
            NumHiddenLayers = Required("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeads = root["num_key_value_heads"]?.GetValue<int>() ?? heads,
            HeadDimOverride = root["head_dim"]?.GetValue<int>(),
            RmsNormEps = root["rms_norm_eps"]?.GetValue<double>() ?? 1e-6,
            RopeTheta = root["rope_theta"]?.GetValue<double>() ?? 10000.0,
            RopeScaling = root["rope_scaling"] is JsonObject rs ? (JsonObject)rs.DeepClone() : null,
            MaxPositionEmbeddings = root["max_position_embeddings"]?.GetValue<int>() ?? 2048,
            TieWordEmbeddings = root["tie_word_embeddings"]?.GetValue<bool>() ?? false,
            AttentionBias = root["attention_bias"]?.GetValue<bool>() ?? false,
            MlpBias = root["mlp_bias"]?.GetValue<bool>() ?? false,
            InitializerRange = root["initializer_range"]?.GetValue<double>() ?? 0.02,
            BosTokenId = root["bos_token_id"]?.GetValue<int>(),
            EosTokenIds = IntOrList(root["eos_token_id"]),
            PadTokenId = root["pad_token_id"]?.GetValue<int>(),
            // transformers >= 4.56 writes "dtype"; older versions "torch_dtype".
            TorchDtype = (root["torch_dtype"] ?? root["dtype"])?.GetValue<string>() ?? "float32",
            OtherKeys = other,
        };
        config.Validate(source);
        if (config.IsScorer && config.Labels != 1)
            throw new NotSupportedException($"{source}: a {architectures[0]} with {config.Labels} labels is not a scorer; one label (one scalar per position) is supported");
        return config;
    }

    private static int[] IntOrList(JsonNode? node) => node switch
    {
        null => [],
        JsonArray list => list.Select(n => n!.GetValue<int>()).ToArray(),
        _ => [node.GetValue<int>()],
    };

    public void Validate(string source = "config")
    {
        void Check(bool ok, string problem) { if (!ok) throw new FormatException($"{source}: {problem}"); }
        Check(HiddenSize > 0 && IntermediateSize > 0 && NumHiddenLayers > 0 && VocabSize > 0, "sizes must be positive");
        Check(NumAttentionHeads > 0 && NumKeyValueHeads > 0 && NumAttentionHeads % NumKeyValueHeads == 0,
            $"num_attention_heads ({NumAttentionHeads}) must be a multiple of num_key_value_heads ({NumKeyValueHeads})");
        Check(HeadDimOverride is not null || HiddenSize % NumAttentionHeads == 0,
            $"hidden_size ({HiddenSize}) is not a multiple of num_attention_heads ({NumAttentionHeads}) and head_dim is not given");
        Check(HeadDim % 2 == 0, $"head_dim ({HeadDim}) must be even for rotary embeddings");
        string? ropeType = (RopeScaling?["rope_type"] ?? RopeScaling?["type"])?.GetValue<string>();
        if (ropeType is not (null or "default" or "linear" or "llama3"))
            throw new NotSupportedException($"{source}: rope_scaling type '{ropeType}' is not supported (supported: default, linear, llama3)");
    }

    public string ToJson()
    {
        var root = new JsonObject
        {
            ["architectures"] = new JsonArray(Architectures.Select(a => (JsonNode?)JsonValue.Create(a)).ToArray()),
            ["model_type"] = ModelType,
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumKeyValueHeads,
            ["head_dim"] = HeadDim,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["rope_scaling"] = RopeScaling?.DeepClone(),
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["attention_bias"] = AttentionBias,
            ["mlp_bias"] = MlpBias,
            ["initializer_range"] = InitializerRange,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenIds.Count == 1
                ? EosTokenIds[0]
                : new JsonArray(EosTokenIds.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray()),
            ["pad_token_id"] = PadTokenId,
            ["torch_dtype"] = TorchDtype,
            ["use_cache"] = true,
        };
        foreach (var (key, value) in OtherKeys)
            root[key] = value?.DeepClone();
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
