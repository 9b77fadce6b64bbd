using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;
using TorchSharp;

namespace Reasoner.Training.Pretraining;

public sealed record PretrainResult(string ModelDirectory, TrainingProgress Progress, long Parameters, IReadOnlyDictionary<string, double> Accuracy);

/// <summary>
/// Trains a small Llama-architecture model from scratch on the built-in tasks' reference solutions: learn a
/// byte-level BPE tokenizer on the training text, then minimise the cross-entropy of solution tokens given the
/// bare prompt. The run folder gets the final model (Hugging Face layout plus reasoner.json), a resumable
/// <c>checkpoint/</c> and <c>train_log.jsonl</c>.
/// </summary>
public sealed class Pretrainer(PretrainSettings settings, PromptTemplate prompt)
{
    public const string CheckpointFolder = "checkpoint";

    /// <summary>A time-budgeted run fixes its schedule length after this many steps, from their measured speed.</summary>
    private const int CalibrationSteps = 20;

    /// <summary>Batches sorted by length together; more means less padding but lengths drift less evenly through training.</summary>
    private const int BucketWindow = 16;

    public Action<string>? OnMessage { get; init; }

    /// <summary>After each optimizer step: the step's result and the schedule's current length.</summary>
    public Action<StepResult, int>? OnStep { get; init; }

    /// <summary>After each accuracy measurement: the step and per-task greedy accuracy with one example solution.</summary>
    public Action<int, IReadOnlyDictionary<string, (double Accuracy, string Example)>>? OnEvaluation { get; init; }

    public PretrainResult Run(CancellationToken cancel = default)
    {
        settings.Validate();
        torch.set_num_threads(settings.Threads);
        torch.manual_seed(settings.Seed);
        var device = TorchRuntime.ParseDevice(settings.Device);
        var corpus = new SolutionCorpus(prompt);
        string output = Path.GetFullPath(settings.OutputDirectory), checkpoint = Path.Combine(output, CheckpointFolder);
        bool resuming = settings.Resume && TrainingCheckpoint.Exists(checkpoint);

        var tokenizer = resuming ? HfTokenizer.Load(checkpoint) : TrainTokenizer(corpus);
        var model = new CausalLanguageModel(settings.ModelConfig(tokenizer.VocabSize, tokenizer.EosId));
        model.InitializeWeights();
        model.to(device);
        using var trainer = new Trainer(model, new TrainerOptions
        {
            LearningRate = settings.LearningRate,
            MinLearningRate = settings.LearningRate / 10,
            WarmupSteps = settings.WarmupSteps,
            TotalSteps = settings.Steps ?? int.MaxValue,
            WeightDecay = settings.WeightDecay,
            AccumulationSteps = settings.Accumulation,
        });
        var progress = new TrainingProgress { TotalSteps = trainer.Schedule.TotalSteps };
        if (resuming)
        {
            progress = TrainingCheckpoint.Restore(checkpoint, trainer);
            // --steps on a resumed run sets its new length; a time-budgeted run keeps the length it settled on.
            trainer.Schedule = trainer.Schedule with { TotalSteps = settings.Steps ?? progress.TotalSteps };
            OnMessage?.Invoke($"resumed from {checkpoint} at step {progress.Step}");
        }
        OnMessage?.Invoke($"model: {model.ParameterCount():N0} parameters ({settings.Layers} layers, hidden {settings.Hidden}, {settings.Heads} heads / {settings.KvHeads} kv), vocabulary {tokenizer.VocabSize}");

        using var log = new TrainingLog(output);
        var heldOut = settings.Tasks.Names.ToDictionary(t => t, t => (IReadOnlyList<Problem>)BuiltinTasks.TestSet(t).Take(settings.EvalProblems).ToArray());
        var monitor = new AccuracyMonitor(heldOut, corpus, maxTokens: settings.SeqLen);
        // Deterministic stream: a resumed run skips exactly the micro-batches it has already trained on.
        using var batches = Batches(corpus, tokenizer).Skip(progress.Step * settings.Accumulation).GetEnumerator();
        var accuracy = new Dictionary<string, double>();

        while (trainer.Step < trainer.Schedule.TotalSteps && !cancel.IsCancellationRequested)
        {
            if (settings.Minutes is { } budget && progress.Seconds >= budget * 60) break;
            var micro = new List<TokenBatch>();
            while (micro.Count < settings.Accumulation && batches.MoveNext()) micro.Add(TokenBatch.Collate(batches.Current, tokenizer.EosId, device));
            var step = trainer.TrainStep(micro, batch => SequenceLogProbs.Compute(model, batch).MeanNegativeLogLikelihood());
            foreach (var batch in micro) batch.Dispose();
            progress = progress.After(step);
            if (settings.Minutes is { } minutes && step.Step == CalibrationSteps && !resuming)
            {
                int total = step.Step + (int)((minutes * 60 - progress.Seconds) / (progress.Seconds / step.Step));
                trainer.Schedule = trainer.Schedule with { TotalSteps = Math.Max(total, step.Step + 1) };
                OnMessage?.Invoke($"{progress.Seconds / step.Step:0.00} s/step: the {minutes} minute budget allows {trainer.Schedule.TotalSteps} steps");
            }
            progress = progress with { TotalSteps = trainer.Schedule.TotalSteps };

            if (step.Step % settings.LogEvery == 0) log.Write(step);
            OnStep?.Invoke(step, trainer.Schedule.TotalSteps);
            if (step.Step % settings.EvalEvery == 0) accuracy = Evaluate(monitor, model, tokenizer, log, step.Step);
            if (step.Step % settings.SaveEvery == 0) SaveCheckpoint(checkpoint, trainer, tokenizer, progress);
        }

        if (progress.Step % settings.EvalEvery != 0) accuracy = Evaluate(monitor, model, tokenizer, log, progress.Step);
        SaveCheckpoint(checkpoint, trainer, tokenizer, progress);
        CheckpointWriter.Save(model, tokenizer, output);
        PromptSettings().Save(output);
        return new PretrainResult(output, progress, model.ParameterCount(), accuracy);
    }

    private HfTokenizer TrainTokenizer(SolutionCorpus corpus)
    {
        var tokenizer = ByteLevelBpeTrainer.Train(
            corpus.TokenizerText(settings.Tasks.Names, settings.Difficulty, settings.Seed, settings.TokenizerProblemsPerTask), settings.VocabSize);
        // The pre-tokenizer isolates every digit, so numbers are digit sequences and arithmetic stays digit-aligned.
        if (tokenizer.Encode("123").Length != 3) throw new InvalidOperationException("the trained tokenizer merges digits; arithmetic needs one token per digit");
        OnMessage?.Invoke($"tokenizer: {tokenizer.VocabSize} tokens learned from {settings.TokenizerProblemsPerTask} problems per task");
        return tokenizer;
    }

    private IEnumerable<IReadOnlyList<TrainingSequence>> Batches(SolutionCorpus corpus, HfTokenizer tokenizer)
    {
        var sequences = SolutionCorpus.TrainProblems(settings.Tasks, settings.Difficulty, settings.Seed)
            .Select(p => corpus.Encode(p, tokenizer))
            .Where(s => s.Length <= settings.SeqLen);
        return LengthBuckets.Batch(sequences, settings.Batch, BucketWindow, new Random(settings.Seed));
    }

    private Dictionary<string, double> Evaluate(AccuracyMonitor monitor, CausalLanguageModel model, HfTokenizer tokenizer, TrainingLog log, int step)
    {
        var results = monitor.Measure(model, tokenizer);
        log.Write(step, results.Select(r => new KeyValuePair<string, double>($"greedy_{r.Key}", r.Value.Accuracy)));
        OnEvaluation?.Invoke(step, results);
        return results.ToDictionary(r => r.Key, r => r.Value.Accuracy);
    }

    private void SaveCheckpoint(string directory, Trainer trainer, HfTokenizer tokenizer, TrainingProgress progress)
    {
        TrainingCheckpoint.Save(directory, trainer, tokenizer, progress);
        PromptSettings().Save(directory);
    }

    /// <summary>
    /// Samples per wanted step that search draws from a model made here. Such a model gives its favourite step most of
    /// the probability, so k = 2 plain samples are usually one step and MCTS trees come out nearly linear; see the
    /// README's built-in model section for the measurement.
    /// </summary>
    public const int SearchOversampling = 4;

    private ModelPromptSettings PromptSettings() => new()
    {
        Prompt = PromptLibrary.SolveBare,
        Oversampling = SearchOversampling,
        TrainedOn = settings.Tasks.Names,
        Difficulty = settings.Difficulty,
    };
}
