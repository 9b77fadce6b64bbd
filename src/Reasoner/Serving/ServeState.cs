using Reasoner.Generation;
using Reasoner.Generation.Queue;

namespace Reasoner.Cli.Serving;

public enum ServeStage
{
    Starting,

    /// <summary>Taking and searching problems.</summary>
    Running,

    /// <summary>Every source is exhausted and every problem stored; waiting to be stopped.</summary>
    Finished,

    /// <summary>Stopping: no new problems, in-flight searches finishing within the grace period.</summary>
    Stopping,

    Stopped,

    /// <summary>The store failed (a full disk, say): the service stops.</summary>
    Failed,
}

/// <summary>What the service is doing, shared by the hosted generator and the /health and /status endpoints.</summary>
public sealed class ServeState(GenerationRun run, IReadOnlyList<IProblemSource> sources)
{
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private volatile ServeStage _stage = ServeStage.Starting;

    public GenerationRun Run { get; } = run;

    public IReadOnlyList<IProblemSource> Sources { get; } = sources;

    public ServeStage Stage
    {
        get => _stage;
        set => _stage = value;
    }

    /// <summary>Healthy while generating, and while idle after finite sources ran out.</summary>
    public bool IsHealthy => Stage is ServeStage.Running or ServeStage.Finished;

    public ServeStatus Status()
    {
        var pipeline = Run.Pipeline;
        var p = pipeline.Progress.Snapshot();
        return new ServeStatus(
            Stage.ToString().ToLowerInvariant(),
            (DateTimeOffset.UtcNow - _started).TotalSeconds,
            Run.RunDirectory,
            Run.Model.ModelId,
            Run.Search.Name,
            pipeline.Options.Workers,
            pipeline.Options.Shard.IsAll ? null : pipeline.Options.Shard.ToString(),
            [.. Sources.Select(s => s.Name)],
            new ProblemCounts(p.Searched, p.Completed, p.Failed, p.Skipped, p.Abandoned, p.InvalidLines, pipeline.InFlight.Count),
            p.Nodes,
            p.TreesPerMinute,
            p.NodesPerSecond,
            p.CorrectPathShare,
            p.Eta?.TotalSeconds,
            new QueueDepths(pipeline.ProblemQueueDepth, pipeline.Options.ProblemQueueCapacity, pipeline.TreeQueueDepth, pipeline.Options.TreeQueueCapacity))
        {
            WorkQueues = [.. Sources.OfType<RedisQueueSource>().Select(q => q.Status ?? new QueueStatus(q.Name, 0, 0, 0, null, 0, "not read yet"))],
        };
    }
}

/// <summary>The body of GET /status (camelCase JSON).</summary>
public sealed record ServeStatus(string State, double UptimeSeconds, string Run, string Backend, string Algorithm, int Workers, string? Shard,
    IReadOnlyList<string> Sources, ProblemCounts Problems, long Nodes, double TreesPerMinute, double NodesPerSecond, double? CorrectPathShare,
    double? EtaSeconds, QueueDepths Queues)
{
    /// <summary>Each redis:// source's stream: length, entries pending (taken, not acknowledged), consumers, lag (not yet delivered), dead letters.</summary>
    public IReadOnlyList<QueueStatus> WorkQueues { get; init; } = [];
}

/// <summary>
/// <see cref="Done"/> trees stored by this process (<see cref="Completed"/> + <see cref="Failed"/>); <see cref="Skipped"/>
/// problems already stored; <see cref="Abandoned"/> searches cut by a stop; <see cref="InFlight"/> searches running now.
/// </summary>
public sealed record ProblemCounts(long Done, long Completed, long Failed, long Skipped, long Abandoned, long InvalidLines, int InFlight);

public sealed record QueueDepths(int Problems, int ProblemCapacity, int Trees, int TreeCapacity);
