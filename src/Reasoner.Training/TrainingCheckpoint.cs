using System.Text.Json;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;

namespace Reasoner.Training;

/// <summary>How far a run has got, saved beside its weights so a resumed run picks up where it stopped.</summary>
public sealed record TrainingProgress
{
    public int Step { get; init; }

    /// <summary>Steps the learning-rate schedule spans.</summary>
    public int TotalSteps { get; init; }

    /// <summary>Real tokens the forward passes have processed (prompt and target).</summary>
    public long Tokens { get; init; }

    public long TargetTokens { get; init; }

    /// <summary>Training time spent so far, summed over resumes, so a time budget spans them.</summary>
    public double Seconds { get; init; }

    public double LastLoss { get; init; } = double.NaN;

    /// <summary>The progress once <paramref name="step"/> is taken.</summary>
    public TrainingProgress After(StepResult step) => this with
    {
        Step = step.Step,
        Tokens = Tokens + step.Tokens,
        TargetTokens = TargetTokens + step.TargetTokens,
        Seconds = Seconds + step.Duration.TotalSeconds,
        LastLoss = step.Loss,
    };
}

/// <summary>
/// A resumable checkpoint: the model in the Hugging Face layout (so any checkpoint is also a usable model),
/// the optimizer moments (<c>optimizer.bin</c>) and the progress (<c>trainer_state.json</c>). It is written to a
/// temporary folder and swapped in, so a crash while saving leaves the previous checkpoint whole.
/// </summary>
public static class TrainingCheckpoint
{
    public const string OptimizerFile = "optimizer.bin";
    public const string StateFile = "trainer_state.json";

    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals };

    public static void Save(string directory, Trainer trainer, HfTokenizer tokenizer, TrainingProgress progress)
    {
        string full = Path.GetFullPath(directory), staging = full + ".saving", retired = full + ".old";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        CheckpointWriter.Save(trainer.Model, tokenizer, staging);
        trainer.SaveOptimizerState(Path.Combine(staging, OptimizerFile));
        File.WriteAllText(Path.Combine(staging, StateFile), JsonSerializer.Serialize(progress, Json));
        if (Directory.Exists(retired)) Directory.Delete(retired, recursive: true);
        if (Directory.Exists(full)) Directory.Move(full, retired);
        Directory.Move(staging, full);
        if (Directory.Exists(retired)) Directory.Delete(retired, recursive: true);
    }

    public static bool Exists(string directory) => File.Exists(Path.Combine(directory, StateFile));

    public static TrainingProgress ReadProgress(string directory) =>
        JsonSerializer.Deserialize<TrainingProgress>(File.ReadAllText(Path.Combine(directory, StateFile)), Json)
        ?? throw new InvalidDataException($"{Path.Combine(directory, StateFile)} is empty");

    /// <summary>Loads the checkpoint's weights into the trainer's model and its optimizer state into the trainer.</summary>
    public static TrainingProgress Restore(string directory, Trainer trainer)
    {
        var progress = ReadProgress(directory);
        CheckpointLoader.LoadWeights(trainer.Model, directory);
        trainer.Resume(Path.Combine(directory, OptimizerFile), progress.Step);
        return progress;
    }
}
