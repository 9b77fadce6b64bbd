using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;

namespace Reasoner.Training.Framework;

/// <summary>Why a training run's output folder cannot be used as asked.</summary>
public enum TrainingRunConflict
{
    /// <summary>Resuming was asked, and there is nothing to resume.</summary>
    NothingToResume,

    /// <summary>A fresh run was asked, and an unfinished one's checkpoint is there.</summary>
    Unfinished,

    /// <summary>A fresh run was asked, and a finished model is there.</summary>
    ModelPresent,

    /// <summary>The inputs do not say which model to train.</summary>
    AmbiguousModel,
}

/// <summary>A training run's output folder or inputs cannot be used as asked; <see cref="Conflict"/> says why, so a caller can say what to do.</summary>
public sealed class TrainingRunException(string message, TrainingRunConflict conflict) : Exception(message)
{
    public TrainingRunConflict Conflict { get; } = conflict;
}

/// <summary>What a finished run records beside its model: what trained, on what, from what, with which settings, and how it went.</summary>
/// <param name="Method">The method's name (pretrain, step-dpo, tpo …).</param>
/// <param name="ExampleKind">What one example is, for the counts' names: sequences, pairs, lists, groups.</param>
/// <param name="BaseModel">The model training started from; null for a model trained from scratch.</param>
public sealed record TrainingProvenance(string Method, string ExampleKind, string? BaseModel, IReadOnlyList<string> Inputs, TrainingSettings Settings,
    int Steps, int TrainExamples, int EvalExamples, TimeSpan Elapsed, ITrainingMetrics? EvalBefore, ITrainingMetrics? EvalAfter)
{
    /// <summary>Final figures a method reports beyond its metrics (pretraining: greedy accuracy, self-evaluation AUC, throughput).</summary>
    public IReadOnlyDictionary<string, double> Figures { get; init; } = new Dictionary<string, double>();

    private static readonly JsonSerializerOptions SettingsJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.KebabCaseLower) },
    };

    public JsonObject ToJson() => new()
    {
        ["method"] = Method,
        ["base_model"] = BaseModel,
        ["inputs"] = new JsonArray([.. Inputs.Select(i => JsonValue.Create(i))]),
        ["settings"] = JsonSerializer.SerializeToNode(Settings, Settings.GetType(), SettingsJson),
        ["seed"] = Settings.Seed,
        ["steps"] = Steps,
        [$"train_{ExampleKind}"] = TrainExamples,
        [$"eval_{ExampleKind}"] = EvalExamples,
        ["seconds"] = Math.Round(Elapsed.TotalSeconds, 1),
        ["eval_before"] = Json(EvalBefore?.Named("")),
        ["eval_after"] = Json(EvalAfter?.Named("")),
        ["final"] = Json(Figures.Count == 0 ? null : Figures),
    };

    private static JsonObject? Json(IEnumerable<KeyValuePair<string, double>>? figures) => figures is null ? null
        : new JsonObject(figures.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)(double.IsFinite(m.Value) ? JsonValue.Create(Math.Round(m.Value, 6)) : null))));
}

/// <summary>
/// The life of a training run's output folder, the same for every trainer: a fresh run refuses a folder that holds a
/// model or an unfinished run unless forced, and clears what it replaces; a resumed run needs the checkpoint and drops
/// the log lines of steps after it (they are trained again); the finished model, its prompt settings and its
/// provenance file are written whole to a staging folder and moved in; the resumable checkpoint goes once the model is saved.
/// </summary>
public sealed class TrainingRun
{
    public const string CheckpointFolder = "checkpoint";

    private TrainingRun(string directory, string provenanceFile, bool resuming)
    {
        Directory = directory;
        ProvenanceFile = provenanceFile;
        Resuming = resuming;
    }

    public string Directory { get; }

    /// <summary>The provenance file's name in the folder (dpo.json, tpo.json …).</summary>
    public string ProvenanceFile { get; }

    public bool Resuming { get; }

    public string CheckpointDirectory => Path.Combine(Directory, CheckpointFolder);

    public string LogPath => Path.Combine(Directory, TrainingLog.FileName);

    /// <summary>Each epoch's on-policy samples, kept until the model is saved: a resumed run needs the ones its policy drew.</summary>
    public string SamplesDirectory => Path.Combine(Directory, "samples");

    private bool samplesCleared;

    /// <summary>
    /// An epoch's on-policy samples. A resumed run reads what it drew before the stop (the policy that drew them is gone
    /// by then); a fresh run drops any older run's samples and draws. What is drawn is written whole before training on it.
    /// </summary>
    public T Samples<T>(string name, Func<T> draw)
    {
        var path = Path.Combine(SamplesDirectory, name + ".json");
        if (Resuming && File.Exists(path))
            return JsonSerializer.Deserialize<T>(File.ReadAllText(path)) ?? throw new InvalidDataException($"{path} is empty");
        if (!Resuming && !samplesCleared && System.IO.Directory.Exists(SamplesDirectory)) System.IO.Directory.Delete(SamplesDirectory, recursive: true);
        samplesCleared = true;
        var samples = draw();
        System.IO.Directory.CreateDirectory(SamplesDirectory);
        File.WriteAllText(path + ".tmp", JsonSerializer.Serialize(samples));
        File.Move(path + ".tmp", path, overwrite: true);
        return samples;
    }

    /// <summary>Checks the folder against what was asked; nothing is written yet.</summary>
    public static TrainingRun Open(string directory, string provenanceFile, bool resume, bool force)
    {
        directory = Path.GetFullPath(directory);
        bool unfinished = TrainingCheckpoint.Exists(Path.Combine(directory, CheckpointFolder));
        if (resume && !unfinished) throw new TrainingRunException($"{directory} holds no checkpoint of an unfinished run to resume", TrainingRunConflict.NothingToResume);
        // A model comes first: a finished pretraining run keeps its checkpoint (to be extended), and is still finished.
        if (!resume && (File.Exists(Path.Combine(directory, "config.json")) || File.Exists(Path.Combine(directory, LoraAdapters.ConfigFile))) && !force)
            throw new TrainingRunException($"{directory} already holds a model; choose another output folder or replace it", TrainingRunConflict.ModelPresent);
        if (unfinished && !resume && !force)
            throw new TrainingRunException($"{directory} holds the checkpoint of an unfinished run: resume it or start over", TrainingRunConflict.Unfinished);
        return new TrainingRun(directory, provenanceFile, resume);
    }

    /// <summary>Prepares the folder and opens its log: a fresh run starts clean, a resumed one keeps the lines up to its checkpoint.</summary>
    public TrainingLog StartLog()
    {
        System.IO.Directory.CreateDirectory(Directory);
        if (!Resuming)
        {
            foreach (var file in OutputFiles().Append(LogPath)) File.Delete(file);
            if (System.IO.Directory.Exists(CheckpointDirectory)) System.IO.Directory.Delete(CheckpointDirectory, recursive: true);
        }
        else if (File.Exists(LogPath))
        {
            int saved = TrainingCheckpoint.ReadProgress(CheckpointDirectory).Step;
            File.WriteAllLines(LogPath, File.ReadAllLines(LogPath).Where(l => TrainingLog.StepOf(l) is not { } step || step <= saved).ToList());
        }
        return new TrainingLog(Directory);
    }

    public void SaveCheckpoint(Trainer trainer, HfTokenizer tokenizer, TrainingProgress progress) =>
        TrainingCheckpoint.Save(CheckpointDirectory, trainer, tokenizer, progress);

    /// <summary>The saved run loaded into <paramref name="trainer"/> when resuming; null for a fresh run.</summary>
    public TrainingProgress? Restore(Trainer trainer) => Resuming ? TrainingCheckpoint.Restore(CheckpointDirectory, trainer) : null;

    /// <summary>
    /// Writes the model, its prompt settings and the provenance file whole to a staging folder, moves them in, then drops
    /// the resumable checkpoint and the run's samples. An interrupted save leaves the staging folder, not a model of mixed files.
    /// </summary>
    /// <param name="lora">The adapters when only they trained: the output is then a PEFT adapter folder over the base model.</param>
    /// <param name="promptSettings">How the model is prompted; null: the base model's.</param>
    /// <param name="dtype">The stored weights' type (float16 halves the bytes; loaders read it back as float32); null: as trained.</param>
    /// <param name="keepCheckpoint">Keep the checkpoint, so that a later --resume with more steps extends the run (pretraining).</param>
    public void Finish(CausalLanguageModel model, HfTokenizer tokenizer, TrainingProvenance provenance, LoraAdapters? lora = null,
        ModelPromptSettings? promptSettings = null, TorchSharp.torch.ScalarType? dtype = null, bool keepCheckpoint = false)
    {
        var staging = Directory + ".saving";
        if (System.IO.Directory.Exists(staging)) System.IO.Directory.Delete(staging, recursive: true);
        if (lora is null) CheckpointWriter.Save(model, tokenizer, staging, dtype: dtype);
        else
        {
            lora.Save(staging, provenance.BaseModel ?? throw new ArgumentException("LoRA adapters need a base model", nameof(provenance)));
            tokenizer.Save(staging);
        }
        (promptSettings ?? (provenance.BaseModel is { } baseModel ? ModelPromptSettings.Load(baseModel) : null))?.Save(staging);
        File.WriteAllText(Path.Combine(staging, ProvenanceFile), provenance.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        TrainingCurves.Write(LogPath, Path.Combine(staging, TrainingCurves.FileName), provenance.Method);
        foreach (var file in System.IO.Directory.GetFiles(staging))
            File.Move(file, Path.Combine(Directory, Path.GetFileName(file)), overwrite: true);
        System.IO.Directory.Delete(staging);
        if (!keepCheckpoint && System.IO.Directory.Exists(CheckpointDirectory)) System.IO.Directory.Delete(CheckpointDirectory, recursive: true);
        if (System.IO.Directory.Exists(SamplesDirectory)) System.IO.Directory.Delete(SamplesDirectory, recursive: true);
    }

    /// <summary>The files a finished run writes beside its log (a fresh run removes those of the model it replaces).</summary>
    private IEnumerable<string> OutputFiles() =>
        System.IO.Directory.GetFiles(Directory, "model*.safetensors*")
            .Concat(new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", ModelPromptSettings.FileName, ProvenanceFile, TrainingCurves.FileName, LoraAdapters.ConfigFile, LoraAdapters.WeightsFile }
                .Select(name => Path.Combine(Directory, name)));
}
