using System.Text.Json.Nodes;
using Reasoner.Models.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Reasoner.Models;

/// <summary>
/// One LoRA adapter (Hu et al. 2021, arXiv 2106.09685): the frozen projection W x gains (α/r)·B A x, A [r, in] drawn as
/// PEFT draws it (Kaiming-uniform, a = √5) and B [out, r] zero, so training starts at the base model exactly.
/// </summary>
public sealed class LoraAdapter : nn.Module<Tensor, Tensor>
{
    public LoraAdapter(long inFeatures, long outFeatures, int rank, double alpha) : base(nameof(LoraAdapter))
    {
        lora_A = new Parameter(empty(rank, inFeatures));
        nn.init.kaiming_uniform_(lora_A, a: Math.Sqrt(5));
        lora_B = new Parameter(zeros(outFeatures, rank));
        Scale = alpha / rank;
        RegisterComponents();
    }

#pragma warning disable IDE1006 // PEFT's tensor names
    public Parameter lora_A { get; }

    public Parameter lora_B { get; }
#pragma warning restore IDE1006

    public double Scale { get; }

    public override Tensor forward(Tensor x) => nn.functional.linear(nn.functional.linear(x, lora_A), lora_B) * Scale;
}

/// <summary>
/// LoRA adapters on a model's projections, saved and loaded in PEFT's layout (<c>adapter_config.json</c>,
/// <c>adapter_model.safetensors</c> with tensors <c>base_model.model.&lt;module&gt;.lora_A.weight</c> and <c>…lora_B.weight</c>).
/// Attached, every base weight is frozen and each target projection's output gains its adapter's; loaded for use, the
/// adapters are merged into the base weights (W += (α/r)·B A), so the engine runs a plain model.
/// </summary>
public sealed class LoraAdapters : nn.Module
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";

    /// <summary>PEFT's default targets for Llama-family models are q_proj and v_proj; TPO's and our default take every projection.</summary>
    public static readonly IReadOnlyList<string> AllProjections = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"];

    private readonly Dictionary<string, LoraAdapter> adapters = new(StringComparer.Ordinal);

    /// <summary>The score head that trains whole beside the adapters (PEFT's <c>modules_to_save</c>), and whether it is a scorer's or a policy's value head.</summary>
    private (string Name, Tensor Tensor)[] head = [];
    private bool scorer;

    private LoraAdapters(int rank, double alpha) : base(nameof(LoraAdapters))
    {
        Rank = rank;
        Alpha = alpha;
    }

    public int Rank { get; }

    public double Alpha { get; }

    /// <summary>The adapters by the module path of the projection they adapt (model.layers.0.self_attn.q_proj …).</summary>
    public IReadOnlyDictionary<string, LoraAdapter> ByModule => adapters;

    /// <summary>Whether <paramref name="directory"/> holds a PEFT adapter rather than a whole model.</summary>
    public static bool IsAdapterFolder(string directory) =>
        File.Exists(Path.Combine(directory, ConfigFile)) && !File.Exists(Path.Combine(directory, CheckpointFiles.Config));

    /// <summary>
    /// Adds adapters of <paramref name="rank"/> to every projection named in <paramref name="targets"/>, registers them
    /// on the model (as its <c>lora</c> submodule, so they are in its parameters and its resumable checkpoints) and freezes
    /// every other weight.
    /// </summary>
    public static LoraAdapters Attach(CausalLanguageModel model, int rank, double alpha, IReadOnlyCollection<string>? targets = null)
    {
        if (rank < 1) throw new ArgumentOutOfRangeException(nameof(rank), $"the LoRA rank must be at least 1, got {rank}");
        targets ??= AllProjections;
        var lora = new LoraAdapters(rank, alpha);
        var device = model.parameters().First().device;
        var dtype = model.parameters().First().dtype;
        foreach (var p in model.parameters()) p.requires_grad_(false);
        foreach (var (name, module) in model.named_modules().ToList())
        {
            if (module is not Linear linear || !targets.Contains(name[(name.LastIndexOf('.') + 1)..])) continue;
            var weight = linear.weight!;
            var adapter = new LoraAdapter(weight.shape[1], weight.shape[0], rank, alpha);
            adapter.to(dtype).to(device);
            lora.adapters[name] = adapter;
            lora.register_module(name.Replace('.', '_'), adapter);
            linear.register_forward_hook((_, input, output) => output + adapter.call(input));
        }
        if (lora.adapters.Count == 0) throw new ArgumentException($"the model has no projection named {string.Join(", ", targets)}");
        // A score head is new, so it trains whole, as PEFT trains its modules_to_save.
        lora.head = [.. model.named_parameters().Where(p => p.name.StartsWith("score.", StringComparison.Ordinal)).Select(p => (p.name, (Tensor)p.parameter))];
        foreach (var (_, t) in lora.head) t.requires_grad_(true);
        lora.scorer = model.Config.IsScorer;
        model.register_module("lora", lora);
        return lora;
    }

    /// <summary>Writes the adapters in PEFT's layout; <paramref name="baseModel"/> is recorded as base_model_name_or_path.</summary>
    public void Save(string directory, string baseModel)
    {
        Directory.CreateDirectory(directory);
        var config = new JsonObject
        {
            ["peft_type"] = "LORA",
            ["task_type"] = scorer ? "TOKEN_CLS" : "CAUSAL_LM",
            ["base_model_name_or_path"] = baseModel,
            ["r"] = Rank,
            ["lora_alpha"] = Alpha,
            ["lora_dropout"] = 0.0,
            ["bias"] = "none",
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["target_modules"] = new JsonArray([.. adapters.Keys.Select(k => k[(k.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal).Select(t => JsonValue.Create(t))]),
        };
        if (scorer) config["modules_to_save"] = new JsonArray("score");
        File.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true }) + "\n");
        var tensors = adapters.SelectMany(a => new[]
        {
            ($"base_model.model.{a.Key}.lora_A.weight", (Tensor)a.Value.lora_A),
            ($"base_model.model.{a.Key}.lora_B.weight", (Tensor)a.Value.lora_B),
        }).ToList();
        // A scorer's head goes with the adapters under PEFT's saved name for a modules_to_save layer; a policy's value
        // head goes to the same side file as beside a whole model.
        if (scorer) tensors.AddRange(head.Select(h => ($"base_model.model.{h.Name}", h.Tensor)));
        using (no_grad())
        {
            SafeTensors.Write(Path.Combine(directory, WeightsFile), tensors);
            if (!scorer && head.Length > 0)
                SafeTensors.Write(Path.Combine(directory, CausalLanguageModel.ValueHeadFile), head, new Dictionary<string, string> { ["format"] = "pt" }, ScalarType.Float32);
        }
    }

    /// <summary>Whether an adapter folder adapts a scorer (PEFT task_type TOKEN_CLS: a verifier's adapters and head).</summary>
    public static bool IsScorerAdapter(string directory) => IsAdapterFolder(directory) && (string?)ReadConfig(directory)["task_type"] == "TOKEN_CLS";

    /// <summary>The base model an adapter folder names: an absolute path, or one relative to the folder.</summary>
    public static string BaseModelOf(string directory)
    {
        var baseModel = (string?)ReadConfig(directory)["base_model_name_or_path"]
            ?? throw new InvalidDataException($"{Path.Combine(directory, ConfigFile)} names no base_model_name_or_path");
        return Path.IsPathRooted(baseModel) ? baseModel : Path.GetFullPath(Path.Combine(directory, baseModel));
    }

    private static JsonObject ReadConfig(string directory)
    {
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, ConfigFile)))?.AsObject()
            ?? throw new InvalidDataException($"{Path.Combine(directory, ConfigFile)} is empty");
        if ((string?)config["peft_type"] is not "LORA") throw new InvalidDataException($"{Path.Combine(directory, ConfigFile)}: peft_type must be LORA");
        return config;
    }

    /// <summary>
    /// The base model named by the adapter folder (an absolute path, or one relative to the folder) with the adapters merged
    /// into its weights. A tensor of an unknown module, or of the wrong shape, is refused before anything is merged.
    /// </summary>
    public static CausalLanguageModel LoadMerged(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var config = ReadConfig(directory);
        var baseModel = BaseModelOf(directory);
        int rank = (int)config["r"]!;
        double alpha = (double)config["lora_alpha"]!;
        var model = CheckpointLoader.LoadModel(baseModel, dtype: dtype);
        bool tokenClassification = (string?)config["task_type"] == "TOKEN_CLS";
        if (tokenClassification)
        {
            // The verifier over a policy: its decoder with the saved head (PEFT's modules_to_save).
            var policy = model;
            model = CausalLanguageModel.ScorerFrom(policy);
            policy.Dispose();
        }
        var modules = model.named_modules().Where(m => m.module is Linear).ToDictionary(m => m.name, m => (Linear)m.module);
        using var reader = SafeTensorsReader.Open(Path.Combine(directory, WeightsFile));
        if (tokenClassification)
            using (no_grad())
                foreach (var (name, p) in model.named_parameters().Where(p => p.name.StartsWith("score.", StringComparison.Ordinal)).ToList())
                {
                    if (!reader.Entries.ContainsKey("base_model.model." + name))
                        throw new InvalidDataException($"{Path.Combine(directory, WeightsFile)} lacks the scorer's head 'base_model.model.{name}'");
                    using var stored = reader.Read("base_model.model." + name);
                    p.copy_(stored);
                }
        var pairs = new List<(Linear Target, string A, string B)>();
        foreach (var name in reader.Entries.Keys.Where(n => n.EndsWith(".lora_A.weight", StringComparison.Ordinal)))
        {
            var module = name["base_model.model.".Length..^".lora_A.weight".Length];
            if (!name.StartsWith("base_model.model.", StringComparison.Ordinal) || !modules.TryGetValue(module, out var linear))
                throw new InvalidDataException($"{Path.Combine(directory, WeightsFile)}: tensor '{name}' adapts no projection of the base model");
            var b = $"base_model.model.{module}.lora_B.weight";
            if (!reader.Entries.TryGetValue(b, out var bEntry)) throw new InvalidDataException($"{Path.Combine(directory, WeightsFile)} lacks '{b}'");
            var aEntry = reader.Entries[name];
            if (!aEntry.Shape.SequenceEqual([rank, linear.weight!.shape[1]]) || !bEntry.Shape.SequenceEqual([linear.weight.shape[0], rank]))
                throw new InvalidDataException($"{Path.Combine(directory, WeightsFile)}: '{module}' adapters have shapes [{string.Join(", ", aEntry.Shape)}] and [{string.Join(", ", bEntry.Shape)}], not rank {rank} over [{string.Join(", ", linear.weight.shape)}]");
            pairs.Add((linear, name, b));
        }
        using (no_grad())
            foreach (var (linear, a, b) in pairs)
            {
                using var aTensor = reader.Read(a).to(ScalarType.Float32);
                using var bTensor = reader.Read(b).to(ScalarType.Float32);
                using var delta = bTensor.matmul(aTensor) * (alpha / rank);
                linear.weight!.add_(delta.to(linear.weight.dtype));
            }
        if (device is not null) model.to(device);
        model.eval();
        return model;
    }
}
