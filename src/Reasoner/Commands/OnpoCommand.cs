using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Models;
using Reasoner.Models.Checkpoints;
using Reasoner.Training;
using Reasoner.Training.Framework;
using Reasoner.Training.Onpo;
using Reasoner.Training.Preference;
using Spectre.Console;
using TorchSharp;

namespace Reasoner.Cli.Commands;

/// <summary>
/// <c>train onpo RUN…</c>: one round t of ONPO (arXiv 2502.16852, Algorithm 1). The runs hold solutions π_t sampled; the
/// round fits π′_{t+1} anchored at π′_t into OUT/auxiliary, then π_{t+1} anchored at π′_{t+1} into OUT. The next round
/// reads OUT/auxiliary as its π′.
/// </summary>
static class OnpoCommand
{
    public const string AuxiliaryFolder = "auxiliary";

    public static Command Create(CliContext context)
    {
        var defaults = new OnpoSettings();
        var common = new PolicyTrainingOptions(context, "onpo", defaults, "pairs", "TRL preference JSONL ({prompt, chosen, rejected}: chosen is the winner)");
        var auxiliary = new Option<string?>("--auxiliary") { Description = "The auxiliary iterate π′_t the first fit is anchored at. Default: the policy folder's auxiliary/ (written by the previous round), else the policy itself (round 1: π′_1 = π_1)." };
        var eta = new Option<double>("--eta") { Description = "η: each pair's log-ratio margin against the anchor is fitted to η/2 nats (the paper's 1/η = 0.01 is for 8B models and long responses).", DefaultValueFactory = _ => defaults.Eta };
        var pairs = EnumOption.Create<OnpoPairs>("--pairs", "all: every pair the oracle does not tie. best-vs-worst: the oracle's best solution against its worst, kept when the best wins (INPO).", defaults.Pairs);
        var oracle = EnumOption.Create<OracleKind>("--oracle", "outcome: a correct answer beats a wrong one, anything else is a coin. judge: a model asked which of two solutions is better (prompts/judge-pair.txt, both orders averaged), which need not be transitive. verifier: σ of the difference of a train plv verifier's last-step scores (--verifier).", OracleKind.Outcome);
        var verifierDir = new Option<string?>("--verifier") { Description = "The verifier oracle's verifier: a train plv folder, or a serve-model --scorer server ([MODEL@]http://HOST:PORT)." };
        var judgeModel = new Option<string?>("--judge-model") { Description = "The judge oracle's model folder. Default: the sampling policy itself (self-judging)." };
        var samples = new Option<int>("--samples") { Description = "Solutions per problem the pairs come from: at most this many of its tree's terminals, or with --fresh exactly this many new ones (INPO: 8).", DefaultValueFactory = _ => defaults.Samples };
        var fresh = new Option<bool>("--fresh") { Description = "Sample --samples new solutions per problem of the runs from the policy π_t (at --temperature) instead of taking the trees' terminals. A resumed round draws the same ones again (same weights, same seeds)." };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature with --fresh.", DefaultValueFactory = _ => 1.0 };
        var command = new Command("onpo",
            "ONPO (optimistic online mirror descent for a general preference game): one round. Pairs of the runs' finished solutions ordered by the outcome oracle " +
            "(a correct answer beats a wrong one, otherwise a coin); two square-loss fits on them, first the auxiliary iterate (saved in OUT/auxiliary), then the policy anchored at it.")
        {
            auxiliary, eta, pairs, samples, fresh, temperature, oracle, judgeModel, verifierDir,
        };
        common.AddTo(command);
        command.SetAction((parse, cancel) =>
        {
            var settings = common.Apply(parse, defaults with
            {
                Eta = parse.GetValue(eta),
                Pairs = EnumOption.Value<OnpoPairs>(parse, pairs),
                Samples = parse.GetValue(samples),
            });
            try { settings.Validate(); }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            if (parse.GetValue(common.Threads) < 1) throw new UserError($"--threads must be at least 1, got {parse.GetValue(common.Threads)}");

            var inputs = parse.GetValue(common.Runs)!;
            bool files = PolicyTrainingCommand.InputFiles(inputs, "onpo", "TRL preference JSONL");
            var runDirs = files ? inputs.Select(Path.GetFullPath).ToArray() : inputs.Select(r => RunLocation.Resolve(r, context.Settings)).ToArray();
            var outDir = RunLocation.ForOutput(parse.GetValue(common.Output) ?? "onpo-" + Path.GetFileNameWithoutExtension(runDirs[0]), context.Settings);
            var auxDir = Path.Combine(outDir, AuxiliaryFolder);
            var (auxRun, mainRun) = PolicyTrainingCommand.WithHint(() => OpenRuns(outDir, auxDir, parse.GetValue(common.Resume), parse.GetValue(common.Force)));
            var trees = files ? [] : PolicyTrainingCommand.ReadTrees(context, runDirs);
            var policy = Path.GetFullPath(parse.GetValue(common.Model) ?? (files ? null : PolicyTrainingCommand.SearchingModel(trees.Select(t => t.ModelId))) ?? BuiltinModel.Locate());
            var anchor = Path.GetFullPath(parse.GetValue(auxiliary) ?? (Directory.Exists(Path.Combine(policy, AuxiliaryFolder)) && (File.Exists(Path.Combine(policy, AuxiliaryFolder, "config.json")) || LoraAdapters.IsAdapterFolder(Path.Combine(policy, AuxiliaryFolder))) ? Path.Combine(policy, AuxiliaryFolder) : policy));

            torch.set_num_threads(parse.GetValue(common.Threads));
            torch.manual_seed(settings.Seed);
            var device = TorchRuntime.ParseDevice(parse.GetValue(common.Device)!);
            var tokenizer = CheckpointLoader.LoadTokenizer(anchor);
            // A TRL preference file already holds the oracle's verdicts: chosen won.
            if (files && parse.GetValue(fresh)) throw new UserError("--fresh samples solutions to the problems of runs; a preference file has no problems to sample");
            if (!(parse.GetValue(temperature) > 0)) throw new UserError($"--temperature must be positive, got {parse.GetValue(temperature)}");
            var oracleKind = EnumOption.Value<OracleKind>(parse, oracle);
            if ((oracleKind == OracleKind.Verifier) != (parse.GetValue(verifierDir) is not null))
                throw new UserError("--oracle verifier and --verifier DIR go together");
            var data = files
                ? FromFiles(runDirs, tokenizer, settings.MaxLength)
                : BuildPairs(context, trees, tokenizer, settings, oracleKind, oracleKind == OracleKind.Verifier ? parse.GetValue(verifierDir)! : parse.GetValue(judgeModel) ?? policy, device,
                    parse.GetValue(fresh) ? (policy, parse.GetValue(temperature)) : null, cancel);
            var split = HeldOutSplit.ByProblem(data.Pairs, p => p.ProblemId, settings.EvalFraction, settings.Seed);
            if (split.Train.Count == 0)
                throw new UserError($"the runs give no training pairs ({trees.Count} trees, {data.Problems} with 2+ finished solutions, {data.Ties} ties, {data.TooLong} over {settings.MaxLength} tokens; {split.Eval.Count} held out)");
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"[grey]{(files ? $"{runDirs.Length} file(s)" : $"{trees.Count} trees")} → {data.Pairs.Count} pairs from {data.Problems} problems ({data.Ties} ties and {data.TooLong} over {settings.MaxLength} tokens left out): {split.Train.Count} to train on, {split.Eval.Count} held out from {split.EvalProblems} problems[/]");
            context.Console.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"[grey]sampling policy π_t {policy}; auxiliary iterate π′_t {anchor}; η {settings.Eta}, lr {settings.LearningRate}, {settings.Epochs} epochs[/]");

            var method = Method(settings);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            if (auxRun is not null)
            {
                context.Console.MarkupLine("fit 1 of 2: π′_{t+1}, anchored at π′_t");
                using var model = CheckpointLoader.Load(anchor, device).Model;
                var lora = settings.LoraRank > 0 ? LoraAdapters.Attach(model, settings.LoraRank, settings.LoraAlpha) : null;
                var (result, stopped) = PolicyTrainingCommand.Fit(context, auxRun, method with { Name = "onpo-auxiliary" }, model, tokenizer, split, cancel);
                if (stopped is { } code) return Task.FromResult(code);
                auxRun.Finish(model, tokenizer, new TrainingProvenance("onpo-auxiliary", "pairs", anchor, runDirs, settings, result.Steps,
                    result.TrainExamples, result.EvalExamples, clock.Elapsed, result.EvalBefore, result.EvalAfter), lora);
            }
            context.Console.MarkupLine("fit 2 of 2: π_{t+1}, anchored at π′_{t+1}");
            using (var model = CheckpointLoader.Load(auxDir, device).Model)
            {
                var lora = settings.LoraRank > 0 ? LoraAdapters.Attach(model, settings.LoraRank, settings.LoraAlpha) : null;
                var (result, stopped) = PolicyTrainingCommand.Fit(context, mainRun, method, model, tokenizer, split, cancel);
                if (stopped is { } code) return Task.FromResult(code);
                mainRun.Finish(model, tokenizer, new TrainingProvenance("onpo", "pairs", auxDir, runDirs, settings, result.Steps,
                    result.TrainExamples, result.EvalExamples, clock.Elapsed, result.EvalBefore, result.EvalAfter), lora);
                PolicyTrainingCommand.Report(context.Console, method, result, outDir, clock.Elapsed);
            }
            return Task.FromResult(0);
        });
        return command;
    }

    /// <summary>
    /// The two fits' folders as asked. A fresh round needs both free (or --force); a resumed one continues the fit that
    /// was stopped, and skips the first when its model is already saved. A null first run means it is done.
    /// </summary>
    private static (TrainingRun? Auxiliary, TrainingRun Policy) OpenRuns(string outDir, string auxDir, bool resume, bool force)
    {
        if (!resume)
            return (TrainingRun.Open(auxDir, "onpo.json", false, force), TrainingRun.Open(outDir, "onpo.json", false, force));
        bool auxStarted = TrainingCheckpoint.Exists(Path.Combine(auxDir, TrainingRun.CheckpointFolder));
        bool auxDone = !auxStarted && (File.Exists(Path.Combine(auxDir, "config.json")) || File.Exists(Path.Combine(auxDir, LoraAdapters.ConfigFile)));
        if (!auxStarted && !auxDone) throw new TrainingRunException($"{outDir} holds no unfinished ONPO round to resume", TrainingRunConflict.NothingToResume);
        bool mainStarted = TrainingCheckpoint.Exists(Path.Combine(outDir, TrainingRun.CheckpointFolder));
        if (auxDone && !mainStarted && (File.Exists(Path.Combine(outDir, "config.json")) || File.Exists(Path.Combine(outDir, LoraAdapters.ConfigFile))))
            throw new TrainingRunException($"{outDir} holds a finished ONPO round; nothing to resume", TrainingRunConflict.NothingToResume);
        return (auxDone ? null : TrainingRun.Open(auxDir, "onpo.json", true, false), TrainingRun.Open(outDir, "onpo.json", mainStarted, true));
    }

    public enum OracleKind { Outcome, Judge, Verifier }

    /// <param name="oracleModel">The judge's model folder, or the verifier's.</param>
    /// <param name="fresh">With a policy folder, the solutions are sampled from it afresh instead of read from the trees.</param>
    private static OnpoPairSet BuildPairs(CliContext context, IReadOnlyList<Core.Trees.PreferenceTree> trees, Models.Tokenization.HfTokenizer tokenizer,
        OnpoSettings settings, OracleKind kind, string oracleModel, TorchSharp.torch.Device device, (string Policy, double Temperature)? fresh, CancellationToken cancel)
    {
        var prompts = PromptFolder.Open(context.Settings);
        if (kind == OracleKind.Judge)
            context.Console.MarkupLineInterpolated($"[grey]judge oracle: {oracleModel} on {prompts.Get(Core.Prompts.PromptLibrary.JudgePair).Source}[/]");
        if (kind == OracleKind.Verifier) context.Console.MarkupLineInterpolated($"[grey]verifier oracle: {oracleModel}[/]");
        using var judge = kind == OracleKind.Judge ? Models.Generation.TorchEngine.Load(oracleModel, device) : null;
        using var verifier = kind == OracleKind.Verifier ? Models.Scoring.StepScoringModels.Open(oracleModel, device) : null;
        IPreferenceOracle oracle = kind switch
        {
            OracleKind.Judge => new JudgeOracle(judge!, prompts.Get(Core.Prompts.PromptLibrary.JudgePair)),
            OracleKind.Verifier => new VerifierOracle(verifier!, prompts),
            _ => new OutcomeOracle(),
        };
        if (fresh is not { } sampled) return OnpoPairSet.BuildAsync(trees, prompts, tokenizer, oracle, settings, cancel).GetAwaiter().GetResult();

        var problems = trees.Select(t => t.Problem).DistinctBy(p => p.Id).ToList();
        if (problems.Count == 0) throw new UserError("--fresh: the runs hold no problems");
        var (prompt, sampling) = PolicyTrainingCommand.Sampling(context, sampled.Policy, tokenizer, problems, settings.MaxLength, new OnPolicySamples(settings.Samples, sampled.Temperature), settings.Seed);
        using var policy = CheckpointLoader.Load(sampled.Policy, device).Model;
        IReadOnlyList<SampledSolutions> drawn = [];
        context.Console.Progress().AutoClear(true).Start(progress =>
        {
            var bar = progress.AddTask($"sampling {settings.Samples} solutions per problem from π_t", maxValue: problems.Count);
            drawn = PolicySampler.Sample(policy, tokenizer, problems, prompt, sampling, done => bar.Value = done, cancel);
        });
        return OnpoPairSet.FromSamplesAsync(drawn, prompt, tokenizer, oracle, settings, cancel).GetAwaiter().GetResult();
    }

    private static OnpoPairSet FromFiles(IEnumerable<string> files, Models.Tokenization.ITextTokenizer tokenizer, int maxLength)
    {
        var read = files.SelectMany(f => TrlPreferenceReader.Read(f, tokenizer)).ToList();
        var kept = read.Where(p => p.Chosen.Length > 0 && p.Rejected.Length > 0 && p.Length <= maxLength).ToList();
        return new OnpoPairSet(kept, read.Select(p => p.ProblemId).Distinct().Count(), 0, read.Count - kept.Count);
    }

    private static PolicyMethod<TokenizedPair, (double Chosen, double Rejected), PairBatch, OnpoMetrics> Method(OnpoSettings settings) => new(
        Name: "onpo", Title: "ONPO round", ExampleKind: "pairs", Settings: settings,
        Data: (_, _) => throw new InvalidOperationException("ONPO builds its pairs once for both fits"),
        ProblemId: p => p.ProblemId,
        Objective: (model, pad, _) => new OnpoObjective(model, pad, settings),
        Describe: m => string.Create(CultureInfo.InvariantCulture, $"loss {m.Loss:0.000} margin {m.Margin:0.000} margin>0 {m.Accuracy:P0}"),
        SettingsLine: string.Create(CultureInfo.InvariantCulture, $"η {settings.Eta}"));
}
