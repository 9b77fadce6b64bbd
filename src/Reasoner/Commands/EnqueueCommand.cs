using System.CommandLine;
using Microsoft.Extensions.Logging;
using Reasoner.Cli.Hosting;
using Reasoner.Core.Problems;
using Reasoner.Generation;
using Reasoner.Generation.Queue;
using Spectre.Console;

namespace Reasoner.Cli.Commands;

/// <summary><c>enqueue --queue redis://HOST:PORT/NAME</c>: problems from any source added to a work queue that serve and generate take from.</summary>
static class EnqueueCommand
{
    public static Command Create(CliContext context)
    {
        var queue = new Option<string>("--queue", "-q") { Description = "The work queue: redis://HOST:PORT/NAME (a Redis stream; created with its consumer group when missing).", Required = true };
        var sources = new Option<string[]>("--source")
        {
            Description = "Where the problems come from (repeatable), as serve takes them: arith, logic (endless train streams: give --problems), arith:test, logic:test, a data-set family, file:PATH.",
            DefaultValueFactory = _ => [ProblemSourceSpecs.DefaultSpec],
            AllowMultipleArgumentsPerToken = false,
        };
        var problems = new Option<int?>("--problems", "-n") { Description = "Add at most this many problems from each source (required for the endless train streams)." };
        var skip = new Option<int>("--skip") { Description = "Leave out each source's first K problems.", DefaultValueFactory = _ => 0 };
        var difficulty = new Option<int>("--difficulty") { Description = "Built-in tasks: 1 to 3.", DefaultValueFactory = _ => context.Settings.Generate.Difficulty };
        var seed = new Option<int>("--seed") { Description = "Seed of the built-in train streams.", DefaultValueFactory = _ => context.Settings.Seed };
        var command = new Command("enqueue",
            "Add problems to a work queue on Redis Streams, one entry per problem (field 'problem': a JSON record in the problems format). " +
            "Any number of serve or generate processes, on any machines, then take them with --source redis://HOST:PORT/NAME.")
        {
            queue, sources, problems, skip, difficulty, seed,
        };
        command.SetAction(async (parse, cancel) =>
        {
            RedisQueueAddress address;
            try { address = RedisQueueAddress.Parse(parse.GetValue(queue)!); }
            catch (ArgumentException e) { throw new UserError($"--queue: {e.Message}"); }
            int? limit = parse.GetValue(problems);
            if (limit is < 1) throw new UserError($"--problems must be at least 1, not {limit}");
            if (parse.GetValue(skip) < 0) throw new UserError($"--skip must be at least 0, not {parse.GetValue(skip)}");
            var logger = context.Loggers.CreateLogger("Reasoner.Enqueue");
            var progress = new GenerationProgress();
            var sourceContext = new ProblemSourceSpecs.Context(Directory.GetCurrentDirectory(), DataDirectory.Resolve(context.Settings), parse.GetValue(seed),
                parse.GetValue(difficulty), Shard.All, TimeSpan.FromSeconds(10), logger, progress);
            var problemSources = new List<IProblemSource>();
            foreach (var spec in parse.GetValue(sources)!)
            {
                if (spec.StartsWith("watch:", StringComparison.Ordinal) || RedisQueueAddress.IsQueue(spec))
                    throw new UserError($"--source {spec}: enqueue reads finite sources; a watched folder or another queue is served by serve");
                IProblemSource source;
                try { source = ProblemSourceSpecs.Create(spec, sourceContext); }
                catch (ArgumentException e) { throw new UserError($"--source: {e.Message}"); }
                if (source is BuiltinStreamSource && limit is null) throw new UserError($"--source {spec} is an endless train stream: give --problems N");
                problemSources.Add(source);
            }

            await using var connection = await RedisQueue.ConnectAsync(address);
            if (!connection.IsConnected) throw new UserError($"--queue: no Redis answers at {address.Endpoint}");
            var db = connection.GetDatabase();
            int added = 0;
            foreach (var source in problemSources)
            {
                var chosen = await source.ReadAsync(cancel).Select(item => item.Problem).Skip(parse.GetValue(skip)).Take(limit ?? int.MaxValue).ToListAsync(cancel);
                added += await RedisQueue.EnqueueAsync(db, address, chosen, cancel: cancel);
                logger.LogInformation("added {Count} problems from {Source}", chosen.Count, source.Name);
            }
            var status = await RedisQueue.StatusAsync(db, address);
            var invalid = progress.Snapshot().InvalidLines;
            context.Console.MarkupLineInterpolated($"added {added} problems to {address}: {status.Length} entries, {status.Lag ?? 0} not yet delivered, {status.Pending} pending{(invalid > 0 ? $"; {invalid} malformed lines skipped (logged)" : "")}");
            return 0;
        });
        return command;
    }
}
