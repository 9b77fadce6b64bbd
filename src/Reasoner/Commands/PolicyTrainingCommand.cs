using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Training;
using Reasoner.Training.Batching;
using Reasoner.Training.Framework;
using Spectre.Console;
using TorchSharp;

namespace Reasoner.Cli.Commands;

/// <summary>The options every <c>train METHOD</c> command has: inputs, output folder, resume, and the shared loop's knobs.</summary>
sealed class PolicyTrainingOptions
{
    public PolicyTrainingOptions(CliContext context, string method, PolicyTrainingSettings defaults, string examples, string? fileFormat = null)
    {
        Runs = new Argument<string[]>("runs")
        {
            Description = "Run folders, or run names under the runs folder, whose trees give the training data" + (fileFormat is null ? "." : $"; or {fileFormat} files (then the default policy is the built-in model)."),
            Arity = ArgumentArity.OneOrMore,
        };
        Model = new Option<string?>("--model") { Description = "Policy to start from, also the frozen reference (Hugging Face folder). Default: the model folder that searched the runs (on-policy), else the built-in model." };
        Output = new Option<string?>("--out", "-o") { Description = $"Folder for the trained model (Hugging Face layout, reasoner.json, train_log.jsonl, {method}.json): a name under RunsDir or a path. Default: {method}-<first run>." };
        Force = new Option<bool>("--force") { Description = "Replace a model already in the output folder, or start an unfinished run over." };
        Resume = new Option<bool>("--resume") { Description = "Continue the unfinished run whose checkpoint is in the output folder (same runs and settings)." };
        SaveEvery = new Option<int>("--save-every") { Description = "Save a resumable checkpoint (output folder's checkpoint/) every this many steps; Ctrl-C and SIGTERM save one too.", DefaultValueFactory = _ => defaults.SaveEvery };
        LearningRate = new Option<double>("--lr") { Description = "Peak learning rate (warmup, then cosine to 0).", DefaultValueFactory = _ => defaults.LearningRate };
        Warmup = new Option<double>("--warmup-ratio") { Description = "Share of the steps spent warming up.", DefaultValueFactory = _ => defaults.WarmupRatio };
        Epochs = new Option<int>("--epochs") { Description = $"Passes over the training {examples}.", DefaultValueFactory = _ => defaults.Epochs };
        Batch = new Option<int>("--batch") { Description = $"{char.ToUpperInvariant(examples[0])}{examples[1..]} per micro-batch.", DefaultValueFactory = _ => defaults.Batch };
        Accumulation = new Option<int>("--accumulation") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => defaults.Accumulation };
        MaxLength = new Option<int>("--max-length") { Description = $"{char.ToUpperInvariant(examples[0])}{examples[1..]} with a row (prompt plus side) over this many tokens are left out.", DefaultValueFactory = _ => defaults.MaxLength };
        EvalFraction = new Option<double>("--eval-fraction") { Description = $"Share of problems held out: their {examples} measure the objective on unseen problems.", DefaultValueFactory = _ => defaults.EvalFraction };
        EvalEvery = new Option<int>("--eval-every") { Description = $"Measure the held-out {examples} every this many steps (and at the end).", DefaultValueFactory = _ => defaults.EvalEvery };
        Seed = new Option<int>("--seed") { Description = $"Seed of the held-out split and the {examples}' order.", DefaultValueFactory = _ => context.Settings.Seed };
        Device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => context.Settings.Device };
        Threads = new Option<int>("--threads") { Description = "CPU threads for libtorch.", DefaultValueFactory = _ => 2 };
        LoraRank = new Option<int>("--lora-rank") { Description = "Train LoRA adapters of this rank on every projection instead of every weight; the output is then a PEFT adapter folder (adapter_config.json, adapter_model.safetensors) that every command loads over its base model. 0: off.", DefaultValueFactory = _ => defaults.LoraRank };
        LoraAlpha = new Option<double>("--lora-alpha") { Description = "LoRA's α: the adapters' product is scaled by α / rank (TPO: r 8, α 16).", DefaultValueFactory = _ => defaults.LoraAlpha };
    }

    public Argument<string[]> Runs { get; }
    public Option<string?> Model { get; }
    public Option<string?> Output { get; }
    public Option<bool> Force { get; }
    public Option<bool> Resume { get; }
    public Option<int> SaveEvery { get; }
    public Option<double> LearningRate { get; }
    public Option<double> Warmup { get; }
    public Option<int> Epochs { get; }
    public Option<int> Batch { get; }
    public Option<int> Accumulation { get; }
    public Option<int> MaxLength { get; }
    public Option<double> EvalFraction { get; }
    public Option<int> EvalEvery { get; }
    public Option<int> Seed { get; }
    public Option<string> Device { get; }
    public Option<int> Threads { get; }
    public Option<int> LoraRank { get; }
    public Option<double> LoraAlpha { get; }

    public void AddTo(Command command)
    {
        command.Arguments.Add(Runs);
        foreach (var option in new Option[] { Model, Output, Force, Resume, SaveEvery, LearningRate, Warmup, Epochs, Batch, Accumulation, MaxLength, EvalFraction, EvalEvery, Seed, Device, Threads, LoraRank, LoraAlpha })
            command.Options.Add(option);
    }

    /// <summary>A method's settings with the shared knobs as parsed.</summary>
    public T Apply<T>(ParseResult parse, T settings) where T : PolicyTrainingSettings => settings with
    {
        LearningRate = parse.GetValue(LearningRate),
        WarmupRatio = parse.GetValue(Warmup),
        Epochs = parse.GetValue(Epochs),
        Batch = parse.GetValue(Batch),
        Accumulation = parse.GetValue(Accumulation),
        MaxLength = parse.GetValue(MaxLength),
        EvalFraction = parse.GetValue(EvalFraction),
        EvalEvery = parse.GetValue(EvalEvery),
        SaveEvery = parse.GetValue(SaveEvery),
        Seed = parse.GetValue(Seed),
        LoraRank = parse.GetValue(LoraRank),
        LoraAlpha = parse.GetValue(LoraAlpha),
    };
}

/// <summary>A method's examples built from the runs, with a line that says what was kept and what was left out.</summary>
sealed record TrainingData<TExample>(IReadOnlyList<TExample> Examples, string Summary);

/// <summary>What one <c>train METHOD</c> command brings to the shared runner: its data, its objective, and how to show its figures.</summary>
sealed record PolicyMethod<TExample, TReference, TBatch, TMetrics>(
    string Name,
    string Title,
    string ExampleKind,
    PolicyTrainingSettings Settings,
    Func<IReadOnlyList<PreferenceTree>, LoadedCheckpoint, TrainingData<TExample>> Data,
    Func<TExample, string> ProblemId,
    Func<CausalLanguageModel, int, CausalLanguageModel?, IPolicyObjective<TExample, TReference, TBatch, TMetrics>> Objective,
    Func<TMetrics, string> Describe,
    string SettingsLine)
    where TBatch : ITokenCounts, IDisposable
    where TMetrics : class, ITrainingMetrics
{
    /// <summary>The provenance file and the default output folder's prefix.</summary>
    public string ShortName { get; init; } = Name;

    /// <summary>The method's examples from a file in a standard format (TRL preference, TPO lists), where one fits; null when it reads runs only.</summary>
    public Func<string, LoadedCheckpoint, TrainingData<TExample>>? FromFile { get; init; }

    /// <summary>The standard format <see cref="FromFile"/> reads, for messages.</summary>
    public string? FileFormat { get; init; }

    /// <summary>What to run next with the output folder (OUT stands for it); null: evaluate it, or search with it for the next on-policy round.</summary>
    public string? NextHint { get; init; }

    /// <summary>Whether the objective runs a frozen copy of the starting policy with every batch (OREO's KL needs its whole distribution).</summary>
    public bool FrozenReference { get; init; }

    /// <summary>The model that trains, made from the loaded one (a verifier is a scorer started from the policy); null: the loaded model itself.</summary>
    public Func<CausalLanguageModel, CausalLanguageModel>? TrainedModel { get; init; }

    /// <summary>Fresh on-policy solutions instead of the trees' (null or 0 samples: the trees'): how many, and at what temperature.</summary>
    public OnPolicySamples? Sampling { get; init; }

    /// <summary>The method's examples from solutions sampled from the policy; needed with <see cref="Sampling"/>.</summary>
    public Func<IReadOnlyList<SampledSolutions>, Func<Problem, string>, Models.Tokenization.ITextTokenizer, IReadOnlyList<TExample>>? FromSamples { get; init; }
}

/// <summary>How many solutions per problem a trainer samples from the current policy at the start of each epoch, and at what temperature.</summary>
sealed record OnPolicySamples(int Samples, double Temperature);

/// <summary>
/// The command side of every policy trainer: read the runs, pick the on-policy model, build and split the data, open
/// the output folder, run the shared loop with progress, stop gracefully on Ctrl-C or SIGTERM, save and report.
/// </summary>
static class PolicyTrainingCommand
{
    public static int Run<TExample, TReference, TBatch, TMetrics>(CliContext context, ParseResult parse, CancellationToken cancel,
        PolicyTrainingOptions options, PolicyMethod<TExample, TReference, TBatch, TMetrics> method)
        where TBatch : ITokenCounts, IDisposable
        where TMetrics : class, ITrainingMetrics
    {
        var settings = method.Settings;
        try { settings.Validate(); }
        catch (ArgumentException e) { throw new UserError(e.Message); }
        if (parse.GetValue(options.Threads) < 1) throw new UserError($"--threads must be at least 1, got {parse.GetValue(options.Threads)}");

        var inputs = parse.GetValue(options.Runs)!;
        bool files = InputFiles(inputs, method.ShortName, method.FileFormat);
        var runDirs = files ? inputs.Select(Path.GetFullPath).ToArray() : inputs.Select(r => RunLocation.Resolve(r, context.Settings)).ToArray();
        var outDir = RunLocation.ForOutput(parse.GetValue(options.Output) ?? method.ShortName + "-" + Path.GetFileNameWithoutExtension(runDirs[0]), context.Settings);
        var run = WithHint(() => TrainingRun.Open(outDir, method.ShortName + ".json", parse.GetValue(options.Resume), parse.GetValue(options.Force)));
        var trees = files ? [] : ReadTrees(context, runDirs);
        // A file says nothing about the model that wrote it: without --model, the built-in model trains on it.
        var baseModel = Path.GetFullPath(parse.GetValue(options.Model) ?? (files ? null : SearchingModel(trees.Select(t => t.ModelId))) ?? BuiltinModel.Locate());

        torch.set_num_threads(parse.GetValue(options.Threads));
        torch.manual_seed(settings.Seed);
        var checkpoint = CheckpointLoader.Load(baseModel, TorchRuntime.ParseDevice(parse.GetValue(options.Device)!));
        using var loaded = checkpoint.Model;
        var model = method.TrainedModel?.Invoke(loaded) ?? loaded;
        using var made = ReferenceEquals(model, loaded) ? null : model;
        var lora = settings.LoraRank > 0 ? LoraAdapters.Attach(model, settings.LoraRank, settings.LoraAlpha) : null;
        bool sampled = method.Sampling is { Samples: > 0 };
        using var frozen = sampled || method.FrozenReference ? CheckpointLoader.Load(baseModel, TorchRuntime.ParseDevice(parse.GetValue(options.Device)!)).Model : null;
        frozen?.eval();
        var (data, split, epochs) = sampled
            ? OnPolicyData(context, run, method, model, checkpoint, baseModel, trees)
            : FromStored(files ? FromFiles(runDirs, checkpoint, method.FromFile!) : method.Data(trees, checkpoint), method);
        if (split.Train.Count == 0 && split.Eval.Count > 0)
            throw new UserError($"--eval-fraction {settings.EvalFraction} holds out all {split.EvalProblems} problems that have {method.ExampleKind}: lower it, or search more problems");
        if (split.Train.Count == 0)
            throw new UserError($"the runs give no training {method.ExampleKind} ({trees.Count} trees; {data.Summary})");
        context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[grey]{(files ? $"{runDirs.Length} file(s)" : $"{trees.Count} trees")} → {data.Summary}: {split.Train.Count} to train on, {split.Eval.Count} held out from {split.EvalProblems} problems[/]");
        context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[grey]starting from {baseModel} ({model.ParameterCount():N0} parameters{(lora is null ? "" : $", LoRA rank {settings.LoraRank} adapters on {lora.ByModule.Count} projections")}); {method.SettingsLine}, lr {settings.LearningRate}, {settings.Epochs} epochs of {settings.Batch}-{method.ExampleKind.TrimEnd('s')} batches[/]");

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var (result, stopped) = Fit(context, run, method, model, checkpoint.Tokenizer, split, cancel, frozen, epochs);
        if (stopped is { } code) return code;
        run.Finish(model, checkpoint.Tokenizer, new TrainingProvenance(method.Name, method.ExampleKind, baseModel, runDirs, settings,
            result.Steps, result.TrainExamples, result.EvalExamples, clock.Elapsed, result.EvalBefore, result.EvalAfter), lora);
        Report(context.Console, method, result, outDir, clock.Elapsed);
        return 0;
    }

    /// <summary>
    /// The shared loop over the split with progress, checkpoints in <paramref name="run"/>'s folder and a graceful stop on
    /// Ctrl-C or SIGTERM: the result, and the exit code when the run was stopped (its checkpoint then continues it).
    /// </summary>
    public static (TrainingResult<TMetrics> Result, int? StopCode) Fit<TExample, TReference, TBatch, TMetrics>(CliContext context, TrainingRun run,
        PolicyMethod<TExample, TReference, TBatch, TMetrics> method, CausalLanguageModel model, Models.Tokenization.HfTokenizer tokenizer,
        HeldOutSplit<TExample> split, CancellationToken cancel, CausalLanguageModel? frozenReference = null,
        Func<int, Action<string>, IReadOnlyList<TExample>>? epochExamples = null)
        where TBatch : ITokenCounts, IDisposable
        where TMetrics : class, ITrainingMetrics
    {
        TrainingResult<TMetrics>? result = null;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var signals = new StopSignals(stop);
        using (var log = run.StartLog())
        {
            context.Console.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .Start(progress =>
                {
                    var bar = progress.AddTask("reference log-probabilities", maxValue: 1);
                    string held = "";
                    var trainer = new PolicyTrainer<TExample, TReference, TBatch, TMetrics>(model, method.Objective(model, tokenizer.EosId, frozenReference), method.Settings)
                    {
                        EpochExamples = epochExamples is null ? null : epoch => epochExamples(epoch, what => bar.Description = Markup.Escape(what)),
                        OnStep = (step, total, m) =>
                        {
                            bar.MaxValue = total;
                            bar.Value = step.Step;
                            bar.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"step {step.Step}/{total} {method.Describe(m)}{held}"));
                        },
                        OnEvaluation = (step, m) => held = " | held-out " + method.Describe(m),
                        SaveCheckpoint = (t, p) => run.SaveCheckpoint(t, tokenizer, p),
                        RestoreCheckpoint = t =>
                        {
                            var p = run.Restore(t);
                            if (p is not null) context.Console.MarkupLineInterpolated($"[grey]resumed from {run.CheckpointDirectory} at step {p.Step}[/]");
                            return p;
                        },
                    };
                    result = trainer.Train(split.Train, split.Eval, log, stop.Token);
                    bar.Value = bar.MaxValue;
                });
        }
        if (!stop.IsCancellationRequested) return (result!, null);
        if (result!.Steps > 0)
            context.Console.MarkupLineInterpolated($"stopped after step {result.Steps}; no model saved; the checkpoint in {run.CheckpointDirectory} continues with --resume");
        else
            context.Console.MarkupLine("stopped before the first step; nothing saved");
        return (result, signals.Received is null ? 130 : signals.ExitCode);
    }

    private static (TrainingData<TExample>, HeldOutSplit<TExample>, Func<int, Action<string>, IReadOnlyList<TExample>>?) FromStored<TExample, TReference, TBatch, TMetrics>(
        TrainingData<TExample> data, PolicyMethod<TExample, TReference, TBatch, TMetrics> method)
        where TBatch : ITokenCounts, IDisposable
        where TMetrics : class, ITrainingMetrics =>
        (data, HeldOutSplit.ByProblem(data.Examples, method.ProblemId, method.Settings.EvalFraction, method.Settings.Seed), null);

    /// <summary>
    /// On-policy data: the runs' problems, split by problem; the held-out problems' solutions sampled once, the training
    /// problems' sampled afresh from the current policy at the start of every epoch (epoch e with seed + e·1,000,003). Each
    /// draw is kept in the run folder until the model is saved, so a resumed run trains on what its policy drew.
    /// </summary>
    private static (TrainingData<TExample>, HeldOutSplit<TExample>, Func<int, Action<string>, IReadOnlyList<TExample>>) OnPolicyData<TExample, TReference, TBatch, TMetrics>(
        CliContext context, TrainingRun run, PolicyMethod<TExample, TReference, TBatch, TMetrics> method, CausalLanguageModel model, LoadedCheckpoint checkpoint,
        string baseModel, IReadOnlyList<PreferenceTree> trees)
        where TBatch : ITokenCounts, IDisposable
        where TMetrics : class, ITrainingMetrics
    {
        var settings = method.Settings;
        var samples = method.Sampling!;
        if (trees.Count == 0) throw new UserError($"--samples draws solutions to the problems of runs; give runs, not files");
        var problems = trees.Select(t => t.Problem).DistinctBy(p => p.Id).ToList();
        var (prompt, sampling) = Sampling(context, baseModel, checkpoint.Tokenizer, problems, settings.MaxLength, samples, settings.Seed);
        var problemSplit = HeldOutSplit.ByProblem(problems, p => p.Id, settings.EvalFraction, settings.Seed);

        IReadOnlyList<TExample> Draw(string name, IReadOnlyList<Problem> set, int epoch, Action<string> show) => run.Samples(name, () =>
        {
            var drawn = PolicySampler.Sample(model, checkpoint.Tokenizer, set, prompt, sampling with { Seed = settings.Seed + 1_000_003L * epoch },
                done => show($"sampling {name}: {done}/{set.Count} problems × {samples.Samples}"));
            return method.FromSamples!(drawn, prompt, checkpoint.Tokenizer).ToArray();
        });
        IReadOnlyList<TExample> train = [], eval = [];
        context.Console.Progress().AutoClear(true).Start(progress =>
        {
            var bar = progress.AddTask("sampling", maxValue: 1);
            Action<string> show = what => bar.Description = Markup.Escape(what);
            eval = problemSplit.Eval.Count > 0 ? Draw("eval", problemSplit.Eval, -1, show) : [];
            train = Draw("epoch-0", problemSplit.Train, 0, show);
        });
        var data = new TrainingData<TExample>([.. train, .. eval],
            string.Create(CultureInfo.InvariantCulture, $"{problems.Count} problems, {samples.Samples} solutions each sampled from the policy at temperature {samples.Temperature} every epoch (at most {sampling.MaxTokens} tokens)"));
        return (data, new HeldOutSplit<TExample>(train, eval, problemSplit.EvalProblems), (epoch, show) => Draw($"epoch-{epoch}", problemSplit.Train, epoch, show));
    }

    /// <summary>
    /// How a policy is asked for whole solutions: its solve prompt (the bare one when its reasoner.json names it), its stop
    /// strings, and a token limit that keeps the longest prompt plus a solution within <paramref name="maxLength"/>.
    /// </summary>
    public static (Func<Problem, string> Prompt, PolicySampling Sampling) Sampling(CliContext context, string model, Models.Tokenization.ITextTokenizer tokenizer,
        IReadOnlyList<Problem> problems, int maxLength, OnPolicySamples samples, int seed)
    {
        var modelSettings = ModelPromptSettings.Load(model);
        var prompts = PromptFolder.Open(context.Settings);
        bool bare = modelSettings?.IsBare == true;
        Func<Problem, string> prompt = p => prompts.RenderSolve(p, bare);
        int longest = problems.Max(p => tokenizer.Encode(prompt(p)).Length);
        int maxTokens = maxLength - longest;
        if (maxTokens < 16) throw new UserError($"--max-length {maxLength} leaves {maxTokens} tokens for a solution after the longest prompt ({longest} tokens): raise it");
        return (prompt, new PolicySampling(samples.Samples, samples.Temperature, maxTokens, seed, modelSettings?.Stop ?? PromptLibrary.FewShotStops));
    }

    /// <summary>
    /// Whether the inputs are files in the method's standard format (true) or runs (false); a mix, or a file for a method
    /// that reads runs only, is refused.
    /// </summary>
    public static bool InputFiles(IReadOnlyList<string> inputs, string method, string? format)
    {
        var files = inputs.Where(i => File.Exists(i)).ToList();
        if (files.Count == 0) return false;
        if (format is null) throw new UserError($"train {method} learns from runs (folders of trees), and {files[0]} is a file");
        if (files.Count < inputs.Count) throw new UserError($"the inputs mix files and runs ({files[0]} is a file, {inputs.First(i => !File.Exists(i))} is not): give one kind");
        return true;
    }

    private static TrainingData<TExample> FromFiles<TExample>(IReadOnlyList<string> files, LoadedCheckpoint checkpoint, Func<string, LoadedCheckpoint, TrainingData<TExample>> read)
    {
        var parts = files.Select(f => read(f, checkpoint)).ToList();
        return new TrainingData<TExample>([.. parts.SelectMany(p => p.Examples)], string.Join("; ", parts.Select(p => p.Summary)));
    }

    /// <summary>The trees of every run, read once: they say which model searched and which value ranked steps, and give the data.</summary>
    public static List<PreferenceTree> ReadTrees(CliContext context, IEnumerable<string> runDirs)
    {
        var damage = new List<StoreDamage>();
        var trees = new List<PreferenceTree>();
        foreach (var dir in runDirs)
            using (var store = TreeStore.Open(dir)) trees.AddRange(store.ReadAll(damage.Add));
        ShowCommand.ReportDamage(context, damage);
        return trees;
    }

    /// <summary>The model folder that searched the runs (<see cref="OnPolicyModel.Of"/>); where there is none to pick, --model must name it.</summary>
    internal static string? SearchingModel(IEnumerable<string> treeModelIds) => WithHint(() => OnPolicyModel.Of(treeModelIds));

    /// <summary>The library's reason, with the option that resolves it.</summary>
    public static T WithHint<T>(Func<T> open)
    {
        try { return open(); }
        catch (TrainingRunException e)
        {
            throw new UserError(e.Message + e.Conflict switch
            {
                TrainingRunConflict.Unfinished => " (--resume or --force)",
                TrainingRunConflict.ModelPresent => " (--force)",
                TrainingRunConflict.AmbiguousModel => " with --model",
                _ => "",
            });
        }
    }

    public static void Report<TExample, TReference, TBatch, TMetrics>(IAnsiConsole console, PolicyMethod<TExample, TReference, TBatch, TMetrics> method,
        TrainingResult<TMetrics> result, string outDir, TimeSpan elapsed)
        where TBatch : ITokenCounts, IDisposable
        where TMetrics : class, ITrainingMetrics
    {
        var table = new Table().Title(method.Title).AddColumn("").AddColumn(new TableColumn("value"));
        table.AddRow(method.ExampleKind, $"{result.TrainExamples} trained on, {result.EvalExamples} held out");
        table.AddRow("optimizer steps", $"{result.Steps} in {elapsed:m\\:ss}");
        if (result.Last is { } last) table.AddRow("last step", Markup.Escape(method.Describe(last)));
        if (result.EvalBefore is { } before && result.EvalAfter is { } after)
            table.AddRow($"held-out {method.ExampleKind}", Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"before: loss {before.Loss:0.000}; after: {method.Describe(after)}")));
        table.AddRow("model", Markup.Escape(outDir));
        console.Write(table);
        console.MarkupLine(Markup.Escape("next: " + (method.NextHint ?? "eval --task arith --model OUT, or generate --model OUT for the next on-policy round").Replace("OUT", outDir)));
    }
}
