using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Reasoner.Cli.Generation;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Judging;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Checkpoints;
using Reasoner.Search;
using Reasoner.Training;
using Reasoner.Training.Preference;
using Spectre.Console;
using TorchSharp;

namespace Reasoner.Cli.Commands;

/// <summary><c>train dpo RUN…</c>: train a policy on the step pairs of stored search runs.</summary>
static class TrainCommand
{
    public static Command Create(CliContext context) =>
        new("train", "Train a model on stored search runs.") { Dpo(context) };

    /// <summary>The output folder's resumable checkpoint of an unfinished run; removed once the model is saved.</summary>
    public const string CheckpointFolder = "checkpoint";

    private static Command Dpo(CliContext context)
    {
        var defaults = new DpoSettings();
        var runs = new Argument<string[]>("runs") { Description = "Run folders, or run names under the runs folder, whose trees give the pairs.", Arity = ArgumentArity.OneOrMore };
        var modelDir = new Option<string?>("--model") { Description = "Policy to start from, also the DPO reference (Hugging Face folder). Default: the model folder that searched the runs (on-policy), else the built-in model." };
        var output = new Option<string?>("--out", "-o") { Description = "Folder for the trained model (Hugging Face layout, reasoner.json, train_log.jsonl, dpo.json): a name under RunsDir or a path. Default: dpo-<first run>." };
        var force = new Option<bool>("--force") { Description = "Replace a model already in the output folder, or start an unfinished run over." };
        var resume = new Option<bool>("--resume") { Description = "Continue the unfinished run whose checkpoint is in the output folder (same runs and settings)." };
        var saveEvery = new Option<int>("--save-every") { Description = "Save a resumable checkpoint (output folder's checkpoint/) every this many steps; Ctrl-C saves one too.", DefaultValueFactory = _ => defaults.SaveEvery };
        var loss = EnumOption.Create<DpoLossKind>("--loss", "sigmoid: DPO. conservative: DPO with label smoothing from visit counts (MCTS-DPO's scripts). ipo: IPO on per-token means.", defaults.Loss);
        var beta = new Option<double>("--beta") { Description = "β of the loss (MCTS-DPO: 0.1).", DefaultValueFactory = _ => defaults.Beta };
        var nll = new Option<double>("--nll-weight") { Description = "α of an added α·NLL(chosen) per token (RPO, Pang et al. 2024: 1); 0 is plain DPO.", DefaultValueFactory = _ => defaults.NllWeight };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (warmup, then cosine to 0).", DefaultValueFactory = _ => defaults.LearningRate };
        var warmup = new Option<double>("--warmup-ratio") { Description = "Share of the steps spent warming up.", DefaultValueFactory = _ => defaults.WarmupRatio };
        var epochs = new Option<int>("--epochs") { Description = "Passes over the training pairs.", DefaultValueFactory = _ => defaults.Epochs };
        var batch = new Option<int>("--batch") { Description = "Pairs per micro-batch.", DefaultValueFactory = _ => defaults.BatchPairs };
        var accumulation = new Option<int>("--accumulation") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => defaults.Accumulation };
        var maxLength = new Option<int>("--max-length") { Description = "Pairs whose prompt plus longer side exceed this many tokens are left out.", DefaultValueFactory = _ => defaults.MaxLength };
        var evalFraction = new Option<double>("--eval-fraction") { Description = "Share of problems held out: their pairs measure the implicit reward's accuracy on unseen problems.", DefaultValueFactory = _ => defaults.EvalFraction };
        var evalEvery = new Option<int>("--eval-every") { Description = "Measure the held-out pairs every this many steps (and at the end).", DefaultValueFactory = _ => defaults.EvalEvery };
        var value = EnumOption.Create<NodeValueKind>("--value", "Node value that ranks sibling steps. Default: the value the run's search ranked by (q for mcts, monte-carlo-value for best-first). gold: the oracle (gold step labels; built-in tasks only).", null);
        var pairs = EnumOption.Create<ExportCommand.PairMode>("--pairs", "best-vs-worst sibling per group (MCTS-DPO) or all sibling pairs past --min-margin (Tree-PLV).", ExportCommand.PairMode.BestVsWorst);
        var groups = EnumOption.Create<SiblingGroups>("--groups", "Sibling groups pairs come from: along the most visited path (MCTS-DPO; the default for mcts runs) or every node with two or more children (the default otherwise).", null);
        var margin = new Option<double>("--min-margin") { Description = "Keep a pair only when chosen's value exceeds rejected's by at least this.", DefaultValueFactory = _ => 0 };
        var continuation = EnumOption.Create<ContinuationMode>("--continuation", "What follows each compared step: nothing, the single-child chain below it (MCTS-DPO), or its best child down to a leaf.", ContinuationMode.SingleChildChain);
        var seed = new Option<int>("--seed") { Description = "Seed of the held-out split and the pair order.", DefaultValueFactory = _ => context.Settings.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => context.Settings.Device };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch.", DefaultValueFactory = _ => 2 };
        var command = new Command("dpo",
            "Step-level DPO (the MCTS-DPO baseline): sibling steps of stored trees as chosen/rejected pairs after their shared prefix, " +
            "the starting model as the frozen reference. Writes a model that eval, generate and a next round of train read.")
        {
            runs, modelDir, output, force, resume, saveEvery, loss, beta, nll, lr, warmup, epochs, batch, accumulation, maxLength, evalFraction, evalEvery,
            value, pairs, groups, margin, continuation, seed, device, threads,
        };
        command.SetAction((parse, cancel) =>
        {
            var settings = new DpoSettings
            {
                Loss = EnumOption.Value<DpoLossKind>(parse, loss),
                Beta = parse.GetValue(beta),
                NllWeight = parse.GetValue(nll),
                LearningRate = parse.GetValue(lr),
                WarmupRatio = parse.GetValue(warmup),
                Epochs = parse.GetValue(epochs),
                BatchPairs = parse.GetValue(batch),
                Accumulation = parse.GetValue(accumulation),
                MaxLength = parse.GetValue(maxLength),
                EvalFraction = parse.GetValue(evalFraction),
                EvalEvery = parse.GetValue(evalEvery),
                SaveEvery = parse.GetValue(saveEvery),
                Seed = parse.GetValue(seed),
            };
            try { settings.Validate(); }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            if (parse.GetValue(threads) < 1) throw new UserError($"--threads must be at least 1, got {parse.GetValue(threads)}");

            var runDirs = parse.GetValue(runs)!.Select(r => RunLocation.Resolve(r, context.Settings)).ToArray();
            var outDir = GenerationRun.ResolveDirectory(parse.GetValue(output) ?? "dpo-" + Path.GetFileName(runDirs[0]), context.Settings);
            var checkpointDir = Path.Combine(outDir, CheckpointFolder);
            bool resuming = parse.GetValue(resume), unfinished = TrainingCheckpoint.Exists(checkpointDir);
            if (resuming && !unfinished) throw new UserError($"--resume: {outDir} holds no checkpoint of an unfinished run");
            if (unfinished && !resuming && !parse.GetValue(force))
                throw new UserError($"{outDir} holds the checkpoint of an unfinished run: pass --resume to continue it or --force to start over");
            if (!resuming && File.Exists(Path.Combine(outDir, "config.json")) && !parse.GetValue(force))
                throw new UserError($"{outDir} already holds a model; choose another --out or pass --force to replace it");
            // One read of the runs: their trees say which model searched, which value ranked steps, and give the pairs.
            var damage = new List<StoreDamage>();
            var trees = new List<PreferenceTree>();
            foreach (var dir in runDirs)
                using (var store = TreeStore.Open(dir)) trees.AddRange(store.ReadAll(damage.Add));
            ShowCommand.ReportDamage(context, damage);
            var baseModel = Path.GetFullPath(parse.GetValue(modelDir) ?? SearchingModel(trees.Select(t => t.ModelId)) ?? BuiltinModel.Locate());

            var ranking = EnumOption.ValueOrNull<NodeValueKind>(parse, value) ?? ExportCommand.RankingValue(trees.Select(t => t.Search.Algorithm));
            if (ranking == NodeValueKind.Gold && trees.FirstOrDefault(t => !StepJudges.Supports(t.Problem.Family)) is { } other)
                throw new UserError($"--value gold ranks steps by gold step labels, which only the built-in tasks arith and logic have; the runs hold {other.Problem.Family} trees");
            (var valued, var selector) = GoldValues.Resolve(trees, ranking);
            trees = [.. valued];
            if (ranking == NodeValueKind.Gold)
                context.Console.MarkupLine("[yellow]oracle: pairs ranked by gold step labels, an upper bound for comparison, not a method[/]");
            var options = PairOptions(ranking, selector, parse, pairs, groups, margin, continuation);
            var prompts = PromptFolder.Open(context.Settings);
            torch.set_num_threads(parse.GetValue(threads));
            torch.manual_seed(settings.Seed);
            var checkpoint = CheckpointLoader.Load(baseModel, TorchRuntime.ParseDevice(parse.GetValue(device)!));
            using var model = checkpoint.Model;

            var data = PairSet.Build(trees, prompts, options, checkpoint.Tokenizer, settings);
            if (data.Train.Count == 0 && data.Eval.Count > 0)
                throw new UserError($"--eval-fraction {settings.EvalFraction} holds out all {data.EvalProblems} problems that have pairs: lower it, or search more problems");
            if (data.Train.Count == 0)
                throw new UserError($"the runs give no training pairs ({data.Trees} trees, {data.Texts} pairs, {data.TooLong} over --max-length {settings.MaxLength}): search more problems, or loosen --pairs/--groups/--min-margin");
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[grey]{data.Trees} trees → {data.Texts} step pairs ({data.TooLong} over {settings.MaxLength} tokens and {data.Empty} with an empty side left out): {data.Train.Count} to train on, {data.Eval.Count} held out from {data.EvalProblems} problems[/]");
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[grey]policy and reference {baseModel} ({model.ParameterCount():N0} parameters); loss {EnumOption.Kebab(settings.Loss.ToString())}, β {settings.Beta}, lr {settings.LearningRate}, {settings.Epochs} epochs of {settings.BatchPairs}-pair batches[/]");

            // The log goes beside the model. A fresh run starts a fresh log and drops a replaced model and an unfinished
            // run's checkpoint; a resumed one drops the log lines of steps after its checkpoint, which it trains again.
            Directory.CreateDirectory(outDir);
            var logPath = Path.Combine(outDir, TrainingLog.FileName);
            if (!resuming)
            {
                foreach (var file in OutputFiles(outDir).Append(logPath)) File.Delete(file);
                if (Directory.Exists(checkpointDir)) Directory.Delete(checkpointDir, recursive: true);
            }
            else if (File.Exists(logPath))
            {
                int saved = TrainingCheckpoint.ReadProgress(checkpointDir).Step;
                File.WriteAllLines(logPath, File.ReadAllLines(logPath).Where(l => TrainingLog.StepOf(l) is not { } step || step <= saved).ToList());
            }
            DpoResult? result = null;
            var clock = System.Diagnostics.Stopwatch.StartNew();
            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            using var signals = new StopSignals(stop);
            using (var log = new TrainingLog(outDir))
            {
                context.Console.Progress()
                    .AutoClear(false)
                    .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(progress =>
                    {
                        var bar = progress.AddTask("reference log-probabilities", maxValue: 1);
                        string held = "";
                        var trainer = new StepDpoTrainer(model, checkpoint.Tokenizer.EosId, settings)
                        {
                            OnStep = (step, total, m) =>
                            {
                                bar.MaxValue = total;
                                bar.Value = step.Step;
                                bar.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                                    $"step {step.Step}/{total} loss {m.Loss:0.000} reward acc {m.RewardAccuracy:P0} margin {m.RewardMargin:0.000}{held}"));
                            },
                            OnEvaluation = (step, m) => held = string.Create(CultureInfo.InvariantCulture, $" | held-out acc {m.RewardAccuracy:P0}"),
                            SaveCheckpoint = (t, p) => TrainingCheckpoint.Save(checkpointDir, t, checkpoint.Tokenizer, p),
                            RestoreCheckpoint = t =>
                            {
                                if (!resuming) return null;
                                var p = TrainingCheckpoint.Restore(checkpointDir, t);
                                context.Console.MarkupLineInterpolated($"[grey]resumed from {checkpointDir} at step {p.Step}[/]");
                                return p;
                            },
                        };
                        result = trainer.Train(data.Train, data.Eval, log, stop.Token);
                        bar.Value = bar.MaxValue;
                    });
            }
            if (stop.IsCancellationRequested)
            {
                if (result!.Steps > 0)
                    context.Console.MarkupLineInterpolated($"stopped after step {result.Steps}; no model saved; the checkpoint in {checkpointDir} continues with --resume");
                else
                    context.Console.MarkupLine("stopped before the first step; nothing saved");
                return Task.FromResult(signals.Received is null ? 130 : signals.ExitCode);
            }
            Save(model, checkpoint.Tokenizer, baseModel, outDir, settings, runDirs, result!, clock.Elapsed);
            if (Directory.Exists(checkpointDir)) Directory.Delete(checkpointDir, recursive: true);
            Report(context.Console, result!, outDir, clock.Elapsed);
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>
    /// The model folder the runs' trees were searched with, which on-policy training starts from; null when only the
    /// weight-free reference policy searched them. Trees of several models, or of a model that is not a folder here
    /// (an HTTP server, a GGUF file, a folder since moved), need --model: training another model would be off-policy.
    /// </summary>
    internal static string? SearchingModel(IEnumerable<string> treeModelIds)
    {
        // The reference-solution test backend has no weights to train; anything else must be a model folder here.
        var ids = treeModelIds.Distinct(StringComparer.Ordinal).Where(id => ReferenceSolutionModel.ParseSpec(id) is null).ToList();
        if (ids.FirstOrDefault(id => !File.Exists(Path.Combine(id, "config.json"))) is { } other)
            throw new UserError($"the runs were searched with '{other}', which is not a model folder here: name the policy to train with --model");
        var folders = ids.Select(id => Path.TrimEndingDirectorySeparator(Path.GetFullPath(id)))
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList();
        return folders.Count switch
        {
            0 => null,
            1 => folders[0],
            _ => throw new UserError($"the runs were searched with {folders.Count} models ({string.Join(", ", folders)}): choose the policy with --model"),
        };
    }

    private static StepPairOptions PairOptions(NodeValueKind ranking, Func<Core.Trees.TreeNode, double?> selector, ParseResult parse, Option<string> pairs, Option<string> groups,
        Option<double> margin, Option<string> continuation)
    {
        var defaults = PairDefaults.ForTraining(ranking, selector);
        return defaults with
        {
            MinMargin = parse.GetValue(margin),
            Selection = EnumOption.Value<ExportCommand.PairMode>(parse, pairs) == ExportCommand.PairMode.All ? PairSelection.AllPairs : PairSelection.BestVsWorst,
            Groups = EnumOption.ValueOrNull<SiblingGroups>(parse, groups) ?? defaults.Groups,
            Continuation = EnumOption.Value<ContinuationMode>(parse, continuation),
        };
    }

    /// <summary>The files a finished run writes beside its log (a fresh run removes those of the model it replaces).</summary>
    private static IEnumerable<string> OutputFiles(string outDir) =>
        Directory.GetFiles(outDir, "model*.safetensors*")
            .Concat(new[] { "config.json", "generation_config.json", "tokenizer.json", "tokenizer_config.json", ModelPromptSettings.FileName, "dpo.json" }
                .Select(name => Path.Combine(outDir, name)));

    /// <summary>
    /// The model, its prompt settings and the run's record, written whole to a staging folder and then moved in, so an
    /// interrupted save leaves the staging folder, not a model of mixed files.
    /// </summary>
    private static void Save(CausalLanguageModel model, Models.Tokenization.HfTokenizer tokenizer, string baseModel, string outDir,
        DpoSettings settings, string[] runDirs, DpoResult result, TimeSpan elapsed)
    {
        var staging = outDir + ".saving";
        if (Directory.Exists(staging)) Directory.Delete(staging, recursive: true);
        CheckpointWriter.Save(model, tokenizer, staging);
        ModelPromptSettings.Load(baseModel)?.Save(staging);
        var record = new
        {
            method = "step-dpo",
            base_model = baseModel,
            runs = runDirs,
            settings = new
            {
                loss = EnumOption.Kebab(settings.Loss.ToString()), beta = settings.Beta, nll_weight = settings.NllWeight, lr = settings.LearningRate, warmup_ratio = settings.WarmupRatio,
                epochs = settings.Epochs, batch_pairs = settings.BatchPairs, accumulation = settings.Accumulation, max_length = settings.MaxLength,
                eval_fraction = settings.EvalFraction, seed = settings.Seed,
            },
            steps = result.Steps,
            train_pairs = result.TrainPairs,
            eval_pairs = result.EvalPairs,
            seconds = Math.Round(elapsed.TotalSeconds, 1),
            eval_before = result.EvalBefore,
            eval_after = result.EvalAfter,
        };
        File.WriteAllText(Path.Combine(staging, "dpo.json"), JsonSerializer.Serialize(record, new JsonSerializerOptions { WriteIndented = true }) + "\n");
        foreach (var file in Directory.GetFiles(staging))
            File.Move(file, Path.Combine(outDir, Path.GetFileName(file)), overwrite: true);
        Directory.Delete(staging);
    }

    private static void Report(IAnsiConsole console, DpoResult result, string outDir, TimeSpan elapsed)
    {
        var table = new Table().Title("step-level DPO").AddColumn("").AddColumn(new TableColumn("value"));
        string F(double x) => x.ToString("0.000", CultureInfo.InvariantCulture);
        table.AddRow("pairs", $"{result.TrainPairs} trained on, {result.EvalPairs} held out");
        table.AddRow("optimizer steps", $"{result.Steps} in {elapsed:m\\:ss}");
        if (result.Last is { } last) table.AddRow("last step", $"loss {F(last.Loss)}, reward accuracy {last.RewardAccuracy:P1}, margin {F(last.RewardMargin)}");
        if (result.EvalBefore is { } before && result.EvalAfter is { } after)
            table.AddRow("held-out pairs", $"loss {F(before.Loss)} → {F(after.Loss)}, reward accuracy {after.RewardAccuracy:P1}, margin {F(after.RewardMargin)}");
        table.AddRow("model", Markup.Escape(outDir));
        console.Write(table);
        console.MarkupLineInterpolated($"next: [bold]eval --task arith --model {outDir}[/], or [bold]generate --model {outDir}[/] for the next on-policy round");
    }
}

/// <summary>A run's pairs in tokens, split by problem into training and held-out pairs.</summary>
sealed record PairSet(IReadOnlyList<TokenizedPair> Train, IReadOnlyList<TokenizedPair> Eval, int Trees, int Texts, int TooLong, int Empty, int EvalProblems)
{
    public static PairSet Build(IReadOnlyList<PreferenceTree> trees, Core.Prompts.PromptLibrary prompts, StepPairOptions options,
        Models.Tokenization.HfTokenizer tokenizer, DpoSettings settings)
    {
        int texts = 0, tooLong = 0, empty = 0;
        var all = new List<TokenizedPair>();
        foreach (var text in trees.SelectMany(tree => StepPairData.FromTree(tree, prompts, options)))
        {
            texts++;
            var pair = StepPairData.Tokenize(text, tokenizer);
            if (pair.Chosen.Length == 0 || pair.Rejected.Length == 0) empty++;
            else if (pair.Length > settings.MaxLength) tooLong++;
            else all.Add(pair);
        }
        // Hold out whole problems, so the held-out accuracy measures problems the policy was not trained on.
        var problems = all.Select(p => p.ProblemId).Distinct().Order(StringComparer.Ordinal).ToArray();
        new Random(settings.Seed).Shuffle(problems);
        var held = problems.Take((int)Math.Round(problems.Length * settings.EvalFraction)).ToHashSet();
        return new PairSet(all.Where(p => !held.Contains(p.ProblemId)).ToArray(), all.Where(p => held.Contains(p.ProblemId)).ToArray(),
            trees.Count, texts, tooLong, empty, held.Count);
    }
}
