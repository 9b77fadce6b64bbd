using System.Text.Json;
using System.Text.Json.Nodes;
using Reasoner.Models.Tokenization;
using TorchSharp;
using static TorchSharp.torch;

namespace Reasoner.Models.Checkpoints;

/// <summary>File names of the Hugging Face model folder layout.</summary>
public static class CheckpointFiles
{
    public const string Config = "config.json";
    public const string GenerationConfig = "generation_config.json";
    public const string SingleWeights = "model.safetensors";
    public const string ShardIndex = "model.safetensors.index.json";

    public static string DtypeName(ScalarType type) => type switch
    {
        ScalarType.Float32 => "float32",
        ScalarType.BFloat16 => "bfloat16",
        ScalarType.Float16 => "float16",
        _ => throw new NotSupportedException($"model weights of dtype {type} are not supported (supported: float32, bfloat16, float16)"),
    };
}

public sealed record LoadedCheckpoint(CausalLanguageModel Model, ModelConfig Config, HfTokenizer Tokenizer);

/// <summary>Loads a Hugging Face model folder: config.json, model.safetensors (or shards + index), tokenizer files.</summary>
public static class CheckpointLoader
{
    /// <summary>A model folder, or a PEFT LoRA adapter folder (its base model with the adapters merged in, <see cref="LoraAdapters"/>).</summary>
    public static LoadedCheckpoint Load(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32)
    {
        var model = LoadModel(directory, device, dtype);
        return new LoadedCheckpoint(model, model.Config, LoadTokenizer(directory));
    }

    /// <summary>The config of a model folder, or of an adapter folder's base model, without reading any weights.</summary>
    public static ModelConfig LoadConfig(string directory) =>
        LoraAdapters.IsAdapterFolder(directory) ? LoadConfig(LoraAdapters.BaseModelOf(directory)) : ModelConfig.Load(Path.Combine(directory, CheckpointFiles.Config));

    /// <summary>The tokenizer of a model folder or adapter folder, without reading any weights.</summary>
    public static HfTokenizer LoadTokenizer(string directory) =>
        // An adapter folder written here carries its tokenizer; one from elsewhere has only the adapters.
        HfTokenizer.Load(File.Exists(Path.Combine(directory, "tokenizer.json")) || !LoraAdapters.IsAdapterFolder(directory)
            ? directory : LoraAdapters.BaseModelOf(directory));

    /// <param name="dtype">Runtime dtype; stored bf16/fp16/fp32 weights are converted to it tensor by tensor.</param>
    /// <param name="withValueHead">Also attach the value head saved beside a policy (<see cref="CausalLanguageModel.ValueHeadFile"/>, OREO's).</param>
    public static CausalLanguageModel LoadModel(string directory, Device? device = null, ScalarType dtype = ScalarType.Float32, bool withValueHead = false)
    {
        CheckpointFiles.DtypeName(dtype); // rejects an unsupported runtime dtype before any work
        if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"checkpoint {directory} does not exist");
        if (LoraAdapters.IsAdapterFolder(directory))
        {
            var merged = LoraAdapters.LoadMerged(directory, device, dtype);
            if (withValueHead) LoadValueHead(merged, directory);
            return merged;
        }
        var config = ModelConfig.Load(Path.Combine(directory, CheckpointFiles.Config));
        var model = new CausalLanguageModel(config);
        model.to(dtype);
        LoadWeights(model, directory);
        if (withValueHead) LoadValueHead(model, directory);
        if (device is not null) model.to(device);
        model.eval();
        return model;
    }

    /// <summary>
    /// Copies every tensor of the checkpoint into the model's parameter of the same name. Headers are checked first
    /// (every parameter present, every shape right, no unknown tensors) so a bad checkpoint fails before any data is read.
    /// </summary>
    public static void LoadWeights(CausalLanguageModel model, string directory)
    {
        var readers = OpenWeightFiles(directory);
        try
        {
            // A policy's value head lives in its side file (read below), not among the weights.
            bool valueHead = !model.Config.IsScorer && model.HasScoreHead;
            var parameters = model.named_parameters().Where(p => !valueHead || !p.name.StartsWith("score.", StringComparison.Ordinal)).ToDictionary(p => p.name, p => p.parameter);
            var sources = new Dictionary<string, SafeTensorsReader>();
            foreach (var reader in readers)
                foreach (var entry in reader.Entries.Values)
                {
                    if (!parameters.TryGetValue(entry.Name, out var p))
                    {
                        if (IsIgnorable(entry.Name, model.Config)) continue;
                        throw new InvalidDataException(
                            $"checkpoint {directory} has tensor '{entry.Name}' that a {model.Config.ModelType} model with this config does not have");
                    }
                    if (!entry.Shape.SequenceEqual(p.shape))
                        throw new InvalidDataException(
                            $"checkpoint {directory}: tensor '{entry.Name}' has shape [{string.Join(", ", entry.Shape)}] but the config expects [{string.Join(", ", p.shape)}]");
                    sources[entry.Name] = reader;
                }
            var missing = parameters.Keys.FirstOrDefault(name => !sources.ContainsKey(name));
            if (missing is not null) throw new InvalidDataException($"checkpoint {directory} lacks tensor '{missing}'");

            using (no_grad())
                foreach (var (name, p) in parameters)
                {
                    using var stored = sources[name].Read(name);
                    p.copy_(stored); // converts dtype and device
                }
            if (valueHead) LoadValueHead(model, directory);
        }
        finally
        {
            foreach (var r in readers) r.Dispose();
        }
    }

    /// <summary>Attaches and loads the value head saved beside a policy.</summary>
    public static void LoadValueHead(CausalLanguageModel model, string directory)
    {
        var path = Path.Combine(directory, CausalLanguageModel.ValueHeadFile);
        if (!File.Exists(path)) throw new FileNotFoundException($"{directory} has no value head ({CausalLanguageModel.ValueHeadFile}); train one with train oreo", path);
        if (!model.HasScoreHead) model.AttachValueHead();
        using var reader = SafeTensorsReader.Open(path);
        var parameters = model.named_parameters().Where(p => p.name.StartsWith("score.", StringComparison.Ordinal)).ToList();
        using var noGrad = no_grad();
        foreach (var (name, p) in parameters)
        {
            if (!reader.Entries.TryGetValue(name, out var entry)) throw new InvalidDataException($"{path} lacks tensor '{name}'");
            if (!entry.Shape.SequenceEqual(p.shape)) throw new InvalidDataException($"{path}: '{name}' has shape [{string.Join(", ", entry.Shape)}], the model needs [{string.Join(", ", p.shape)}]");
            using var stored = reader.Read(name);
            p.copy_(stored);
        }
    }

    // Tied models may still store lm_head.weight (a copy of the embeddings); old Llama checkpoints store rotary tables.
    private static bool IsIgnorable(string name, ModelConfig config) =>
        ((config.TieWordEmbeddings || config.IsScorer) && name == "lm_head.weight") || name.EndsWith(".rotary_emb.inv_freq");

    private static List<SafeTensorsReader> OpenWeightFiles(string directory)
    {
        string index = Path.Combine(directory, CheckpointFiles.ShardIndex), single = Path.Combine(directory, CheckpointFiles.SingleWeights);
        if (File.Exists(index))
        {
            var weightMap = JsonNode.Parse(File.ReadAllText(index))?["weight_map"]?.AsObject()
                ?? throw new InvalidDataException($"checkpoint {directory}: {CheckpointFiles.ShardIndex} has no weight_map");
            var readers = new List<SafeTensorsReader>();
            try
            {
                foreach (var file in weightMap.Select(kv => kv.Value!.GetValue<string>()).Distinct())
                {
                    string path = Path.Combine(directory, file);
                    if (!File.Exists(path)) throw new FileNotFoundException($"checkpoint {directory}: shard {file} named in {CheckpointFiles.ShardIndex} does not exist", path);
                    readers.Add(SafeTensorsReader.Open(path));
                }
                foreach (var (name, file) in weightMap)
                    if (!readers.Single(r => Path.GetFileName(r.Path) == file!.GetValue<string>()).Entries.ContainsKey(name))
                        throw new InvalidDataException($"checkpoint {directory}: {CheckpointFiles.ShardIndex} puts tensor '{name}' in {file} but that shard lacks it");
                return readers;
            }
            catch
            {
                foreach (var r in readers) r.Dispose();
                throw;
            }
        }
        if (File.Exists(single)) return [SafeTensorsReader.Open(single)];
        throw new FileNotFoundException($"checkpoint {directory} has neither {CheckpointFiles.SingleWeights} nor {CheckpointFiles.ShardIndex}");
    }
}

/// <summary>Saves a model in the Hugging Face folder layout that <see cref="CheckpointLoader"/> and HF transformers read.</summary>
public static class CheckpointWriter
{
    /// <param name="maxShardBytes">If the weights exceed this, they are split into model-0000i-of-0000n.safetensors shards plus an index.</param>
    /// <param name="dtype">Stored dtype (default: the model's), e.g. bfloat16 to halve the files.</param>
    public static void Save(CausalLanguageModel model, HfTokenizer tokenizer, string directory, long? maxShardBytes = null, ScalarType? dtype = null)
    {
        Directory.CreateDirectory(directory);
        // Old weight files would be read alongside (or instead of) the new ones.
        foreach (var stale in Directory.EnumerateFiles(directory, "model*.safetensors*")) File.Delete(stale);

        // A policy's value head goes to its own file, so that the weights stay a plain …ForCausalLM for every other reader.
        bool valueHead = !model.Config.IsScorer && model.HasScoreHead;
        var all = model.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).ToList();
        var parameters = valueHead ? all.Where(p => !p.name.StartsWith("score.", StringComparison.Ordinal)).ToList() : all;
        var storedType = dtype ?? parameters[0].Item2.dtype;
        var headPath = Path.Combine(directory, CausalLanguageModel.ValueHeadFile);
        if (File.Exists(headPath)) File.Delete(headPath);
        if (valueHead)
            using (no_grad())
                SafeTensors.Write(headPath, all.Where(p => p.name.StartsWith("score.", StringComparison.Ordinal)).ToList(), new Dictionary<string, string> { ["format"] = "pt" }, ScalarType.Float32);
        var config = model.Config with { TorchDtype = CheckpointFiles.DtypeName(storedType) };
        File.WriteAllText(Path.Combine(directory, CheckpointFiles.Config), config.ToJson());
        File.WriteAllText(Path.Combine(directory, CheckpointFiles.GenerationConfig), GenerationConfigJson(config, tokenizer));
        tokenizer.Save(directory);

        var shards = Shard(parameters, SafeTensors.ElementSize(storedType), maxShardBytes ?? long.MaxValue);
        var metadata = new Dictionary<string, string> { ["format"] = "pt" }; // transformers refuses files without it
        using var noGrad = no_grad();
        if (shards.Count == 1)
        {
            SafeTensors.Write(Path.Combine(directory, CheckpointFiles.SingleWeights), shards[0], metadata, storedType);
            return;
        }
        var weightMap = new JsonObject();
        for (int i = 0; i < shards.Count; i++)
        {
            string file = $"model-{i + 1:D5}-of-{shards.Count:D5}.safetensors";
            SafeTensors.Write(Path.Combine(directory, file), shards[i], metadata, storedType);
            foreach (var (name, _) in shards[i]) weightMap[name] = file;
        }
        var index = new JsonObject
        {
            ["metadata"] = new JsonObject { ["total_size"] = parameters.Sum(p => p.Item2.numel() * SafeTensors.ElementSize(storedType)) },
            ["weight_map"] = weightMap,
        };
        File.WriteAllText(Path.Combine(directory, CheckpointFiles.ShardIndex), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private static List<List<(string Name, Tensor Tensor)>> Shard(List<(string, Tensor)> tensors, long elementSize, long maxShardBytes)
    {
        var shards = new List<List<(string, Tensor)>> { new() };
        long size = 0;
        foreach (var (name, t) in tensors)
        {
            long bytes = t.numel() * elementSize;
            if (size > 0 && size + bytes > maxShardBytes)
            {
                shards.Add([]);
                size = 0;
            }
            shards[^1].Add((name, t));
            size += bytes;
        }
        return shards;
    }

    private static string GenerationConfigJson(ModelConfig config, HfTokenizer tokenizer)
    {
        var eos = config.EosTokenIds.Count > 0 ? config.EosTokenIds : [tokenizer.EosId];
        var json = new JsonObject
        {
            ["bos_token_id"] = config.BosTokenId ?? tokenizer.BosId,
            ["eos_token_id"] = eos.Count == 1 ? eos[0] : new JsonArray(eos.Select(i => (JsonNode?)JsonValue.Create(i)).ToArray()),
            ["pad_token_id"] = config.PadTokenId ?? tokenizer.EosId,
        };
        return json.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }
}
