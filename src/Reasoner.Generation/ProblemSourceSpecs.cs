using Microsoft.Extensions.Logging;
using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;

namespace Reasoner.Generation;

/// <summary>
/// The problem sources a service is configured with, one spec each:
/// <c>arith</c>, <c>logic</c> (the built-in task's endless train stream), <c>arith:test</c>, <c>logic:test</c> (the fixed
/// test set), <c>gsm8k</c>, <c>math</c>, <c>arc</c>, <c>csqa</c>, <c>strategyqa</c> (the family's file under DataDir),
/// <c>file:PATH</c> (a data-set file, format guessed), <c>watch:FOLDER</c> (a folder where problem files appear) and
/// <c>redis://HOST:PORT/NAME</c> (a work queue on a Redis stream, <see cref="Queue.RedisQueueSource"/>).
/// </summary>
public static class ProblemSourceSpecs
{
    public const string DefaultSpec = BuiltinTasks.Arith;

    public sealed record Context(string RunDirectory, string DataDirectory, int Seed, int Difficulty, Shard Shard, TimeSpan Rescan,
        ILogger Logger, GenerationProgress Progress)
    {
        /// <summary>How a <c>redis://</c> source claims, retries and ends.</summary>
        public Queue.RedisQueueOptions Queue { get; init; } = new();
    }

    public static IProblemSource Create(string spec, Context c)
    {
        if (Queue.RedisQueueAddress.IsQueue(spec)) return new Queue.RedisQueueSource(Queue.RedisQueueAddress.Parse(spec), c.Queue, c.Logger, c.Progress);
        var colon = spec.IndexOf(':');
        var (kind, rest) = colon < 0 ? (spec, "") : (spec[..colon], spec[(colon + 1)..]);
        switch (kind)
        {
            case "file" when rest.Length > 0:
                return new DatasetFileSource(Path.GetFullPath(rest), Core.Datasets.DatasetLoader.AutoFormat, c.Logger, c.Progress);
            case "watch" when rest.Length > 0:
                var log = Path.Combine(c.RunDirectory, c.Shard.IsAll ? "watched-files.txt" : $"watched-files.{c.Shard.WriterId}.txt");
                return new WatchedFolderSource(Path.GetFullPath(rest), log, c.Rescan, c.Logger, c.Progress);
        }
        var family = TaskFamilies.All.FirstOrDefault(f => f.Name == kind)
            ?? throw new ArgumentException($"unknown problem source '{spec}': expected arith, logic, arith:test, logic:test, a data-set family, file:PATH, watch:FOLDER or redis://HOST:PORT/NAME");
        if (family.IsBuiltin)
        {
            return rest switch
            {
                "" or "train" => new BuiltinStreamSource(family.Name, c.Seed, c.Difficulty),
                "test" => new ProblemListSource($"{family.Name}:test", BuiltinTasks.TestSet(family.Name, c.Difficulty)),
                _ => throw new ArgumentException($"problem source '{spec}': a built-in task takes :train or :test"),
            };
        }
        if (rest.Length > 0) throw new ArgumentException($"problem source '{spec}': use file:PATH for another file of {family.Name}");
        return new DatasetFileSource(Path.Combine(c.DataDirectory, family.DefaultData!), family.DataFormat, c.Logger, c.Progress);
    }
}
