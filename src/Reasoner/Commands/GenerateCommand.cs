using System.CommandLine;
using Microsoft.Extensions.Logging;
using Reasoner.Generation;
using Reasoner.Generation.Queue;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;

namespace Reasoner.Cli.Commands;

/// <summary>
/// <c>generate</c>: search the first N problems of one source into a run folder with the generator pipeline. The
/// default run folder is named after the algorithm and the source, so the same command again resumes the run.
/// </summary>
static class GenerateCommand
{
    public static Command Create(CliContext context)
    {
        var g = context.Settings.Generate;
        var task = new Option<string>("--task", "-t") { Description = "Task family: arith, logic (built-in generators) or a data-set family read from its file under DataDir.", DefaultValueFactory = _ => g.Task, HelpName = string.Join('|', TaskFamilies.All.Select(f => f.Name)) };
        task.AcceptOnlyFromAmong([.. TaskFamilies.All.Select(f => f.Name)]);
        var data = new Option<string?>("--data") { Description = "Read problems from this data-set file instead (format: the task's own, guessed for built-in tasks). Malformed lines are logged and skipped." };
        var split = new Option<string>("--split") { Description = "Built-in tasks: the seeded train stream, or the fixed test set.", DefaultValueFactory = _ => g.Split, HelpName = "train|test" };
        split.AcceptOnlyFromAmong("train", "test");
        var difficulty = new Option<int>("--difficulty") { Description = "Built-in tasks: 1 to 3.", DefaultValueFactory = _ => g.Difficulty };
        var problems = new Option<int>("--problems", "-n") { Description = "How many problems to take from the source (before sharding; the same N again resumes).", DefaultValueFactory = _ => g.Problems };
        var skip = new Option<int>("--skip") { Description = "Leave out the source's first K problems, so that runs over one seeded stream take disjoint slices (iterate's rounds do).", DefaultValueFactory = _ => 0 };
        var output = new Option<string?>("--out", "-o") { Description = "Run folder: a name under RunsDir, or a path. Default: <algo>-<task> (<algo>-<task>-test for the test split, <algo>-<file name> with --data)." };
        var queue = new Option<string?>("--source")
        {
            Description = "Take problems from a work queue instead of --task/--data: redis://HOST:PORT/NAME, filled by enqueue and shared by any number of " +
                          "generate and serve processes. The run ends when the queue holds nothing undelivered and nothing pending.",
        };
        var shared = new GenerationOptions(context.Settings);
        var command = new Command("generate", "Search problems with the tree search and store one preference tree per problem in a run folder. " +
            "Re-running the same command resumes: problems already stored are skipped. Ctrl-C stops gracefully (exit 130).")
        {
            task, data, split, difficulty, problems, skip, output, queue,
        };
        shared.AddTo(command);
        command.SetAction(async (parse, cancel) =>
        {
            var generate = shared.Apply(parse, g) with
            {
                Task = parse.GetValue(task)!,
                Split = parse.GetValue(split)!,
                Difficulty = parse.GetValue(difficulty),
                Problems = parse.GetValue(problems),
            };
            if (generate.Problems < 1) throw new UserError($"--problems must be at least 1, not {generate.Problems}");
            if (parse.GetValue(skip) < 0) throw new UserError($"--skip must be at least 0, not {parse.GetValue(skip)}");
            var seed = shared.Seed(parse);
            var logger = context.Loggers.CreateLogger("Reasoner.Generate");
            if (parse.GetValue(queue) is { } queueSpec)
                return await FromQueueAsync(context, generate, queueSpec, parse.GetValue(output), seed, logger, cancel);
            var source = LoadProblems(generate, parse.GetValue(data), parse.GetValue(skip), seed, context.Settings, logger);
            var runDirectory = RunLocation.ForOutput(parse.GetValue(output) ?? $"{generate.Algorithm}-{source.Name}", context.Settings);

            using var run = GenerationRun.Create(runDirectory, generate, context.Settings.Store, PromptFolder.Open(context.Settings), seed, context.Settings.Device, context.Loggers);
            var shard = run.Pipeline.Options.Shard;
            run.Progress.AddInvalidLines(source.InvalidLines);
            run.Progress.SetExpected(source.Problems.Count(p => shard.Contains(p.Id)));
            logger.LogInformation("searching {Count} {Source} problems{Shard} with {Algorithm} on {Model}, {Workers} workers, into {Run}",
                source.Problems.Count, source.Name, shard.IsAll ? "" : $" (shard {shard})", run.Search.Name, run.ModelLabel, generate.Workers, runDirectory);

            using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
            using var signals = new StopSignals(stop);
            return await RunAsync(context, run, [new ProblemListSource(source.Name, source.Problems)], generate, stop, signals, logger);
        });
        return command;
    }

    /// <summary>generate --source redis://…: the run folder's trees come from whatever the shared queue hands this process.</summary>
    private static async Task<int> FromQueueAsync(CliContext context, GenerateSettings generate, string spec, string? output, int seed, ILogger logger, CancellationToken cancel)
    {
        RedisQueueAddress address;
        try { address = RedisQueueAddress.Parse(spec); }
        catch (ArgumentException e) { throw new UserError($"--source: {e.Message}"); }
        var runDirectory = RunLocation.ForOutput(output ?? $"{generate.Algorithm}-queue-{address.Name}", context.Settings);
        using var run = GenerationRun.Create(runDirectory, generate, context.Settings.Store, PromptFolder.Open(context.Settings), seed, context.Settings.Device, context.Loggers);
        await using var source = new RedisQueueSource(address, GenerationOptions.QueueOptions(generate, endWhenDrained: true), logger, run.Progress);
        logger.LogInformation("searching the problems of {Queue} with {Algorithm} on {Model}, {Workers} workers, into {Run}",
            address, run.Search.Name, run.ModelLabel, generate.Workers, runDirectory);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        using var signals = new StopSignals(stop);
        return await RunAsync(context, run, [source], generate, stop, signals, logger);
    }

    private static async Task<int> RunAsync(CliContext context, GenerationRun run, IReadOnlyList<IProblemSource> sources, GenerateSettings generate,
        CancellationTokenSource stop, StopSignals signals, ILogger logger)
    {
        var runDirectory = run.RunDirectory;
        using var stopping = stop.Token.Register(() => logger.LogWarning("stopping: no new problems; in-flight searches get {Grace} s (a second Ctrl-C ends at once)",
            run.Pipeline.Options.GracePeriod.TotalSeconds));
        var running = run.Pipeline.RunAsync(sources, stop.Token);
        await ProgressView.FollowAsync(context, run.Pipeline, running, TimeSpan.FromSeconds(Math.Max(0.1, generate.ProgressIntervalSeconds)));
        var result = await running;
        var progress = run.Progress.Snapshot();
        ProgressView.PrintSummary(context.Console, progress, runDirectory);

        switch (result.End)
        {
            case PipelineEnd.StoreFailed:
                throw new IOException($"{(result.DiskFull ? "the disk is full" : "the tree store failed")}: {result.StoreError!.Message}; " +
                    $"the {progress.Searched} trees stored before are intact, and the same command resumes the run", result.StoreError);
            case PipelineEnd.Stopped:
                logger.LogWarning("stopped: the trees stored so far are intact; the same command resumes the run");
                return signals.Received is null ? 130 : signals.ExitCode;
            default:
                if (progress.Searched > 0 && progress.Completed == 0)
                    throw new InvalidOperationException($"every search failed ({progress.Failed}); see the failed trees with 'show {runDirectory}'");
                return 0;
        }
    }

    private sealed record LoadedProblems(string Name, IReadOnlyList<Problem> Problems, int InvalidLines);

    private static LoadedProblems LoadProblems(GenerateSettings generate, string? dataFile, int skip, int seed, ReasonerSettings settings, ILogger logger)
    {
        var family = TaskFamilies.Get(generate.Task);
        if (dataFile is null && family.IsBuiltin)
        {
            var test = generate.Split == "test";
            var problems = test
                ? BuiltinTasks.TestSet(family.Name, generate.Difficulty)
                : BuiltinTasks.Generate(family.Name, Split.Train, seed, generate.Difficulty);
            return new LoadedProblems(test ? $"{family.Name}-test" : family.Name, [.. problems.Skip(skip).Take(generate.Problems)], 0);
        }
        var path = dataFile ?? Path.Combine(DataDirectory.Resolve(settings), family.DefaultData!);
        if (!File.Exists(path)) throw new UserError($"data file not found: {path}");
        // A built-in task names no file format: a file given with it may hold any format, guessed from its fields.
        var loaded = DatasetFiles.Load(path, family.IsBuiltin ? DatasetLoader.AutoFormat : family.DataFormat, logger);
        return new LoadedProblems(dataFile is null ? family.Name : Path.GetFileNameWithoutExtension(path), [.. loaded.Problems.Skip(skip).Take(generate.Problems)], loaded.Skipped.Count);
    }
}
