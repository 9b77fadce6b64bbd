using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Models.Tokenization;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using TorchSharp;

namespace Reasoner.Training.Pretraining;

public sealed record PretrainResult(string ModelDirectory, TrainingProgress Progress, long Parameters, IReadOnlyDictionary<string, double> Accuracy,
    IReadOnlyDictionary<string, double?> SelfEvalAuc, ThroughputSummary Throughput)
{
    /// <summary>Teacher-forced logic look-up accuracy at the last measurement (<see cref="LookupMonitor"/>); null without logic.</summary>
    public LookupAccuracy? Lookups { get; init; }

    /// <summary>Self-evaluation AUC on held-out own steps at the last measurement; empty without an own-step phase.</summary>
    public IReadOnlyDictionary<string, double?> OwnStepAuc { get; init; } = new Dictionary<string, double?>();
}

/// <summary>What one evaluation during pretraining measured.</summary>
internal sealed record Measurement(IReadOnlyDictionary<string, double> Accuracy, IReadOnlyDictionary<string, double?> SelfEvalAuc, LookupAccuracy? Lookups,
    IReadOnlyDictionary<string, double?> OwnStepAuc)
{
    public static readonly Measurement None = new(new Dictionary<string, double>(), new Dictionary<string, double?>(), null, new Dictionary<string, double?>());
}

/// <summary>
/// Model FLOPs per second over the training time (evaluation and checkpoints excluded), and the matmul peak of the
/// same device, threads and matmul dtype (fp32, or bf16 for mixed precision) measured in the same run:
/// <see cref="Utilisation"/> is their ratio (MFU). <see cref="FastestPeakFlopsPerSecond"/>, where measured, is the
/// fastest of the run's peak measurements, the stricter denominator.
/// </summary>
public sealed record ThroughputSummary(double ModelFlops, double Seconds, double PeakFlopsPerSecond, string PeakDtype = "fp32", double FastestPeakFlopsPerSecond = 0)
{
    public double FlopsPerSecond => Seconds > 0 ? ModelFlops / Seconds : 0;

    public double Utilisation => PeakFlopsPerSecond > 0 ? FlopsPerSecond / PeakFlopsPerSecond : 0;

    public double UtilisationOfFastestPeak => FastestPeakFlopsPerSecond > 0 ? FlopsPerSecond / FastestPeakFlopsPerSecond : 0;
}

/// <summary>
/// Trains a small Llama-architecture model from scratch on the built-in tasks' reference solutions: learn a
/// byte-level BPE tokenizer on the training text, then minimise the cross-entropy of solution tokens given the
/// bare prompt. The run folder gets the final model (Hugging Face layout plus reasoner.json), a resumable
/// <c>checkpoint/</c> and <c>train_log.jsonl</c>.
/// </summary>
public sealed class Pretrainer(PretrainSettings settings, PromptTemplate prompt, PromptTemplate selfEvalPrompt, PromptTemplate lookupPrompt)
{
    /// <summary>The provenance file beside the model.</summary>
    public const string ProvenanceFile = "pretrain.json";

    /// <summary>Logic test problems (the first of the fixed set) the look-up monitor measures on: a few hundred look-ups.</summary>
    public const int LookupProblems = 200;

    /// <summary>A time-budgeted run fixes its schedule length after this many steps, from their measured speed.</summary>
    private const int CalibrationSteps = 20;

    /// <summary>Batches sorted by length together; more means less padding but lengths drift less evenly through training.</summary>
    private const int BucketWindow = 16;

    public Action<string>? OnMessage { get; init; }

    /// <summary>After each optimizer step: the step's result and the step the run stops at (the schedule's current length unless it outlasts the run).</summary>
    public Action<StepResult, int>? OnStep { get; init; }

    /// <summary>After each accuracy measurement: the step and per-task greedy accuracy with one example solution.</summary>
    public Action<int, IReadOnlyDictionary<string, (double Accuracy, string Example)>>? OnEvaluation { get; init; }

    /// <summary>After each self-evaluation measurement: the step and per-task AUC against gold labels.</summary>
    public Action<int, IReadOnlyDictionary<string, double?>>? OnSelfEvaluation { get; init; }

    /// <summary>After each look-up measurement (runs with logic only): the step and the teacher-forced logic look-up accuracy.</summary>
    public Action<int, LookupAccuracy>? OnLookup { get; init; }

    /// <summary>In the own-step phase, after each self-evaluation measurement on held-out own steps: the step and per-task AUC.</summary>
    public Action<int, IReadOnlyDictionary<string, double?>>? OnOwnStepSelfEvaluation { get; init; }

    public PretrainResult Run(CancellationToken cancel = default)
    {
        settings.Validate();
        torch.set_num_threads(settings.Threads);
        torch.manual_seed(settings.Seed);
        var device = TorchRuntime.ParseDevice(settings.Device);
        var corpus = new SolutionCorpus(prompt);
        var selfEval = new SelfEvalCorpus(selfEvalPrompt, (float)settings.SelfEvalWeight);
        var run = TrainingRun.Open(settings.OutputDirectory, ProvenanceFile, settings.Resume, settings.Force);
        bool resuming = run.Resuming;

        var tokenizer = resuming ? HfTokenizer.Load(run.CheckpointDirectory) : TrainTokenizer(corpus, selfEval);
        var model = new CausalLanguageModel(settings.ModelConfig(tokenizer.VocabSize, tokenizer.EosId));
        model.InitializeWeights();
        model.to(device);
        using var trainer = new Trainer(model, settings.Optimizer());
        var progress = new TrainingProgress { TotalSteps = trainer.Schedule.TotalSteps };
        if (run.Restore(trainer) is { } restored)
        {
            progress = restored;
            // --steps on a resumed run sets its new length; a time-budgeted run keeps the length it settled on.
            trainer.Schedule = trainer.Schedule with { TotalSteps = settings.ScheduleSteps ?? settings.Steps ?? progress.TotalSteps };
            OnMessage?.Invoke($"resumed from {run.CheckpointDirectory} at step {progress.Step}");
        }
        OnMessage?.Invoke($"model: {model.ParameterCount():N0} parameters ({settings.Layers} layers, hidden {settings.Hidden}, {settings.Heads} heads / {settings.KvHeads} kv), vocabulary {tokenizer.VocabSize}");

        using var log = run.StartLog();
        var poolPath = Path.Combine(run.Directory, OwnStepPool.FileName);
        if (!resuming) File.Delete(poolPath);
        var heldOut = settings.Tasks.Names.ToDictionary(t => t, t => (IReadOnlyList<Problem>)BuiltinTasks.TestSet(t).Take(settings.EvalProblems).ToArray());
        var monitor = new AccuracyMonitor(heldOut, corpus, maxTokens: settings.SeqLen);
        var selfEvalMonitor = settings.SelfEvalShare > 0 ? new SelfEvalMonitor(HeldOutSelfEval(selfEval, tokenizer), selfEval) : null;
        var lookupMonitor = settings.Tasks.Names.Contains(BuiltinTasks.Logic)
            ? new LookupMonitor(BuiltinTasks.TestSet(BuiltinTasks.Logic).Take(LookupProblems).ToArray(), corpus) : null;
        var measured = Measurement.None;
        OwnStepPool? ownSteps = null;
        SelfEvalMonitor? ownStepMonitor = null;
        // Deterministic streams: a resumed run skips exactly the micro-batches it has already trained on. The own-step
        // phase has a stream of its own, counted from the step it starts at; a mix switch reopens the stream in force on
        // the other mix, skipped to the same place.
        var mix = settings.MixAt(progress.Step);
        void AnnounceMix() => OnMessage?.Invoke($"step {settings.Switch!.AtStep}: problems drawn from then on as tasks {mix.Tasks}, difficulty {mix.Difficulties}{string.Concat(mix.TaskDifficulties.Select(t => $", {t.Key} at {t.Value}"))}");
        if (mix.Switch is null && settings.Switch is not null) AnnounceMix();
        IEnumerator<IReadOnlyList<TrainingSequence>> Stream() => (ownSteps is null
            ? Batches(mix, corpus, selfEval, tokenizer, null).Skip(progress.Step * settings.Accumulation)
            : Batches(mix, corpus, selfEval, tokenizer, ownSteps).Skip((progress.Step - settings.OwnStepsAt!.Value) * settings.Accumulation)).GetEnumerator();
        var batches = Stream();
        long parameters = model.ParameterCount();
        // Throughput counts this invocation's training time only: evaluation and checkpoints are timed out of it.
        // Mixed precision is measured against the bf16 peak: its products run at that rate, so the fp32 peak would flatter it.
        using var peakProbe = new MatmulPeakProbe(device, dtype: settings.MatmulDtype ?? torch.ScalarType.Float32);
        double startPeak = peakProbe.Measure();
        OnMessage?.Invoke($"{settings.Matmul} matmul peak on {device} with {settings.Threads} threads: {startPeak / 1e9:0.0} GFLOP/s (measured again after every logged window)");
        var peaks = new WindowedPeak(() => peakProbe.Measure(repeats: 4)); // ~1 % of a 10-step window here
        model.MatmulDtype = settings.MatmulDtype;
        double runFlops = 0, runSeconds = 0, windowFlops = 0, windowSeconds = 0;

        // A run given a longer schedule than its steps stops early; otherwise at the schedule's end (which a time budget sets).
        int LastStep() => settings.ScheduleSteps is null ? trainer.Schedule.TotalSteps : settings.Steps!.Value;
        while (trainer.Step < LastStep() && !cancel.IsCancellationRequested)
        {
            if (settings.Minutes is { } budget && progress.Seconds >= budget * 60) break;
            if (mix.Switch is { } pending && trainer.Step >= pending.AtStep)
            {
                mix = settings.MixAt(trainer.Step);
                batches.Dispose();
                batches = Stream();
                AnnounceMix();
            }
            if (ownSteps is null && settings.OwnStepsAt is { } start && trainer.Step >= start)
            {
                ownSteps = OwnSteps(poolPath, model, tokenizer, corpus);
                ownStepMonitor = new SelfEvalMonitor(ownSteps.HeldOut().ToDictionary(t => t.Key, t => Fitting(t.Value, selfEval, tokenizer)), selfEval);
                batches.Dispose();
                batches = Stream();
                // Before any training on the pool: the phase's starting point for the held-out own-step AUC.
                if (trainer.Step == start) InFp32(model, () => MeasureOwnSteps(ownStepMonitor, model, tokenizer, log, trainer.Step));
            }
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var micro = new List<TokenBatch>();
            double stepFlops = 0;
            while (micro.Count < settings.Accumulation && batches.MoveNext())
            {
                micro.Add(TokenBatch.Collate(batches.Current, tokenizer.EosId, device));
                stepFlops += TrainingFlops.ForSequences(model.Config, parameters, batches.Current.Select(s => s.Length));
            }
            var step = trainer.TrainStep(micro, batch => SequenceLogProbs.Compute(model, batch).NegativeLogLikelihoodPerTarget(batch.TargetTokens));
            foreach (var batch in micro) batch.Dispose();
            progress = progress.After(step);
            double seconds = clock.Elapsed.TotalSeconds;
            (runFlops, runSeconds, windowFlops, windowSeconds) = (runFlops + stepFlops, runSeconds + seconds, windowFlops + stepFlops, windowSeconds + seconds);
            if (settings.Minutes is { } minutes && step.Step == CalibrationSteps && !resuming)
            {
                int total = step.Step + (int)((minutes * 60 - progress.Seconds) / (progress.Seconds / step.Step));
                trainer.Schedule = trainer.Schedule with { TotalSteps = Math.Max(total, step.Step + 1) };
                OnMessage?.Invoke($"{progress.Seconds / step.Step:0.00} s/step: the {minutes} minute budget allows {trainer.Schedule.TotalSteps} steps");
            }
            progress = progress with { TotalSteps = trainer.Schedule.TotalSteps };

            if (step.Step % settings.LogEvery == 0)
            {
                double flopsPerSecond = windowFlops / Math.Max(windowSeconds, 1e-9);
                double windowPeak = peaks.AfterWindow(windowSeconds); // outside the step's clock: not training time
                log.Write(step.Step,
                [
                    new("loss", step.Loss), new("lr", step.LearningRate), new("grad_norm", step.GradientNorm), new("tokens", step.Tokens),
                    new("tokens_per_s", step.TokensPerSecond), new("model_flops_per_s", flopsPerSecond), new("peak_flops_per_s", windowPeak),
                    new("mfu", flopsPerSecond / windowPeak),
                ]);
                (windowFlops, windowSeconds) = (0, 0);
            }
            OnStep?.Invoke(step, LastStep());
            if (step.Step % settings.EvalEvery == 0) measured = Evaluate(monitor, selfEvalMonitor, lookupMonitor, ownStepMonitor, model, tokenizer, log, step.Step);
            if (step.Step % settings.SaveEvery == 0) SaveCheckpoint(run, trainer, tokenizer, progress);
        }

        batches.Dispose();
        if (progress.Step % settings.EvalEvery != 0) measured = Evaluate(monitor, selfEvalMonitor, lookupMonitor, ownStepMonitor, model, tokenizer, log, progress.Step);
        // The steps after the last logged window get their own measurement; a run too short to log any window is
        // measured once at its end.
        if (windowSeconds > 0 || peaks.TimeWeighted == 0) peaks.AfterWindow(Math.Max(windowSeconds, 1e-9));
        // Also against the fastest peak any measurement saw (the start's included): the stricter reading.
        var throughput = new ThroughputSummary(runFlops, runSeconds, peaks.TimeWeighted, settings.Matmul, Math.Max(startPeak, peaks.Fastest));
        log.Write(progress.Step,
        [
            new("run_model_flops", runFlops), new("run_train_seconds", runSeconds), new("run_model_flops_per_s", throughput.FlopsPerSecond),
            new("peak_flops_per_s", throughput.PeakFlopsPerSecond), new("run_mfu", throughput.Utilisation),
            new("fastest_peak_flops_per_s", throughput.FastestPeakFlopsPerSecond), new("run_mfu_fastest_peak", throughput.UtilisationOfFastestPeak),
        ]);
        // The checkpoint stays beside the model: --resume with a larger --steps extends a finished run.
        SaveCheckpoint(run, trainer, tokenizer, progress);
        var figures = new Dictionary<string, double> { ["tokens"] = progress.Tokens, ["run_mfu"] = throughput.Utilisation, ["run_model_flops_per_s"] = throughput.FlopsPerSecond };
        foreach (var (task, value) in measured.Accuracy) figures[$"greedy_{task}"] = value;
        foreach (var (task, value) in measured.SelfEvalAuc) if (value is { } v) figures[$"self_eval_auc_{task}"] = v;
        foreach (var (task, value) in measured.OwnStepAuc) if (value is { } v) figures[$"own_step_auc_{task}"] = v;
        if (measured.Lookups is { } lookups) (figures["lookup_acc_logic"], figures["lookup_all_logic"]) = (lookups.TokenAccuracy, lookups.ProblemShare);
        var provenance = new TrainingProvenance("pretrain", "sequences", null, settings.Tasks.Names.Select(t => "builtin:" + t).ToArray(), settings,
            progress.Step, progress.Step * settings.Batch * settings.Accumulation, heldOut.Values.Sum(p => p.Count), TimeSpan.FromSeconds(progress.Seconds), null, null)
        {
            Figures = figures,
        };
        run.Finish(model, tokenizer, provenance, promptSettings: PromptSettings(), dtype: settings.StoreFloat16 ? torch.ScalarType.Float16 : null, keepCheckpoint: true);
        var output = run.Directory;
        return new PretrainResult(output, progress, model.ParameterCount(), measured.Accuracy, measured.SelfEvalAuc, throughput)
        {
            Lookups = measured.Lookups,
            OwnStepAuc = measured.OwnStepAuc,
        };
    }

    private HfTokenizer TrainTokenizer(SolutionCorpus corpus, SelfEvalCorpus selfEval)
    {
        // Self-evaluation text in the same share as in training, so that its frame gets merges of its own.
        var random = new Random(settings.Seed + 2000);
        var text = corpus.TokenizerText(settings.Tasks.Names, settings.HardestDifficulty, settings.Seed, settings.TokenizerProblemsPerTask)
            .Concat(SolutionCorpus.TrainProblems(settings.Tasks, settings.DifficultiesOf, settings.Seed + 3000)
                .Take((int)(settings.TokenizerProblemsPerTask * settings.Tasks.Names.Count * settings.SelfEvalShare))
                .Select(p => selfEval.Text(p, selfEval.Example(p, random))));
        var tokenizer = ByteLevelBpeTrainer.Train(text, settings.VocabSize, splitPattern: ByteLevelBpeTrainer.SplitPatternKeeping(settings.WholePhrases));
        // The pre-tokenizer isolates every digit, so numbers are digit sequences and arithmetic stays digit-aligned.
        if (tokenizer.Encode("123").Length != 3) throw new InvalidOperationException("the trained tokenizer merges digits; arithmetic needs one token per digit");
        OnMessage?.Invoke($"tokenizer: {tokenizer.VocabSize} tokens learned from {settings.TokenizerProblemsPerTask} problems per task");
        return tokenizer;
    }

    private IEnumerable<IReadOnlyList<TrainingSequence>> Batches(PretrainSettings mix, SolutionCorpus corpus, SelfEvalCorpus selfEval, HfTokenizer tokenizer, OwnStepPool? ownSteps)
    {
        // Each drawn problem becomes its solution, or with SelfEvalShare's chance a self-evaluation example on it, or (logic,
        // with LookupShare's chance) a look-up drill. In the own-step phase (its own seeds, so its problems are new ones),
        // OwnStepShare of the draws are first replaced by a self-evaluation example on one of the model's own steps (of the
        // problem's task, or of one drawn from OwnStepTasks).
        int seed = ownSteps is null ? settings.Seed : settings.Seed + OwnStepSeed;
        var random = new Random(seed + 1);
        var lookups = new LookupDrills(lookupPrompt);
        TrainingSequence Judged(TrainingSequence example) =>
            ownSteps is not null && settings.OwnStepWeight is { } phaseWeight ? example with { LossWeight = (float)phaseWeight } : example;
        var sequences = SolutionCorpus.TrainProblems(mix.Tasks, mix.DifficultiesOf, seed, settings.UncontestedShare)
            .Select(p => ownSteps is not null && random.NextDouble() < settings.OwnStepShare && ownSteps.Draw(settings.OwnStepTaskFor(p.Family, random), random) is { } own
                    ? Judged(selfEval.Encode(own.Problem, own.Example, tokenizer))
                : random.NextDouble() < settings.SelfEvalShare ? Judged(selfEval.Encode(p, selfEval.Example(p, random), tokenizer))
                : LookupDrills.Applies(p) && random.NextDouble() < settings.LookupShare
                    // Reverse, quiz and asked-property drills and clozes are drawn only when asked for, so that runs without them keep their stream.
                    ? (settings.ReverseDrillShare > 0 && random.NextDouble() < settings.ReverseDrillShare ? lookups.EncodeReverse(p, random, tokenizer) : null) is { } reverse
                        ? reverse
                    : (settings.QuizDrillShare > 0 && random.NextDouble() < settings.QuizDrillShare ? lookups.EncodeQuiz(p, random, tokenizer) : null) is { } quiz
                        ? quiz
                    : (settings.AskedDrillShare > 0 && random.NextDouble() < settings.AskedDrillShare ? lookups.EncodeAsked(p, random, tokenizer) : null) is { } askedProperty
                        ? askedProperty
                    : (settings.RuleClozeShare > 0 && random.NextDouble() < settings.RuleClozeShare ? lookups.EncodeCloze(p, random, tokenizer) : null) is { } cloze
                        ? cloze with { LossWeight = (float)settings.RuleClozeWeight }
                        : lookups.Encode(p, random, tokenizer)
                : corpus.Encode(p, tokenizer) with { LossWeight = settings.SolutionWeightOf(p.Family) })
            .Where(s => s.Length <= settings.SeqLen);
        return LengthBuckets.Batch(sequences, settings.Batch, BucketWindow, new Random(seed));
    }

    /// <summary>Seed offset of the own-step phase's problems, data order and pool.</summary>
    private const int OwnStepSeed = 5000;

    /// <summary>The problems the own-step pool samples on: train problems per task at the difficulties in force when the phase starts, and the first test problems.</summary>
    private IReadOnlyList<(string Split, Problem Problem)> OwnStepProblems() =>
    [
        .. settings.Tasks.Names.SelectMany((t, i) => SolutionCorpus.TrainProblems(TaskMix.Equal([t]), settings.MixAt(settings.OwnStepsAt!.Value).DifficultiesOf, settings.Seed + OwnStepSeed + 100 + i)
            .Take(settings.OwnStepProblems).Select(p => (OwnStepPool.TrainSplit, p))),
        .. settings.Tasks.Names.SelectMany(t => BuiltinTasks.TestSet(t).Take(settings.OwnStepHeldOut).Select(p => (OwnStepPool.TestSplit, p))),
    ];

    /// <summary>The run's own-step pool: read back when a resumed run saved one, else sampled from the live weights (in fp32) and saved.</summary>
    private OwnStepPool OwnSteps(string path, CausalLanguageModel model, HfTokenizer tokenizer, SolutionCorpus corpus)
    {
        var problems = OwnStepProblems();
        OwnStepPool pool;
        if (File.Exists(path))
        {
            pool = OwnStepPool.Load(path, problems);
            OnMessage?.Invoke($"own steps: {pool.Entries.Count:N0} judged steps read from {path}");
        }
        else
        {
            OnMessage?.Invoke($"own steps: sampling {settings.OwnStepSamples} solutions for each of {problems.Count:N0} problems at temperature {OwnStepPool.Temperature}");
            var clock = System.Diagnostics.Stopwatch.StartNew();
            pool = InFp32(model, () => OwnStepPool.Sample(model, tokenizer, corpus, problems, settings.OwnStepSamples, settings.SeqLen, settings.Seed + OwnStepSeed,
                done => { if (done % 320 == 0 || done == problems.Count) OnMessage?.Invoke($"own steps: {done:N0}/{problems.Count:N0} problems sampled ({clock.Elapsed:mm\\:ss})"); }));
            pool.Save(path);
        }
        foreach (var split in new[] { OwnStepPool.TrainSplit, OwnStepPool.TestSplit })
            foreach (var task in settings.Tasks.Names)
            {
                var (sound, unsound) = pool.Count(split, task);
                OnMessage?.Invoke($"own steps ({split}, {task}): {sound:N0} sound, {unsound:N0} unsound");
            }
        return pool;
    }

    private Measurement Evaluate(AccuracyMonitor monitor, SelfEvalMonitor? selfEvalMonitor, LookupMonitor? lookupMonitor, SelfEvalMonitor? ownStepMonitor,
        CausalLanguageModel model, HfTokenizer tokenizer, TrainingLog log, int step) =>
        InFp32(model, () => Measure(monitor, selfEvalMonitor, lookupMonitor, ownStepMonitor, model, tokenizer, log, step));

    /// <summary>Runs a measurement or sampling in the weights' fp32, as the saved model will run (and decoding's KV cache requires).</summary>
    private static T InFp32<T>(CausalLanguageModel model, Func<T> measure)
    {
        var training = model.MatmulDtype;
        model.MatmulDtype = null;
        try { return measure(); }
        finally { model.MatmulDtype = training; }
    }

    private IReadOnlyDictionary<string, double?> MeasureOwnSteps(SelfEvalMonitor monitor, CausalLanguageModel model, HfTokenizer tokenizer, TrainingLog log, int step)
    {
        var auc = monitor.Measure(model, tokenizer);
        log.Write(step, auc.Select(r => new KeyValuePair<string, double>($"own_step_auc_{r.Key}", r.Value ?? double.NaN)));
        OnOwnStepSelfEvaluation?.Invoke(step, auc);
        return auc;
    }

    private Measurement Measure(AccuracyMonitor monitor, SelfEvalMonitor? selfEvalMonitor, LookupMonitor? lookupMonitor, SelfEvalMonitor? ownStepMonitor,
        CausalLanguageModel model, HfTokenizer tokenizer, TrainingLog log, int step)
    {
        var results = monitor.Measure(model, tokenizer);
        log.Write(step, results.Select(r => new KeyValuePair<string, double>($"greedy_{r.Key}", r.Value.Accuracy)));
        OnEvaluation?.Invoke(step, results);
        IReadOnlyDictionary<string, double?> auc = new Dictionary<string, double?>();
        if (selfEvalMonitor is not null)
        {
            auc = selfEvalMonitor.Measure(model, tokenizer);
            log.Write(step, auc.Select(r => new KeyValuePair<string, double>($"self_eval_auc_{r.Key}", r.Value ?? double.NaN)));
            OnSelfEvaluation?.Invoke(step, auc);
        }
        LookupAccuracy? lookups = null;
        if (lookupMonitor is not null)
        {
            lookups = lookupMonitor.Measure(model, tokenizer);
            log.Write(step, [new("lookup_acc_logic", lookups.TokenAccuracy), new("lookup_all_logic", lookups.ProblemShare),
                .. lookups.ByGap.Keys.Order().Select(gap => new KeyValuePair<string, double>($"lookup_acc_gap{gap}", lookups.GapAccuracy(gap))),
                new("lookup_acc_polarity", lookups.PolarityAccuracy)]);
            OnLookup?.Invoke(step, lookups);
        }
        var ownStepAuc = ownStepMonitor is null ? new Dictionary<string, double?>() : MeasureOwnSteps(ownStepMonitor, model, tokenizer, log, step);
        return new Measurement(results.ToDictionary(r => r.Key, r => r.Value.Accuracy), auc, lookups, ownStepAuc);
    }

    /// <summary>Self-evaluation examples on the first problems of each fixed test set, drawn from a fixed seed so every measurement sees the same ones.</summary>
    private Dictionary<string, IReadOnlyList<(Problem, SelfEvalExample)>> HeldOutSelfEval(SelfEvalCorpus selfEval, HfTokenizer tokenizer)
    {
        var random = new Random(settings.Seed + 4000);
        return settings.Tasks.Names.ToDictionary(t => t, t =>
            Fitting(BuiltinTasks.TestSet(t).Take(settings.SelfEvalProblems).Select(p => (p, selfEval.Example(p, random))), selfEval, tokenizer));
    }

    /// <summary>The examples whose encoding fits the sequence length (a monitor scores them as training would).</summary>
    private IReadOnlyList<(Problem, SelfEvalExample)> Fitting(IEnumerable<(Problem Problem, SelfEvalExample Example)> examples, SelfEvalCorpus selfEval, HfTokenizer tokenizer) =>
        examples.Where(x => selfEval.Encode(x.Problem, x.Example, tokenizer).Length <= settings.SeqLen).ToArray();

    private void SaveCheckpoint(TrainingRun run, Trainer trainer, HfTokenizer tokenizer, TrainingProgress progress)
    {
        run.SaveCheckpoint(trainer, tokenizer, progress);
        // The checkpoint is a model too (eval and generate load it mid-run), so it carries the prompt settings.
        PromptSettings().Save(run.CheckpointDirectory);
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
        SelfEvalPrompt = settings.SelfEvalShare > 0 ? PromptLibrary.SelfEvalBare : null,
        Oversampling = SearchOversampling,
        TrainedOn = settings.Tasks.Names,
        Difficulty = settings.HardestDifficulty,
    };
}
