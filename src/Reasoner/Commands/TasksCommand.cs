using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Answers;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary>
/// <c>tasks</c>: the task families; <c>tasks NAME</c>: sample problems of one family, and a check that every
/// reference solution of the set is judged correct by the answer checker (the reward search relies on).
/// </summary>
static class TasksCommand
{
    public static Command Create(CliContext context)
    {
        var name = new Argument<string?>("task") { Description = "A task family (arith, logic, gsm8k, math, arc, csqa, strategyqa). Without it, list the families.", Arity = ArgumentArity.ZeroOrOne };
        var count = new Option<int>("--count", "-n") { Description = "How many sample problems to print.", DefaultValueFactory = _ => 3 };
        var split = EnumOption.Create<Split>("--split", "Built-in tasks: train or test split.", Split.Test);
        var seed = new Option<int?>("--seed") { Description = "Built-in tasks: generate with this seed instead of reading the fixed test set." };
        var difficulty = new Option<int>("--difficulty") { Description = "Built-in tasks: 1 (short, small numbers) to 3 (up to 6 steps, larger numbers).", DefaultValueFactory = _ => BuiltinTasks.DefaultDifficulty };
        var size = new Option<int>("--size") { Description = "Built-in tasks with --seed: how many problems to generate and check.", DefaultValueFactory = _ => BuiltinTasks.TestSetSize };
        var data = new Option<string?>("--data") { Description = "Data-set tasks: read this file instead of the family's default under DataDir." };
        var format = new Option<string?>("--format") { Description = $"Data-set file format: {string.Join(", ", DatasetLoader.Formats)} or auto. Default: the family's own." };
        var skipInvalid = new Option<bool>("--skip-invalid") { Description = "Skip malformed lines (and count them) instead of stopping at the first." };
        var solutions = new Option<bool>("--solutions") { Description = "Also print each sample's reference solution steps." };
        var command = new Command("tasks", "List task families, or show problems of one and check its reference solutions with the answer checker.")
        {
            name, count, split, seed, difficulty, size, data, format, skipInvalid, solutions,
        };
        command.SetAction(parse =>
        {
            var taskName = parse.GetValue(name);
            if (taskName is null)
            {
                ListFamilies(context);
                return 0;
            }
            var family = TaskFamilies.Get(taskName);
            IReadOnlyList<Problem> problems;
            string source;
            if (family.IsBuiltin && parse.GetValue(data) is null)
            {
                var chosenSeed = parse.GetValue(seed);
                problems = chosenSeed is null && EnumOption.Value<Split>(parse, split) == Split.Test
                    ? BuiltinTasks.TestSet(family.Name, parse.GetValue(difficulty))
                    : BuiltinTasks.Generate(family.Name, EnumOption.Value<Split>(parse, split), chosenSeed ?? context.Settings.Seed, parse.GetValue(difficulty)).Take(parse.GetValue(size)).ToArray();
                source = chosenSeed is null && problems == BuiltinTasks.TestSet(family.Name, parse.GetValue(difficulty))
                    ? $"fixed {family.Name} test set, difficulty {parse.GetValue(difficulty)}"
                    : $"{family.Name} {EnumOption.Value<Split>(parse, split).ToString().ToLowerInvariant()} split, seed {chosenSeed ?? context.Settings.Seed}, difficulty {parse.GetValue(difficulty)}";
            }
            else
            {
                var path = parse.GetValue(data) ?? Path.Combine(DataDirectory.Resolve(context.Settings), family.DefaultData ?? throw new UserError($"task '{family.Name}' is built in: pass --data FILE to read problems from a file"));
                if (!File.Exists(path)) throw new UserError($"data file not found: {path}");
                var loaded = DatasetLoader.Load(path, parse.GetValue(format) ?? family.DataFormat, parse.GetValue(skipInvalid));
                foreach (var skipped in loaded.Skipped) context.Console.MarkupLineInterpolated($"[yellow]skipped {skipped.Message}[/]");
                problems = loaded.Problems;
                source = $"{path} ({problems.Count} problems{(loaded.Skipped.Count > 0 ? $", {loaded.Skipped.Count} malformed lines skipped" : "")})";
            }
            context.Console.MarkupLineInterpolated($"[bold]{family.Name}[/]: {source}");
            foreach (var problem in problems.Take(parse.GetValue(count))) PrintProblem(context.Console, problem, parse.GetValue(solutions));
            ReportSelfCheck(context.Console, problems);
            return 0;
        });
        return command;
    }

    static void ListFamilies(CliContext context)
    {
        var dataDir = DataDirectory.Resolve(context.Settings);
        var table = new Table().AddColumns("task", "answers", "prompt", "problems from", "description");
        foreach (var f in TaskFamilies.All)
        {
            string from;
            if (f.IsBuiltin) from = $"generator (fixed test set: {BuiltinTasks.TestSetSize})";
            else
            {
                var path = Path.Combine(dataDir, f.DefaultData!);
                from = Markup.Escape(path) + (File.Exists(path) ? "" : " [red](missing)[/]");
            }
            table.AddRow(f.Name, EnumOption.Kebab(f.Kind.ToString()), $"prompts/{f.PromptFolder}/", from, Markup.Escape(f.Description));
        }
        context.Console.Write(table);
    }

    static void PrintProblem(IAnsiConsole console, Problem p, bool withSolution)
    {
        console.WriteLine();
        console.MarkupLineInterpolated($"[grey]{p.Id}[/]");
        console.WriteLine(p.Question);
        foreach (var c in p.Choices) console.WriteLine($"  ({c.Label}) {c.Text}");
        if (withSolution && p.ReferenceSteps is { Count: > 0 } steps)
            foreach (var step in steps) console.MarkupLineInterpolated($"  [blue]│[/] {step}");
        console.MarkupLineInterpolated($"answer: [green]{p.Answer}[/]");
    }

    /// <summary>Every reference solution must earn the reward: if the checker rejects the gold solution, search rewards are wrong.</summary>
    static void ReportSelfCheck(IAnsiConsole console, IReadOnlyList<Problem> problems)
    {
        var withSteps = problems.Where(p => p.ReferenceSteps is { Count: > 0 }).ToArray();
        if (withSteps.Length == 0)
        {
            console.WriteLine();
            console.WriteLine($"{problems.Count} problems; none has a reference solution to check.");
            return;
        }
        var failures = withSteps.Where(p => !AnswerChecker.Check(string.Join("\n", p.ReferenceSteps!), p).IsCorrect).ToArray();
        console.WriteLine();
        var share = (withSteps.Length - failures.Length) * 100.0 / withSteps.Length;
        console.MarkupLineInterpolated($"reference solutions judged correct by the answer checker: [bold]{withSteps.Length - failures.Length}/{withSteps.Length}[/] ({share.ToString("0.0", CultureInfo.InvariantCulture)}%)");
        foreach (var p in failures.Take(5))
            console.MarkupLineInterpolated($"  [yellow]{p.Id}[/]: extracted '{AnswerChecker.Check(string.Join("\n", p.ReferenceSteps!), p).Extracted ?? "(none)"}', reference '{p.Answer}'");
    }
}
