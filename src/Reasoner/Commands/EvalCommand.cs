using System.CommandLine;
using System.Globalization;
using Reasoner.Generation;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Datasets;
using Reasoner.Core.Export;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Statistics;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;
using Reasoner.Models.Checkpoints;
using Reasoner.Training.Evaluation;
using Spectre.Console;
using TorchSharp;

namespace Reasoner.Cli.Commands;

/// <summary><c>eval</c>: greedy accuracy, pass@k and maj@k of a model with 95 % intervals, saved per problem; or two evaluations compared.</summary>
static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var defaults = new EvalSettings();
        var task = new Option<string?>("--task") { Description = "Task family: arith, logic (fixed 1,000-problem test sets), gsm8k, math, arc, csqa, strategyqa. Required unless --compare reads two saved reports." };
        var modelDir = new Option<string?>("--model") { Description = "Model folder (Hugging Face layout). Default: the built-in model, models/builtin." };
        var difficulty = new Option<int>("--difficulty") { Description = "Built-in tasks: the test set of this difficulty (2 or 3; 1 also works).", DefaultValueFactory = _ => BuiltinTasks.DefaultDifficulty };
        var problems = new Option<int?>("--problems") { Description = "Evaluate the first N problems (default: all)." };
        var data = new Option<string?>("--data") { Description = "Data-set tasks: read this file instead of the family's default under DataDir." };
        var k = new Option<int>("--k") { Description = "k of pass@k and maj@k; 0 for greedy accuracy alone (no samples drawn: half the tokens of k 1).", DefaultValueFactory = _ => defaults.K };
        var samples = new Option<int?>("--samples") { Description = "Samples per problem, n >= k (default k); n > k gives the unbiased pass@k estimate." };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature for pass@k and maj@k.", DefaultValueFactory = _ => defaults.Temperature };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => defaults.TopP };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest solution in tokens.", DefaultValueFactory = _ => defaults.MaxTokens };
        var seed = new Option<int>("--seed") { Description = "Sampling seed (problem i uses seed + i).", DefaultValueFactory = _ => context.Settings.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => context.Settings.Device };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch.", DefaultValueFactory = _ => 2 };
        var concurrency = new Option<int>("--concurrency") { Description = "Problems evaluated at once: their requests join the engine's forward passes (each problem keeps its own seed, so the samples do not depend on it; batched arithmetic can still flip a rare near-tie, see README).", DefaultValueFactory = _ => DefaultConcurrency };
        var output = new Option<string?>("--out", "-o") { Description = "Where to save the report (JSON with every problem's outcome). Default: <RunsDir>/eval/<model>-<task>[-d<difficulty>][-n<problems>].json. With --compare: where to save the comparison." };
        var bestOf = new Option<int?>("--best-of") { Description = "Best-of-N with --verifier: N samples per problem (sets k and n to N unless given), reranked by the verifier, printed beside maj@N, pass@N and, on built-in tasks, the gold-label oracle's pick." };
        var verifier = new Option<string?>("--verifier") { Description = "A step verifier that reranks the samples, a folder (train plv) or a serve-model --scorer server ([MODEL@]http://HOST:PORT): the sample with the highest aggregated step score stands for the problem." };
        var aggregate = EnumOption.Create<StepAggregation>("--aggregate", "How a sample's step scores make its score: σ of the last step's, the least σ (min), or the product of σ.", StepAggregation.Min);
        var beam = new Option<int?>("--beam") { Description = "Also answer each problem by step beam search of width B (B kept, B steps sampled from each): scored by the model's own self-evaluation, and with --value by a value model alone, printed beside greedy." };
        var value = new Option<string?>("--value") { Description = "The value model that guides the beam: a train oreo output folder (its value head), a train plv verifier, or a serve-model --scorer server serving either." };
        var valueOnly = new Option<bool>("--value-only") { Description = "With --value: run only the value-guided beam, not the beam on the model's own self-evaluation beside it (about half the beams' time)." };
        var compare = new Option<string[]>("--compare")
        {
            Description = "Compare two evaluations on the same problems: A B, each a model folder (evaluated now with these settings, its report saved) or a saved report (.json). Prints B − A with a 95 % interval and McNemar's exact p.",
            Arity = new ArgumentArity(2, 2),
            AllowMultipleArgumentsPerToken = true,
        };
        var lookups = new Option<bool>("--lookups") { Description = "logic only: instead of solving, the teacher-forced look-up accuracy (the tokens a logic solution finds in the question, with the reference solution as context), by the words between each looked-up word and its subject." };
        var uncontested = new Option<bool>("--uncontested") { Description = "With --lookups: measure on test problems drawn without the contested distractor (no other category's rule about the asked property; pretrain --uncontested-share), the first of a stream from the test sets' seed, instead of the test set: whether the model reads a property rule's polarity where finding the rule by its property is enough." };
        var attention = new Option<bool>("--attention") { Description = "logic only: instead of solving, where each attention head looks when a reference solution has reached \"Every C is\" before the polarity of C's rule about the asked property: its mean share on that rule's subject and words, on the other category's rule about the property (its words, the rest), on C's other rules, on the asked property, on the solution and on the rest; and at the last word of C's rule in the question, its share on C (the rule's words gathering their subject, the key half of the look-up)." };
        var show = new Option<string?>("--show") { Description = "Print a saved report (its tables and paired differences) without evaluating anything." };
        var plot = new Option<string?>("--plot") { Description = "Where to draw the accuracies with their intervals as a PNG. Default: beside the report (its name, .png); with --show, only when given." };
        var command = new Command("eval",
            "Greedy accuracy, pass@k and maj@k (majority vote over extracted answers) of a model on a task's evaluation set, with 95 % intervals " +
            "(Wilson for greedy and maj@k, a bootstrap over problems for pass@k and sample accuracy); on built-in tasks also the share of correct greedy " +
            "solutions whose every step is gold-sound. Saves every problem's outcome, so that --compare can pair two saved reports.")
        {
            task, modelDir, difficulty, problems, data, k, samples, temperature, topP, maxTokens, seed, device, threads, concurrency, output, compare, bestOf, verifier, aggregate, beam, value, valueOnly, lookups, uncontested, attention, show, plot,
        };
        command.SetAction(async (parse, cancel) =>
        {
            if (parse.GetValue(show) is { } saved)
            {
                if (!File.Exists(saved)) throw new FileNotFoundException($"no saved report at {saved}", saved);
                var loaded = EvalReport.Load(saved);
                Print(context.Console, loaded);
                if (parse.GetValue(plot) is { } png) DrawPlot(context, loaded, png);
                return 0;
            }
            if (parse.GetValue(lookups) || parse.GetValue(attention))
            {
                if (parse.GetValue(task) != BuiltinTasks.Logic) throw new UserError($"{(parse.GetValue(lookups) ? "--lookups" : "--attention")} measures the built-in logic task's look-ups: give --task logic");
                torch.set_num_threads(parse.GetValue(threads));
                if (parse.GetValue(uncontested) && !parse.GetValue(lookups)) throw new UserError("--uncontested measures look-ups on uncontested problems: give --lookups");
                var logic = parse.GetValue(uncontested)
                    ? BuiltinTasks.UncontestedLogicTestProblems(parse.GetValue(difficulty))
                    : BuiltinTasks.TestSet(BuiltinTasks.Logic, parse.GetValue(difficulty));
                var chosen = parse.GetValue(problems) is { } count ? logic.Take(count).ToArray() : logic;
                var directory = parse.GetValue(modelDir) ?? BuiltinModel.Locate();
                if (parse.GetValue(lookups)) PrintLookups(context, directory, chosen);
                if (parse.GetValue(attention)) PrintAttention(context, directory, chosen);
                return 0;
            }
            if (parse.GetValue(bestOf) is not null && parse.GetValue(verifier) is null) throw new UserError("--best-of reranks with a verifier: give --verifier DIR");
            if (parse.GetValue(bestOf) is < 1) throw new UserError($"--best-of must be at least 1, got {parse.GetValue(bestOf)}");
            if (parse.GetValue(value) is not null && parse.GetValue(beam) is null) throw new UserError("--value guides step beam search: give --beam B");
            if (parse.GetValue(beam) is < 1) throw new UserError($"--beam must be at least 1, got {parse.GetValue(beam)}");
            if (parse.GetValue(valueOnly) && parse.GetValue(value) is null) throw new UserError("--value-only runs the value-guided beam alone: give --value DIR");
            int kValue = parse.GetResult(k) is not { Implicit: false } && parse.GetValue(bestOf) is { } bestN ? bestN : parse.GetValue(k);
            var settings = new EvalSettings
            {
                K = kValue,
                Samples = parse.GetValue(samples) ?? parse.GetValue(bestOf) ?? kValue,
                Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP),
                MaxTokens = parse.GetValue(maxTokens),
                Seed = parse.GetValue(seed),
            };
            try { settings.Validate(); }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            if (parse.GetValue(threads) < 1) throw new UserError($"--threads must be at least 1, got {parse.GetValue(threads)}");
            if (parse.GetValue(concurrency) < 1) throw new UserError($"--concurrency must be at least 1, got {parse.GetValue(concurrency)}");
            torch.set_num_threads(parse.GetValue(threads));

            // The problems and prompt for a model folder, loaded once: both sides of a comparison see the same set.
            IReadOnlyList<Problem>? set = null;
            TaskFamily? family = null;
            async Task<EvalReport> Evaluate(string directory)
            {
                family ??= TaskFamilies.Get(parse.GetValue(task) ?? throw new UserError("--task is required to evaluate a model"));
                if (!family.IsBuiltin && parse.GetValue(difficulty) != BuiltinTasks.DefaultDifficulty) throw new UserError($"--difficulty applies to the built-in tasks, not {family.Name}");
                if (set is null)
                {
                    set = LoadProblems(context, family, parse.GetValue(data), parse.GetValue(difficulty));
                    if (parse.GetValue(problems) is { } n) set = set.Take(n).ToArray();
                }
                var reranker = parse.GetValue(verifier) is { } v ? (Models.Scoring.StepScoringModels.FullSpec(v), EnumOption.Value<StepAggregation>(parse, aggregate)) : ((string, StepAggregation)?)null;
                var beamSearch = parse.GetValue(beam) is { } width
                    ? (width, parse.GetValue(value) is { } vf ? Models.Scoring.StepScoringModels.FullSpec(vf) : null, parse.GetValue(valueOnly))
                    : ((int, string?, bool)?)null;
                var report = await Run(context, family, set, directory, settings, parse.GetValue(device)!, family.IsBuiltin && parse.GetValue(data) is null ? parse.GetValue(difficulty) : null, parse.GetValue(data), parse.GetValue(concurrency), cancel, reranker, beamSearch);
                Print(context.Console, report);
                return report;
            }

            if (parse.GetValue(compare) is { Length: 2 } pair)
            {
                if (parse.GetValue(modelDir) is not null) throw new UserError("--compare names both sides itself: leave out --model");
                var reports = new List<(string Name, EvalReport Report)>();
                foreach (var item in pair)
                {
                    if (File.Exists(item))
                    {
                        try { reports.Add((item, EvalReport.Load(item))); }
                        catch (InvalidDataException e) { throw new UserError(e.Message); }
                        continue;
                    }
                    if (!File.Exists(Path.Combine(item, "config.json")) && !Models.LoraAdapters.IsAdapterFolder(item))
                        throw new UserError($"--compare: '{item}' is neither a saved eval report nor a model folder (no config.json)");
                    var report = await Evaluate(Path.GetFullPath(item));
                    var savedPath = Save(context, report, DefaultReportPath(context, report, parse.GetValue(problems), avoid: reports.Select(r => r.Name)));
                    DrawPlot(context, report, EvalPlots.PathFor(savedPath));
                    reports.Add((savedPath, report));
                }
                EvalComparison comparison;
                try { comparison = EvalComparison.Compare(reports[0].Report, reports[1].Report); }
                catch (ArgumentException e) { throw new UserError(e.Message); }
                PrintComparison(context.Console, reports[0], reports[1], comparison);
                if (parse.GetValue(output) is { } comparisonPath)
                {
                    Save(context, new { a = reports[0].Name, b = reports[1].Name, comparison }, comparisonPath);
                    EvalPlots.WriteComparison(comparison, Path.GetFileNameWithoutExtension(reports[0].Name), Path.GetFileNameWithoutExtension(reports[1].Name), EvalPlots.PathFor(comparisonPath));
                    context.Console.MarkupLineInterpolated($"[grey]plot → {EvalPlots.PathFor(comparisonPath)}[/]");
                }
                return 0;
            }

            var single = await Evaluate(Path.GetFullPath(parse.GetValue(modelDir) ?? BuiltinModel.Locate()));
            var reportPath = Save(context, single, parse.GetValue(output) ?? DefaultReportPath(context, single, parse.GetValue(problems), avoid: []));
            DrawPlot(context, single, parse.GetValue(plot) ?? EvalPlots.PathFor(reportPath));
            return 0;
        });
        return command;
    }

    /// <summary>Enough requests in flight to fill a forward pass on CPU without making any one problem wait long.</summary>
    const int DefaultConcurrency = 8;

    static Training.Pretraining.SolutionCorpus LogicCorpus(CliContext context, string directory) =>
        new(PromptFolder.Open(context.Settings).Get(ModelPromptSettings.Load(directory)?.Prompt ?? PromptLibrary.SolvePromptFor(BuiltinTasks.Logic)));

    static void PrintAttention(CliContext context, string directory, IReadOnlyList<Problem> problems)
    {
        using var model = CheckpointLoader.LoadModel(directory);
        var profile = Training.Pretraining.AttentionProbe.Measure(model, CheckpointLoader.LoadTokenizer(directory), problems, LogicCorpus(context, directory));
        var regions = Enum.GetValues<Training.Pretraining.AttentionRegion>();
        var table = new Table().Title($"attention at \"Every C is | not\" (the polarity look-up), mean share per head: {Markup.Escape(directory)}, {profile.Problems} problems, next word right in {profile.PolarityRight}")
            .AddColumns(["layer.head", .. regions.Select(Describe), "at C's rule's last word: on C"]);
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        for (int layer = 0; layer < profile.Layers; layer++)
            for (int head = 0; head < profile.Heads; head++)
                table.AddRow([$"{layer}.{head}", .. regions.Select(r => string.Create(CultureInfo.InvariantCulture, $"{100 * profile.Mass[layer, head, (int)r]:0}")),
                    string.Create(CultureInfo.InvariantCulture, $"{100 * profile.SubjectAtRule[layer, head]:0}")]);
        context.Console.Write(table);
    }

    static string Describe(Training.Pretraining.AttentionRegion region) => region switch
    {
        Training.Pretraining.AttentionRegion.AskedProperty => "asked property",
        Training.Pretraining.AttentionRegion.RuleSubject => "C's rule: C",
        Training.Pretraining.AttentionRegion.RuleWords => "C's rule: not P / P",
        Training.Pretraining.AttentionRegion.RuleFrame => "C's rule: Every, is, .",
        Training.Pretraining.AttentionRegion.ContestedWords => "other rule about P: not P / P",
        Training.Pretraining.AttentionRegion.ContestedRule => "other rule: the rest",
        Training.Pretraining.AttentionRegion.SubjectsOtherRules => "C's other rules",
        Training.Pretraining.AttentionRegion.Solution => "solution",
        _ => "rest",
    };

    static void PrintLookups(CliContext context, string directory, IReadOnlyList<Problem> problems)
    {
        var corpus = LogicCorpus(context, directory);
        using var model = CheckpointLoader.LoadModel(directory);
        var tokenizer = CheckpointLoader.LoadTokenizer(directory);
        var l = new Training.Pretraining.LookupMonitor(problems, corpus).Measure(model, tokenizer);
        var table = new Table().Title($"logic look-ups, teacher-forced: {Markup.Escape(directory)}, {l.Problems} problems").AddColumns("look-up tokens", "right", "accuracy");
        foreach (var column in table.Columns.Skip(1)) column.RightAligned();
        void Row(string name, int right, int all) =>
            table.AddRow(name, string.Create(CultureInfo.InvariantCulture, $"{right} / {all}"), string.Create(CultureInfo.InvariantCulture, $"{(all > 0 ? 100.0 * right / all : 0):0.0} %"));
        foreach (var gap in l.ByGap.Keys.Order()) Row($"{gap} word{(gap == 1 ? "" : "s")} after the subject", l.ByGap[gap].Correct, l.ByGap[gap].Tokens);
        foreach (var kind in l.ByKind.Keys.Order()) Row(Describe(kind), l.ByKind[kind].Correct, l.ByKind[kind].Tokens);
        Row("a property rule's polarity or property (Every C is | not)", l.Polarity.Correct, l.Polarity.Tokens);
        Row("all", l.Correct, l.Tokens);
        Row("problems with every look-up right", l.ProblemsAllCorrect, l.Problems);
        context.Console.Write(table);

        // Which way the rule forms go wrong: rows are the solution's word after "Every C is", columns the model's.
        var words = Enum.GetValues<Training.Pretraining.RuleWord>();
        var forms = new Table().Title("the word after \"Every C is\": solution (rows) against the model's prediction (columns)")
            .AddColumns(["solution's word", .. words.Select(Describe)]);
        foreach (var column in forms.Columns.Skip(1)) column.RightAligned();
        foreach (var right in words)
            forms.AddRow([Describe(right), .. words.Select(p => l.Forms.GetValueOrDefault((right, p)).ToString(CultureInfo.InvariantCulture))]);
        context.Console.Write(forms);
        var drills = new Training.Pretraining.LookupDrills(PromptFolder.Open(context.Settings).Get(PromptLibrary.LookupBare));
        var (clozesRight, polar, asked) = Training.Pretraining.LookupMonitor.ClozeAccuracy(model, tokenizer, problems, drills);
        context.Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"rule clozes (the question, then \"Every C is\" for a property rule whose subject has no other rule): the polarity right in {clozesRight} of {asked} ({(asked > 0 ? 100.0 * clozesRight / asked : 0):0.0} %, 95 % interval {Intervals.Wilson(clozesRight, asked).Format()}); a polarity at all in {polar}, right in {(polar > 0 ? 100.0 * clozesRight / polar : 0):0.0} % of those ({Intervals.Wilson(clozesRight, polar).Format()})"));
        void Answers(string what, Func<Problem, Random, IReadOnlyList<Training.Pretraining.AskedLine>> lines)
        {
            var counts = Training.Pretraining.LookupMonitor.AnswerAccuracy(model, tokenizer, problems, drills, lines);
            context.Console.WriteLine(what);
            foreach (var (kind, label) in new[] { (Training.Pretraining.AskedKind.Negated, "is not P"), (Training.Pretraining.AskedKind.Property, "is P"), (Training.Pretraining.AskedKind.Link, "is a C") })
            foreach (var contested in new[] { false, true })
                if (counts.TryGetValue((kind, contested), out var r))
                    context.Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                        $"  {label}{(contested ? ", P also ruled on for another category" : "")}: {r.Right} of {r.Asked} ({100.0 * r.Right / r.Asked:0.0} %, 95 % interval {Intervals.Wilson(r.Right, r.Asked).Format()})"));
        }
        Answers("reverse drills (the question, then each statement whose predicate is unique asked for its subject, \"Which is not small? tumpus.\"): the subject right", Training.Pretraining.LookupDrills.ReverseLines);
        Answers("asked-property drills (the question, then its rules about the asked property, \"Every tumpus is | not small.\"): the rest of the rule right", Training.Pretraining.LookupDrills.AskedPropertyLines);
        Answers("quiz drills (the question, then each property rule asked by its subject and property, \"Is every tumpus small? no.\"): the answer right", Training.Pretraining.LookupDrills.QuizLines);
    }

    static string Describe(Training.Pretraining.RuleWord word) => word switch
    {
        Training.Pretraining.RuleWord.Link => "a (a link)",
        Training.Pretraining.RuleWord.Not => "not",
        _ => "a property or other word",
    };

    static string Describe(Training.Pretraining.LookupKind kind) => kind switch
    {
        Training.Pretraining.LookupKind.Category => "the person's category (Fae is a | jompus)",
        Training.Pretraining.LookupKind.RuleForm => "a rule's form, C's rules all alike (Every C is | a)",
        Training.Pretraining.LookupKind.RuleFormContested => "a rule's form, C's rules differ (a link and a property)",
        Training.Pretraining.LookupKind.LinkTarget => "a link's category, C has one link (is a | lorpus)",
        Training.Pretraining.LookupKind.BranchTarget => "a link's category, C has two or more (a branch)",
        Training.Pretraining.LookupKind.NegatedProperty => "the property after is not",
        _ => kind.ToString(),
    };

    static async Task<EvalReport> Run(CliContext context, TaskFamily family, IReadOnlyList<Problem> set, string directory, EvalSettings settings, string device,
        int? difficulty, string? data, int concurrency, CancellationToken cancel, (string Folder, StepAggregation Aggregate)? reranker = null, (int Width, string? Value, bool ValueOnly)? beam = null)
    {
        // Models trained from scratch say in reasoner.json which prompt they know; others get the family's few-shot prompt.
        var promptSettings = ModelPromptSettings.Load(directory);
        var template = PromptFolder.Open(context.Settings).Get(promptSettings?.Prompt ?? PromptLibrary.SolvePromptFor(family.Name));
        settings = settings with { Stop = promptSettings?.Stop ?? PromptLibrary.FewShotStops };
        using ILanguageModel model = TorchEngine.Load(directory, TorchRuntime.ParseDevice(device));
        using var verifier = reranker is { } r ? Models.Scoring.StepScoringModels.Open(r.Folder, TorchRuntime.ParseDevice(device)) : null;
        var prompts = PromptFolder.Open(context.Settings);
        var evaluator = new Evaluator(model, p => template.Render(new Dictionary<string, string> { ["question"] = PromptLibrary.FormatQuestion(p) }), settings)
        {
            // The verifier reads each sample's steps after the solve prompt it was trained with, all samples over that prompt at once.
            Rerank = verifier is null ? null : async (problem, texts, token) =>
            {
                var steps = texts.Select(Evaluator.Steps).ToArray();
                var raw = await verifier.ScoreStepsAsync(prompts.RenderSolve(problem, verifier.ReadsBarePrompt), steps, Core.Trees.PreferenceTree.StepDelimiter, token);
                return raw.Select(s => BestOfN.Aggregate(s, reranker!.Value.Aggregate)).ToArray();
            },
        };

        // Step beam search on the same model: scored by the model's own self-evaluation, and by a value model alone.
        var beamOverrides = beam is { } b ? new SearchOverrides { BeamWidth = b.Width, Actions = b.Width } : null;
        var (valueVerifier, valueEngine) = beam?.Value is { } valueFolder ? SearchFactory.LoadVerifier(valueFolder, prompts, device) : (null, null);
        using var valueEngineScope = valueEngine;
        var plainBeam = beamOverrides is null || beam!.Value.ValueOnly ? null : SearchFactory.Create(Search.BeamSearch.AlgorithmName, model, prompts, settings.Seed, beamOverrides, promptSettings);
        var valueBeam = beamOverrides is null || valueVerifier is null ? null
            : SearchFactory.Create(Search.BeamSearch.AlgorithmName, model, prompts, settings.Seed, beamOverrides, promptSettings, valueVerifier, verifierOnly: true);
        async Task<bool?> BeamCorrect(Search.ISearchAlgorithm? search, Problem problem)
        {
            if (search is null) return null;
            var answer = Search.BeamSearch.Answer(await search.SearchAsync(problem, cancel));
            return answer is not null && answer.IsCorrect == true;
        }

        // Problems run concurrently so that their requests share forward passes; outcomes keep the set's order.
        var outcomes = new ProblemOutcome?[set.Count];
        await context.Console.Progress()
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
            .StartAsync(async progress =>
            {
                var bar = progress.AddTask($"{family.Name}: {set.Count} problems", maxValue: set.Count);
                int done = 0, greedy = 0, majority = 0;
                double passAtK = 0;
                var tally = new Lock();
                await Parallel.ForEachAsync(Enumerable.Range(0, set.Count), new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancel }, async (i, token) =>
                {
                    var outcome = await evaluator.EvaluateAsync(set[i], i, token);
                    if (plainBeam is not null || valueBeam is not null)
                        outcome = outcome with { BeamCorrect = await BeamCorrect(plainBeam, set[i]), ValueBeamCorrect = await BeamCorrect(valueBeam, set[i]) };
                    outcomes[i] = outcome;
                    lock (tally)
                    {
                        (done, greedy, majority, passAtK) = (done + 1, greedy + (outcome.GreedyCorrect ? 1 : 0), majority + (outcome.MajorityCorrect ? 1 : 0), passAtK + outcome.PassAtK);
                        double n = done;
                        bar.Description = string.Create(CultureInfo.InvariantCulture,
                            $"{Path.GetFileName(directory)} {family.Name}: greedy {greedy / n:P0}")
                            + (settings.K == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $" pass@{settings.K} {passAtK / n:P0} maj@{settings.K} {majority / n:P0}"));
                        bar.Increment(1);
                    }
                });
            });
        var run = new EvalRun(family.Name, difficulty, data is null ? null : Path.GetFullPath(data), directory, template.Source,
            settings.K, settings.Samples, settings.Temperature, settings.TopP, settings.MaxTokens, settings.Seed)
        {
            Verifier = reranker?.Folder,
            Aggregate = reranker is { } ra ? EnumOption.Kebab(ra.Aggregate.ToString()) : null,
            Beam = beam?.Width,
            Value = beam?.Value,
            Concurrency = concurrency,
        };
        return EvalReport.Create(run, [.. outcomes.Select(o => o!)]);
    }

    static IReadOnlyList<Problem> LoadProblems(CliContext context, TaskFamily family, string? data, int difficulty)
    {
        if (family.IsBuiltin && data is null)
        {
            if (difficulty is < 1 or > 3) throw new UserError($"--difficulty must be 1, 2 or 3, got {difficulty}");
            return BuiltinTasks.TestSet(family.Name, difficulty);
        }
        var path = data ?? Path.Combine(DataDirectory.Resolve(context.Settings), family.DefaultData ?? throw new UserError($"task '{family.Name}' is built in: pass --data FILE to read problems from a file"));
        if (!File.Exists(path)) throw new UserError($"data file not found: {path}");
        return DatasetLoader.Load(path, family.DataFormat).Problems;
    }

    /// <summary><c>&lt;RunsDir&gt;/eval/&lt;model&gt;-&lt;task&gt;[-d&lt;difficulty&gt;][-&lt;data file&gt;][-n&lt;problems&gt;].json</c>, made distinct from <paramref name="avoid"/>.</summary>
    static string DefaultReportPath(CliContext context, EvalReport report, int? problems, IEnumerable<string> avoid)
    {
        var run = report.Run;
        var name = $"{Path.GetFileName(Path.TrimEndingDirectorySeparator(run.Model))}-{run.Task}"
            + (run.Difficulty is { } d ? $"-d{d}" : "")
            + (run.Data is { } file ? "-" + Path.GetFileNameWithoutExtension(file) : "")
            + (problems is { } n ? $"-n{n}" : "");
        var path = Path.GetFullPath(Path.Combine(context.Settings.RunsDir, "eval", name + ".json"));
        for (int i = 2; avoid.Contains(path); i++) path = Path.GetFullPath(Path.Combine(context.Settings.RunsDir, "eval", $"{name}-{i}.json"));
        return path;
    }

    static string Save(CliContext context, object value, string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var json = value is EvalReport report ? report.ToJson() : System.Text.Json.JsonSerializer.Serialize(value, new System.Text.Json.JsonSerializerOptions
        {
            WriteIndented = true,
            PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase,
            NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
        }) + "\n";
        AtomicFile.Write(path, stream => { stream.Write(System.Text.Encoding.UTF8.GetBytes(json)); return 0; });
        context.Console.MarkupLineInterpolated($"[grey]report → {path}[/]");
        return path;
    }

    static void DrawPlot(CliContext context, EvalReport report, string pngPath)
    {
        EvalPlots.Write(report, pngPath);
        context.Console.MarkupLineInterpolated($"[grey]plot → {pngPath}[/]");
    }

    static string Percent(double v) => v.ToString("0.0", CultureInfo.InvariantCulture) + " %";

    static string WithInterval(Estimate e) => $"{Percent(e.Value * 100)} {e.Interval.Format()}";

    // Table cells are markup: the intervals' brackets must not open tags.
    static string Cell(string text) => Markup.Escape(text);

    static void Print(IAnsiConsole console, EvalReport report)
    {
        var (run, s) = (report.Run, report.Summary);
        var taskCells = new[] { Cell(run.Task + (run.Difficulty is { } d ? $" (difficulty {d})" : "")), s.Problems.ToString(CultureInfo.InvariantCulture), Cell(WithInterval(s.Greedy)) };
        var table = run.Sampled
            ? new Table().AddColumns("task", "problems", "greedy [[95 % CI]]", $"pass@{run.K}", $"maj@{run.K}", "sample accuracy")
                .AddRow([.. taskCells, Cell(WithInterval(s.PassAtK)), Cell(WithInterval(s.MajorityAtK)), Cell(WithInterval(s.SampleAccuracy))])
            : new Table().AddColumns("task", "problems", "greedy [[95 % CI]] (k 0: no samples)").AddRow(taskCells);
        console.Write(table);
        if (s.VerifierBestOfN is { } best)
        {
            var rerank = new Table().Title($"best-of-{run.Samples} on the same samples")
                .AddColumns("verifier pick", "majority vote", $"pass@{run.Samples} (any right)", "gold-label oracle pick")
                .AddRow(Cell(WithInterval(best)), run.K == run.Samples ? Cell(WithInterval(s.MajorityAtK)) : $"(k {run.K} ≠ n)",
                    run.K == run.Samples ? Cell(WithInterval(s.PassAtK)) : $"(k {run.K} ≠ n)", s.OracleBestOfN is { } o ? Cell(WithInterval(o)) : "–");
            console.Write(rerank);
            console.MarkupLineInterpolated($"[grey]verifier {run.Verifier}, steps aggregated by {run.Aggregate}[/]");
        }
        if (s.Beam is not null || s.ValueBeam is not null)
        {
            var beams = new Table().Title($"step beam search, width {run.Beam}")
                .AddColumns("greedy", "beam, the model's own self-evaluation", "beam guided by the value model")
                .AddRow(Cell(WithInterval(s.Greedy)), s.Beam is { } plain ? Cell(WithInterval(plain)) : "(not run: --value-only)",
                    s.ValueBeam is { } guided ? Cell(WithInterval(guided)) : "(no --value)");
            console.Write(beams);
            if (run.Value is not null) console.MarkupLineInterpolated($"[grey]value model {run.Value}[/]");
        }
        if (EvalComparison.Within(report) is { Count: > 0 } within)
        {
            var paired = new Table().Title($"paired differences on the same {report.Problems.Count} problems")
                .AddColumns("B − A", "A", "B", "difference", "95 % CI (paired bootstrap)", "only A right", "only B right", "McNemar exact p");
            foreach (var m in within) AddComparedRow(paired, m);
            console.Write(paired);
        }
        if (s.SoundGreedy is { } sound)
            console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
                $"correct greedy solutions with every step gold-sound: {sound.Sound} of {sound.CorrectGreedy} ({WithInterval(sound.Share)})");
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[grey]model {run.Model}; prompt {run.Prompt}; {run.Samples} samples per problem at temperature {run.Temperature}, top-p {run.TopP}, max {run.MaxTokens} tokens, seed {run.Seed}; intervals: Wilson (greedy, maj@k), bootstrap over problems (pass@k, sample accuracy)[/]");
    }

    static void PrintComparison(IAnsiConsole console, (string Name, EvalReport Report) a, (string Name, EvalReport Report) b, EvalComparison comparison)
    {
        console.MarkupLineInterpolated($"A: {a.Name} ({a.Report.Run.Model})");
        console.MarkupLineInterpolated($"B: {b.Name} ({b.Report.Run.Model})");
        var table = new Table().Title($"B − A on {comparison.Problems} shared problems")
            .AddColumns("metric", "A", "B", "B − A", "95 % CI (paired bootstrap)", "only A right", "only B right", "McNemar exact p");
        foreach (var m in comparison.Metrics) AddComparedRow(table, m);
        console.Write(table);
        if (comparison.OnlyInA > 0 || comparison.OnlyInB > 0)
            console.MarkupLineInterpolated($"[yellow]{comparison.OnlyInA} problems only in A and {comparison.OnlyInB} only in B were left out[/]");
        if (comparison.SamplingNote is { } note) console.MarkupLineInterpolated($"[yellow]{note}[/]");
    }

    static void AddComparedRow(Table table, ComparedMetric m) =>
        table.AddRow(Cell(m.Name), Percent(m.A * 100), Percent(m.B * 100), (m.Difference * 100).ToString("+0.0;−0.0;0.0", CultureInfo.InvariantCulture) + " pts",
            Cell(m.DifferenceInterval.Format("+0.0;−0.0;0.0")),
            m.OnlyA?.ToString(CultureInfo.InvariantCulture) ?? "", m.OnlyB?.ToString(CultureInfo.InvariantCulture) ?? "",
            m.McNemarP is { } p ? p.ToString(p < 0.001 ? "0.0e0" : "0.000", CultureInfo.InvariantCulture) : "");
}
