using System.CommandLine;
using System.Globalization;
using Reasoner.Cli.Hosting;
using Reasoner.Cli.Iteration;
using Reasoner.Core.Problems;
using Reasoner.Generation;
using Reasoner.Models.Checkpoints;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>iterate --trainer T --rounds R</c>: search, train, evaluate, repeat with the new checkpoint (<see cref="IterationRunner"/>).</summary>
static class IterateCommand
{
    public static Command Create(CliContext context)
    {
        var trainer = new Option<string>("--trainer") { Description = "What trains each round: dpo, tpo, trpa, onpo, oreo (the next round searches with its model), or plv (the next round's search scores steps with its verifier).", Required = true };
        trainer.AcceptOnlyFromAmong([.. IterationRunner.Trainers]);
        var rounds = new Option<int>("--rounds", "-r") { Description = "Rounds of search, training and evaluation; a finished run given more rounds goes on.", DefaultValueFactory = _ => 2 };
        var task = new Option<string>("--task", "-t") { Description = "Task family whose train problems are searched and whose test set is evaluated.", DefaultValueFactory = _ => "arith" };
        task.AcceptOnlyFromAmong([.. TaskFamilies.All.Select(f => f.Name)]);
        var difficulty = new Option<int>("--difficulty") { Description = "Built-in tasks: difficulty of the train stream and the test set.", DefaultValueFactory = _ => Core.Tasks.BuiltinTasks.DefaultDifficulty };
        var data = new Option<string?>("--data") { Description = "Data-set tasks: the file whose problems are searched (rounds take disjoint slices of it)." };
        var model = new Option<string?>("--model") { Description = "The policy round 1 starts from (Hugging Face folder). Default: the built-in model." };
        var problems = new Option<int>("--problems", "-n") { Description = "Train problems searched per round; round r takes the r-th slice of the seeded stream.", DefaultValueFactory = _ => 100 };
        var algorithm = new Option<string?>("--algo") { Description = "Search algorithm. Default: best-first for plv (its pairs need Monte Carlo roll-out values), mcts otherwise.", HelpName = string.Join('|', SearchFactory.Algorithms) };
        algorithm.AcceptOnlyFromAmong([.. SearchFactory.Algorithms]);
        var seed = new Option<int>("--seed") { Description = "Seed of the problem stream, the searches, training and evaluation samples.", DefaultValueFactory = _ => context.Settings.Seed };
        var evalProblems = new Option<int>("--eval-problems") { Description = "Test problems each round evaluates (the first N of the fixed test set).", DefaultValueFactory = _ => 200 };
        var evalK = new Option<int>("--eval-k") { Description = "Samples per test problem besides greedy (pass@k, maj@k; plv: best-of-k by the round's verifier); 0 for greedy alone.", DefaultValueFactory = _ => 4 };
        var allRounds = new Option<bool>("--all-rounds") { Description = "Train each round on every round's trees so far, not only its own." };
        var generateArgs = new Option<string?>("--generate-args") { Description = "More options for every round's generate, as one string: \"--iterations 8 --workers 2\"." };
        var trainArgs = new Option<string?>("--train-args") { Description = "More options for every round's train, as one string: \"--epochs 2 --lr 1e-5\"." };
        var evalArgs = new Option<string?>("--eval-args") { Description = "More options for every round's eval, as one string." };
        var output = new Option<string?>("--out", "-o") { Description = "Run folder (a name under RunsDir, or a path): round-N/ folders and iterate.json. Default: iterate-<trainer>-<task>." };
        var force = new Option<bool>("--force") { Description = "Delete what the run folder holds and start over." };
        var command = new Command("iterate",
            "The on-policy loop: each round searches a fresh slice of train problems with the current policy (generate), trains on the round's trees " +
            "(train TRAINER), evaluates the result (eval, report data), and hands it to the next round. The same command again resumes at the stage " +
            "a stop (Ctrl-C, SIGTERM, kill -9) interrupted; nothing finished is redone.")
        {
            trainer, rounds, task, difficulty, data, model, problems, algorithm, seed, evalProblems, evalK, allRounds, generateArgs, trainArgs, evalArgs, output, force,
        };
        command.SetAction(async (parse, cancel) =>
        {
            var method = parse.GetValue(trainer)!;
            if (parse.GetValue(rounds) < 1) throw new UserError($"--rounds must be at least 1, not {parse.GetValue(rounds)}");
            if (parse.GetValue(problems) < 1) throw new UserError($"--problems must be at least 1, not {parse.GetValue(problems)}");
            if (parse.GetValue(evalProblems) < 1) throw new UserError("--eval-problems must be at least 1");
            if (parse.GetValue(evalK) < (method == IterationRunner.VerifierTrainer ? 1 : 0))
                throw new UserError(method == IterationRunner.VerifierTrainer ? "--eval-k must be at least 1 for plv (its rounds rerank k samples)" : "--eval-k must be at least 0");
            var settings = new IterationSettings
            {
                Trainer = method,
                Task = parse.GetValue(task)!,
                Difficulty = parse.GetValue(difficulty),
                Data = parse.GetValue(data) is { } file ? Path.GetFullPath(file) : null,
                Model = Path.GetFullPath(parse.GetValue(model) ?? BuiltinModel.Locate()),
                ProblemsPerRound = parse.GetValue(problems),
                Algorithm = parse.GetValue(algorithm) ?? (method == IterationRunner.VerifierTrainer ? "best-first" : "mcts"),
                Seed = parse.GetValue(seed),
                EvalProblems = parse.GetValue(evalProblems),
                EvalK = parse.GetValue(evalK),
                AllRounds = parse.GetValue(allRounds),
                GenerateArgs = Split(parse.GetValue(generateArgs)),
                TrainArgs = Split(parse.GetValue(trainArgs)),
                EvalArgs = Split(parse.GetValue(evalArgs)),
            };
            var outDir = RunLocation.ForOutput(parse.GetValue(output) ?? $"iterate-{method}-{settings.Task}", context.Settings);
            var console = context.Console;
            var runner = new IterationRunner(outDir, settings, (args, token) =>
            {
                console.MarkupLineInterpolated($"[blue]$ reasoner {string.Join(' ', args)}[/]");
                return ReasonerApp.RunAsync(args, context.Output, context.Errors, cancel: token);
            })
            {
                OnStage = (round, stage) => console.MarkupLineInterpolated($"[bold]round {round}: {stage.ToString().ToLowerInvariant()}[/]"),
            };
            var (code, state) = await runner.RunAsync(parse.GetValue(rounds), parse.GetValue(force), cancel);
            Print(console, state, method);
            if (code != 0)
            {
                var stopped = state.Rounds.First(r => r.Stage != RoundStage.Done);
                console.MarkupLineInterpolated($"round {stopped.Round} stopped at its {stopped.Stage.ToString().ToLowerInvariant()} stage (exit {code}); the same command resumes there");
            }
            return code;
        });
        return command;
    }

    static string[] Split(string? args) => args is null ? [] : args.Split((char[])[' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries);

    static void Print(IAnsiConsole console, IterationState state, string trainer)
    {
        bool verifier = trainer == IterationRunner.VerifierTrainer;
        var table = new Table().AddColumns("round", "stage", verifier ? "policy (with verifier)" : "policy", "greedy accuracy [[95 % interval]]");
        if (verifier) table.AddColumn($"verifier pick of {state.Settings.EvalK}");
        foreach (var round in state.Rounds)
        {
            var policy = round.Round == 0 ? "start: " + Path.GetFileName(round.Policy) : verifier ? $"round {round.Round} verifier" : $"round {round.Round} model";
            var greedy = round.Greedy is { } g ? string.Create(CultureInfo.InvariantCulture, $"{g:P1} [{round.GreedyLow:P1}, {round.GreedyHigh:P1}]") : "–";
            var row = new List<string> { $"{round.Round}", round.Stage.ToString().ToLowerInvariant(), policy, greedy };
            if (verifier) row.Add(round.VerifierPick is { } v ? v.ToString("P1", CultureInfo.InvariantCulture) : "–");
            table.AddRow([.. row.Select(Markup.Escape)]);
        }
        console.Write(table);
    }
}
