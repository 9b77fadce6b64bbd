using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Training.Pretraining;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>pretrain</c>: train a small Llama-architecture model from scratch on the built-in tasks (how the built-in model is made).</summary>
static class PretrainCommand
{
    public static Command Create(CliContext context)
    {
        var defaults = new PretrainSettings { OutputDirectory = "" };
        var output = new Option<string>("--out") { Description = "Run folder: the final model (Hugging Face layout), checkpoint/ and train_log.jsonl.", DefaultValueFactory = _ => Path.Combine(context.Settings.RunsDir, "pretrain") };
        var minutes = new Option<double?>("--minutes") { Description = "Training-time budget; the step count is set from the speed of the first steps." };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps (reproducible; use this or --minutes)." };
        var scheduleSteps = new Option<int?>("--schedule-steps") { Description = "Length of the learning-rate schedule when the run should stop before its end: the run trains the first --steps steps of a longer run (nanoGPT's lr_decay_iters). Default: --steps." };
        var arch = new Option<string>("--arch") { Description = "llama, or qwen3: queries and keys RMS-normalised per head before rotary (QK-norm), whose gains carry no weight decay.", DefaultValueFactory = _ => defaults.Architecture };
        var weightDecay = new Option<double>("--weight-decay") { Description = "AdamW weight decay of the matrices (embeddings included; norms' gains are never decayed).", DefaultValueFactory = _ => defaults.WeightDecay };
        var layers = new Option<int>("--layers") { Description = "Decoder layers.", DefaultValueFactory = _ => defaults.Layers };
        var hidden = new Option<int>("--hidden") { Description = "Hidden size (the MLP is 8/3 of it, rounded up to 64).", DefaultValueFactory = _ => defaults.Hidden };
        var heads = new Option<int>("--heads") { Description = "Attention heads.", DefaultValueFactory = _ => defaults.Heads };
        var kvHeads = new Option<int>("--kv-heads") { Description = "Key/value heads (grouped-query attention when fewer than --heads).", DefaultValueFactory = _ => defaults.KvHeads };
        var ropeTheta = new Option<double>("--rope-theta") { Description = "RoPE base (Llama: 10000; Llama 3: 500000); a larger base leaves more of each head to compare content over long distances.", DefaultValueFactory = _ => defaults.RopeTheta };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (linear warmup, cosine decay to a tenth).", DefaultValueFactory = _ => defaults.LearningRate };
        var warmup = new Option<int>("--warmup") { Description = "Warmup steps.", DefaultValueFactory = _ => defaults.WarmupSteps };
        var batch = new Option<int>("--batch") { Description = "Sequences per micro-batch.", DefaultValueFactory = _ => defaults.Batch };
        var accumulation = new Option<int>("--accumulation") { Description = "Micro-batches per optimizer step.", DefaultValueFactory = _ => defaults.Accumulation };
        var seqLen = new Option<int>("--seq-len") { Description = "Longest training sequence in tokens; longer problems are skipped.", DefaultValueFactory = _ => defaults.SeqLen };
        var difficulty = new Option<string>("--difficulty") { Description = "Difficulty of the training problems (1-3; the fixed test sets are difficulty 2), or a mix drawn per problem: 1:1,2:3 draws a quarter at difficulty 1.", DefaultValueFactory = _ => BuiltinTasks.DefaultDifficulty.ToString(CultureInfo.InvariantCulture) };
        var taskDifficulty = new Option<string[]>("--task-difficulty") { Description = "One task's own difficulty mix instead of --difficulty, as TASK=MIX (arith=1:3,2:1); repeat for more tasks.", AllowMultipleArgumentsPerToken = false };
        var switchAt = new Option<int?>("--switch-at") { Description = "Draw problems from a second mix from this step on (the --switch-* options; each one not given keeps the first mix's): the run then equals one stopped at this step and resumed with the second mix. One mix can lay down what the logic break-through needs and another slow arithmetic into its band." };
        var switchTasks = new Option<string?>("--switch-tasks") { Description = "The tasks' weights after --switch-at (the same tasks as --tasks): arith:1,logic:5." };
        var switchDifficulty = new Option<string?>("--switch-difficulty") { Description = "The difficulty mix after --switch-at." };
        var switchTaskDifficulty = new Option<string[]>("--switch-task-difficulty") { Description = "A task's own difficulty mix after --switch-at, as TASK=MIX; repeat for more tasks. Given once, it replaces every --task-difficulty.", AllowMultipleArgumentsPerToken = false };
        var solutionWeight = new Option<string[]>("--solution-weight") { Description = "A task's solutions counted at this weight in the loss, as TASK=WEIGHT (arith=0.25: arithmetic learnt more slowly, every sequence of the run unchanged); repeat for more tasks.", AllowMultipleArgumentsPerToken = false };
        var seed = new Option<int>("--seed") { Description = "Seed for the tokenizer corpus, initial weights and data order.", DefaultValueFactory = _ => context.Settings.Seed };
        var tasks = new Option<string>("--tasks") { Description = "Built-in tasks to train on, comma-separated, each optionally with a sampling weight: arith,logic or arith:1,logic:3.", DefaultValueFactory = _ => string.Join(",", BuiltinTasks.Names) };
        var keepWhole = new Option<string?>("--keep-whole") { Description = "Phrases the tokenizer keeps as one piece, comma-separated (e.g. \"is a,is not\"): BPE can then give each one token. Such a tokenizer has no llama.cpp pre-tokenizer, so the model cannot be exported to GGUF." };
        var vocabSize = new Option<int>("--vocab-size") { Description = "BPE vocabulary: 256 bytes plus learned merges (special tokens on top).", DefaultValueFactory = _ => defaults.VocabSize };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => context.Settings.Device };
        var matmul = new Option<string>("--matmul") { Description = "fp32, or bf16: mixed precision, the blocks' matrix products in bf16 on fp32 weights (about 1.5× faster steps on CPUs with AVX-512 BF16; evaluation and the saved model stay fp32).", DefaultValueFactory = _ => defaults.Matmul };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch.", DefaultValueFactory = _ => defaults.Threads };
        var evalEvery = new Option<int>("--eval-every") { Description = "Measure greedy accuracy every this many steps.", DefaultValueFactory = _ => defaults.EvalEvery };
        var evalProblems = new Option<int>("--eval-problems") { Description = "Problems per task (from each fixed test set) for that measurement.", DefaultValueFactory = _ => defaults.EvalProblems };
        var saveEvery = new Option<int>("--save-every") { Description = "Save a resumable checkpoint every this many steps.", DefaultValueFactory = _ => defaults.SaveEvery };
        var resume = new Option<bool>("--resume") { Description = "Continue from the run folder's checkpoint (an interrupted run, or a finished one given a larger --steps)." };
        var force = new Option<bool>("--force") { Description = "Start afresh in a folder that holds a model or an unfinished run, replacing it." };
        var lookupShare = new Option<double>("--lookup-share") { Description = "Share of logic problems that become look-up drills (the question's statements restated in a random order, prompts/lookup-bare.txt) instead of solutions.", DefaultValueFactory = _ => defaults.LookupShare };
        var ruleClozeShare = new Option<double>("--rule-cloze-share") { Description = "Share of look-up drills that are rule clozes instead: the question, then \"Every C is\" for one of its property rules, answered by the rest of that rule (\" not small.\"), so that the rule's polarity, which decides a logic answer, is most of the example's loss; 0 leaves the stream of sequences as before.", DefaultValueFactory = _ => defaults.RuleClozeShare };
        var reverseDrillShare = new Option<double>("--reverse-drill-share") { Description = "Share of look-up drills that are reverse drills instead: the question, then each statement whose predicate is unique asked backwards (\"Which is not small? tumpus.\"), so that a rule's words learn to hold its subject, the half of the forward look-up that is not rewarded alone; 0 leaves the stream of sequences as before.", DefaultValueFactory = _ => defaults.ReverseDrillShare };
        var quizDrillShare = new Option<double>("--quiz-drill-share") { Description = "Share of the look-up drills left after reverse drills that are quiz drills instead: the question, then each property rule asked yes or no by its subject and property (\"Is every tumpus small? no.\"), so that the polarity is found from the subject, the query half of the forward look-up; 0 leaves the stream of sequences as before.", DefaultValueFactory = _ => defaults.QuizDrillShare };
        var uncontestedShare = new Option<double>("--uncontested-share") { Description = "Share of logic training problems without the contested distractor (no other category's rule about the asked property), so that a head finding the rules about the property is rewarded before it can tell C's rule from another's, and then only has to learn that on the rest; the test sets keep it always; 0 leaves the stream of problems as before.", DefaultValueFactory = _ => defaults.UncontestedShare };
        var askedDrillShare = new Option<double>("--asked-drill-share") { Description = "Share of the look-up drills left after reverse and quiz drills that are asked-property drills instead: the question, then its rules about the property its last sentence asks, written out as a solution cites them (\"Every tumpus is not small.\"), so that the polarity is found from the subject with the property where a solution has it; 0 leaves the stream of sequences as before.", DefaultValueFactory = _ => defaults.AskedDrillShare };
        var ruleClozeWeight = new Option<double>("--rule-cloze-weight") { Description = "Loss weight of a rule cloze's target tokens (1: like any token; 10: each cloze's polarity counts ten times).", DefaultValueFactory = _ => defaults.RuleClozeWeight };
        var selfEvalShare = new Option<double>("--self-eval-share") { Description = "Share of training sequences that are self-evaluation examples (prompts/self-eval-bare.txt over reference and corrupted steps, answered as the gold step labels judge them); 0 for solutions only.", DefaultValueFactory = _ => defaults.SelfEvalShare };
        var selfEvalWeight = new Option<double>("--self-eval-weight") { Description = "Loss weight of a self-evaluation example's answer letter, its only target token (1: like any token, under 1 % of a batch's loss; 20: each judgement counts twenty times); on reference and own steps alike, every sequence of the run unchanged.", DefaultValueFactory = _ => defaults.SelfEvalWeight };
        var ownStepsAt = new Option<int?>("--own-steps-at") { Description = "Start the own-step phase at this step: the model samples solutions to train problems, the gold step judge labels each of their steps, and from then on --own-step-share of the sequences are self-evaluation examples on those steps (the pool is saved as own-steps.jsonl in the run folder). Resuming a finished run with a larger --steps and --own-steps-at at its last step adds the phase to it." };
        var ownStepShare = new Option<double>("--own-step-share") { Description = "Share of the own-step phase's sequences that are self-evaluation examples on the model's own steps (sound and unsound drawn evenly).", DefaultValueFactory = _ => defaults.OwnStepShare };
        var ownStepProblems = new Option<int>("--own-step-problems") { Description = "Train problems per task the own-step pool samples solutions for.", DefaultValueFactory = _ => defaults.OwnStepProblems };
        var ownStepSamples = new Option<int>("--own-step-samples") { Description = "Solutions sampled per problem (temperature 1, as search proposes steps) for the own-step pool.", DefaultValueFactory = _ => defaults.OwnStepSamples };
        var ownStepWeight = new Option<double?>("--own-step-weight") { Description = "Loss weight of self-evaluation answer letters in the own-step phase (own and reference steps alike) instead of --self-eval-weight: one run can keep the judgements at weight 1 until the phase. Default: --self-eval-weight." };
        var ownStepTasks = new Option<string?>("--own-step-tasks") { Description = "The tasks of the own-step phase's judgements and their proportions (arith:1,logic:1), whatever the problem mix; tasks trained on only. Default: each judgement is of the task of the problem it replaces, so a task drawn rarely is rarely judged." };
        var ownStepHeldOut = new Option<int>("--own-step-held-out") { Description = "Test problems per task whose sampled steps measure self-evaluation on the model's own steps during the phase (never trained on).", DefaultValueFactory = _ => defaults.OwnStepHeldOut };
        var command = new Command("pretrain", "Train a small Llama-architecture model from scratch on the built-in tasks (byte-level BPE tokenizer learned first; loss on solution tokens only).")
        {
            output, minutes, steps, scheduleSteps, arch, layers, hidden, heads, kvHeads, ropeTheta, lr, weightDecay, warmup, batch, accumulation, seqLen, difficulty, taskDifficulty, switchAt, switchTasks, switchDifficulty, switchTaskDifficulty, solutionWeight, seed, tasks, keepWhole, vocabSize, device, matmul, threads, evalEvery, evalProblems, saveEvery, resume, force, selfEvalShare, selfEvalWeight, lookupShare, ruleClozeShare, ruleClozeWeight, reverseDrillShare, quizDrillShare, askedDrillShare, uncontestedShare,
            ownStepsAt, ownStepShare, ownStepProblems, ownStepSamples, ownStepHeldOut, ownStepWeight, ownStepTasks,
        };
        command.SetAction((parse, cancel) =>
        {
            var settings = new PretrainSettings
            {
                OutputDirectory = parse.GetValue(output)!,
                Minutes = parse.GetValue(minutes),
                Steps = parse.GetValue(steps),
                ScheduleSteps = parse.GetValue(scheduleSteps),
                Architecture = parse.GetValue(arch)!,
                Layers = parse.GetValue(layers),
                Hidden = parse.GetValue(hidden),
                Heads = parse.GetValue(heads),
                KvHeads = parse.GetValue(kvHeads),
                RopeTheta = parse.GetValue(ropeTheta),
                LearningRate = parse.GetValue(lr),
                WeightDecay = parse.GetValue(weightDecay),
                WarmupSteps = parse.GetValue(warmup),
                Batch = parse.GetValue(batch),
                Accumulation = parse.GetValue(accumulation),
                SeqLen = parse.GetValue(seqLen),
                Seed = parse.GetValue(seed),
                VocabSize = parse.GetValue(vocabSize),
                WholePhrases = parse.GetValue(keepWhole) is { } phrases ? [.. phrases.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)] : [],
                Device = parse.GetValue(device)!,
                Matmul = parse.GetValue(matmul)!,
                Threads = parse.GetValue(threads),
                EvalEvery = parse.GetValue(evalEvery),
                EvalProblems = parse.GetValue(evalProblems),
                SaveEvery = parse.GetValue(saveEvery),
                Resume = parse.GetValue(resume),
                Force = parse.GetValue(force),
                SelfEvalShare = parse.GetValue(selfEvalShare),
                LookupShare = parse.GetValue(lookupShare),
                RuleClozeShare = parse.GetValue(ruleClozeShare),
                RuleClozeWeight = parse.GetValue(ruleClozeWeight),
                SelfEvalWeight = parse.GetValue(selfEvalWeight),
                ReverseDrillShare = parse.GetValue(reverseDrillShare),
                QuizDrillShare = parse.GetValue(quizDrillShare),
                AskedDrillShare = parse.GetValue(askedDrillShare),
                UncontestedShare = parse.GetValue(uncontestedShare),
                OwnStepsAt = parse.GetValue(ownStepsAt),
                OwnStepShare = parse.GetValue(ownStepShare),
                OwnStepProblems = parse.GetValue(ownStepProblems),
                OwnStepSamples = parse.GetValue(ownStepSamples),
                OwnStepHeldOut = parse.GetValue(ownStepHeldOut),
                OwnStepWeight = parse.GetValue(ownStepWeight),
            };
            try
            {
                settings = settings with
                {
                    Tasks = TaskMix.Parse(parse.GetValue(tasks)!),
                    Difficulties = DifficultyMix.Parse(parse.GetValue(difficulty)!),
                    TaskDifficulties = DifficultyMix.ParsePerTask(parse.GetValue(taskDifficulty) ?? []),
                    SolutionWeights = TaskMix.ParseWeights(parse.GetValue(solutionWeight) ?? []),
                    OwnStepTasks = parse.GetValue(ownStepTasks) is { } judged ? TaskMix.Parse(judged) : null,
                };
                bool switchGiven = parse.GetValue(switchTasks) is not null || parse.GetValue(switchDifficulty) is not null || parse.GetValue(switchTaskDifficulty) is { Length: > 0 };
                if (parse.GetValue(switchAt) is { } at)
                    settings = settings with
                    {
                        Switch = new MixSwitch(at,
                            parse.GetValue(switchTasks) is { } t ? TaskMix.Parse(t) : settings.Tasks,
                            parse.GetValue(switchDifficulty) is { } d ? DifficultyMix.Parse(d) : settings.Difficulties,
                            parse.GetValue(switchTaskDifficulty) is { Length: > 0 } td ? DifficultyMix.ParsePerTask(td) : settings.TaskDifficulties),
                    };
                else if (switchGiven) throw new ArgumentException("--switch-tasks, --switch-difficulty and --switch-task-difficulty need --switch-at, the step the second mix starts at");
                settings.Validate();
            }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            var prompts = PromptFolder.Open(context.Settings);
            return Task.FromResult(PolicyTrainingCommand.WithHint(() =>
                Run(context.Console, settings, prompts.Get(PromptLibrary.SolveBare), prompts.Get(PromptLibrary.SelfEvalBare), prompts.Get(PromptLibrary.LookupBare), cancel)));
        });
        return command;
    }

    static int Run(IAnsiConsole console, PretrainSettings settings, PromptTemplate prompt, PromptTemplate selfEvalPrompt, PromptTemplate lookupPrompt, CancellationToken cancel)
    {
        PretrainResult? result = null;
        console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .Start(progress =>
            {
                var bar = progress.AddTask("starting", maxValue: 1);
                string accuracy = "";
                var pretrainer = new Pretrainer(settings, prompt, selfEvalPrompt, lookupPrompt)
                {
                    OnMessage = message => console.MarkupLineInterpolated($"[grey]{message}[/]"),
                    OnStep = (step, total) =>
                    {
                        bar.MaxValue = total;
                        bar.Value = step.Step;
                        // A time-budgeted run knows its length only after its first steps.
                        var of = total == int.MaxValue ? "?" : total.ToString(CultureInfo.InvariantCulture);
                        bar.Description = Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                            $"step {step.Step}/{of} loss {step.Loss:0.000} lr {step.LearningRate:0.0e0} {step.TokensPerSecond:N0} tok/s{accuracy}"));
                    },
                    OnEvaluation = (step, results) =>
                    {
                        accuracy = string.Concat(results.Select(r => string.Create(CultureInfo.InvariantCulture, $" {r.Key} {r.Value.Accuracy:P0}")));
                        console.MarkupLineInterpolated($"step {step}: greedy accuracy{accuracy}");
                        foreach (var (task, r) in results)
                            console.MarkupLineInterpolated($"  [grey]{task}: {r.Example.ReplaceLineEndings(" | ")}[/]");
                    },
                    OnSelfEvaluation = (step, auc) => console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                        $"step {step}: self-evaluation AUC against gold{string.Concat(auc.Select(a => $" {a.Key} {(a.Value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–")}"))}"),
                    OnOwnStepSelfEvaluation = (step, auc) => console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                        $"step {step}: self-evaluation AUC on held-out own steps{string.Concat(auc.Select(a => $" {a.Key} {(a.Value is { } v ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–")}"))}"),
                    OnLookup = (step, l) => console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                        $"step {step}: logic look-ups (teacher-forced, first {Pretrainer.LookupProblems} test problems) {l.TokenAccuracy:P1} of {l.Tokens} ({string.Join(", ", l.ByGap.Keys.Order().Select(g => $"{l.GapAccuracy(g):P1} {g} word{(g == 1 ? "" : "s")} after the subject"))}; property rules' polarity {l.PolarityAccuracy:P1} of {l.Polarity.Tokens}); every look-up right in {l.ProblemsAllCorrect} of {l.Problems} problems"),
                };
                result = pretrainer.Run(cancel);
                bar.Value = bar.MaxValue;
            });
        var r = result!;
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"saved [bold]{r.ModelDirectory}[/]: {r.Parameters:N0} parameters, {r.Progress.Step} steps, {r.Progress.Tokens:N0} tokens in {TimeSpan.FromSeconds(r.Progress.Seconds):hh\\:mm\\:ss} ({r.Progress.Tokens / Math.Max(1, r.Progress.Seconds):N0} tok/s), final loss {r.Progress.LastLoss:0.000}");
        foreach (var (task, accuracy) in r.Accuracy)
        {
            var auc = r.SelfEvalAuc.GetValueOrDefault(task) is { } a ? string.Create(CultureInfo.InvariantCulture, $", self-evaluation AUC {a:0.000}") : "";
            if (r.OwnStepAuc.GetValueOrDefault(task) is { } own) auc += string.Create(CultureInfo.InvariantCulture, $" ({own:0.000} on held-out own steps)");
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {task}: greedy {accuracy:P1} on the first {settings.EvalProblems} test problems{auc}");
        }
        if (r.Lookups is { } lookups)
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"  logic look-ups (teacher-forced): {lookups.TokenAccuracy:P1} of {lookups.Tokens}; every look-up right in {lookups.ProblemShare:P1} of {lookups.Problems} problems");
        var t = r.Throughput;
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"throughput: {t.FlopsPerSecond / 1e9:0.0} GFLOP/s of model FLOPs (6·N per token plus attention, real tokens only, over {TimeSpan.FromSeconds(t.Seconds):hh\\:mm\\:ss} of training), {t.Utilisation:P1} of the {t.PeakFlopsPerSecond / 1e9:0.0} GFLOP/s {t.PeakDtype} matmul peak measured in this run with {settings.Threads} threads after each logged window (weighted by its seconds); {t.UtilisationOfFastestPeak:P1} of the fastest measurement, {t.FastestPeakFlopsPerSecond / 1e9:0.0} GFLOP/s");
        return 0;
    }
}
