using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;
using Reasoner.Core.Prompts;
using Reasoner.Core.Tasks;
using Reasoner.Models;
using Reasoner.Models.Backends;
using Reasoner.Models.Generation;
using Reasoner.Models.Checkpoints;
using Reasoner.Training.Evaluation;
using Spectre.Console;
using TorchSharp;

namespace Reasoner.Cli.Commands;

/// <summary><c>eval</c>: greedy accuracy, pass@k and maj@k of a model on a task's evaluation set.</summary>
static class EvalCommand
{
    public static Command Create(CliContext context)
    {
        var defaults = new EvalSettings();
        var task = new Option<string>("--task") { Description = "Task family: arith, logic (fixed test sets), gsm8k, math, arc, csqa, strategyqa.", Required = true };
        var modelDir = new Option<string?>("--model") { Description = "Model folder (Hugging Face layout). Default: the built-in model, models/builtin." };
        var problems = new Option<int?>("--problems") { Description = "Evaluate the first N problems (default: all)." };
        var data = new Option<string?>("--data") { Description = "Data-set tasks: read this file instead of the family's default under DataDir." };
        var k = new Option<int>("--k") { Description = "k of pass@k and maj@k.", DefaultValueFactory = _ => defaults.K };
        var samples = new Option<int?>("--samples") { Description = "Samples per problem, n >= k (default k); n > k gives the unbiased pass@k estimate." };
        var temperature = new Option<double>("--temperature") { Description = "Sampling temperature for pass@k and maj@k.", DefaultValueFactory = _ => defaults.Temperature };
        var topP = new Option<double>("--top-p") { Description = "Nucleus sampling mass.", DefaultValueFactory = _ => defaults.TopP };
        var maxTokens = new Option<int>("--max-tokens") { Description = "Longest solution in tokens.", DefaultValueFactory = _ => defaults.MaxTokens };
        var seed = new Option<int>("--seed") { Description = "Sampling seed (problem i uses seed + i).", DefaultValueFactory = _ => context.Settings.Seed };
        var device = new Option<string>("--device") { Description = "cpu, cuda or cuda:N.", DefaultValueFactory = _ => context.Settings.Device };
        var threads = new Option<int>("--threads") { Description = "CPU threads for libtorch.", DefaultValueFactory = _ => 2 };
        var command = new Command("eval", "Greedy accuracy, pass@k and maj@k (majority vote over extracted answers) of a model on a task's evaluation set.")
        {
            task, modelDir, problems, data, k, samples, temperature, topP, maxTokens, seed, device, threads,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var family = TaskFamilies.Get(parse.GetValue(task)!);
            var settings = new EvalSettings
            {
                K = parse.GetValue(k),
                Samples = parse.GetValue(samples) ?? parse.GetValue(k),
                Temperature = parse.GetValue(temperature),
                TopP = parse.GetValue(topP),
                MaxTokens = parse.GetValue(maxTokens),
                Seed = parse.GetValue(seed),
            };
            try { settings.Validate(); }
            catch (ArgumentException e) { throw new UserError(e.Message); }
            var set = LoadProblems(context, family, parse.GetValue(data));
            if (parse.GetValue(problems) is { } n) set = set.Take(n).ToArray();

            var directory = Path.GetFullPath(parse.GetValue(modelDir) ?? BuiltinModel.Locate());
            // Models trained from scratch say in reasoner.json which prompt they know; others get the family's few-shot prompt.
            var promptSettings = ModelPromptSettings.Load(directory);
            var template = PromptFolder.Open(context.Settings).Get(promptSettings?.Prompt ?? PromptLibrary.SolvePromptFor(family.Name));
            settings = settings with { Stop = promptSettings?.Stop ?? PromptLibrary.FewShotStops };
            torch.set_num_threads(parse.GetValue(threads));
            using ILanguageModel model = TorchEngine.Load(directory, TorchRuntime.ParseDevice(parse.GetValue(device)!));
            var evaluator = new Evaluator(model, p => template.Render(new Dictionary<string, string> { ["question"] = PromptLibrary.FormatQuestion(p) }), settings);

            var outcomes = new List<ProblemOutcome>();
            await context.Console.Progress()
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                .StartAsync(async progress =>
                {
                    var bar = progress.AddTask($"{family.Name}: {set.Count} problems", maxValue: set.Count);
                    for (int i = 0; i < set.Count; i++)
                    {
                        outcomes.Add(await evaluator.EvaluateAsync(set[i], i, cancel));
                        var so = EvalSummary.From(outcomes, settings);
                        bar.Description = string.Create(CultureInfo.InvariantCulture, $"{family.Name}: greedy {so.Greedy:P0} pass@{settings.K} {so.PassAtK:P0} maj@{settings.K} {so.MajorityAtK:P0}");
                        bar.Increment(1);
                    }
                });
            Report(context.Console, family.Name, directory, template.Source, settings, EvalSummary.From(outcomes, settings));
            return 0;
        });
        return command;
    }

    static IReadOnlyList<Problem> LoadProblems(CliContext context, TaskFamily family, string? data)
    {
        if (family.IsBuiltin && data is null) return BuiltinTasks.TestSet(family.Name);
        var path = data ?? Path.Combine(DataDirectory.Resolve(context.Settings), family.DefaultData ?? throw new UserError($"task '{family.Name}' is built in: pass --data FILE to read problems from a file"));
        if (!File.Exists(path)) throw new UserError($"data file not found: {path}");
        return DatasetLoader.Load(path, family.DataFormat).Problems;
    }

    static void Report(IAnsiConsole console, string task, string model, string prompt, EvalSettings settings, EvalSummary summary)
    {
        string Percent(double v) => v.ToString("P1", CultureInfo.InvariantCulture);
        var table = new Table()
            .AddColumns("task", "problems", "greedy", $"pass@{settings.K}", $"maj@{settings.K}", "sample accuracy")
            .AddRow(task, summary.Problems.ToString(CultureInfo.InvariantCulture), Percent(summary.Greedy), Percent(summary.PassAtK), Percent(summary.MajorityAtK), Percent(summary.SampleAccuracy));
        console.Write(table);
        console.MarkupLineInterpolated(CultureInfo.InvariantCulture,
            $"[grey]model {model}; prompt {prompt}; {settings.Samples} samples per problem at temperature {settings.Temperature}, top-p {settings.TopP}, max {settings.MaxTokens} tokens, seed {settings.Seed}[/]");
    }
}
