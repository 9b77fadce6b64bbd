using System.Diagnostics;
using Reasoner.Core.Trees;

namespace Reasoner.Generation;

/// <summary>Counters of one pipeline run, updated from its stages and read by progress displays and /status.</summary>
public sealed class GenerationProgress
{
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private long _completed, _failed, _skipped, _abandoned, _invalidLines, _nodes, _correct;
    private long _expected = -1;

    /// <summary>Problems this run is meant to finish (after sharding), when the sources are finite and known; enables the ETA.</summary>
    public void SetExpected(int problems) => Interlocked.Exchange(ref _expected, problems);

    public void TreeStored(PreferenceTree tree)
    {
        Interlocked.Increment(ref tree.Status == TreeStatus.Completed ? ref _completed : ref _failed);
        Interlocked.Add(ref _nodes, tree.Nodes.Count);
        if (tree.HasCorrectPath) Interlocked.Increment(ref _correct);
    }

    /// <summary>A problem already stored (by an earlier run, or earlier in this one) was not searched again.</summary>
    public void Skipped() => Interlocked.Increment(ref _skipped);

    /// <summary>A search cut off by a stop after its grace period; the problem is searched again by the next run.</summary>
    public void Abandoned() => Interlocked.Increment(ref _abandoned);

    public void AddInvalidLines(int lines) => Interlocked.Add(ref _invalidLines, lines);

    public ProgressSnapshot Snapshot()
    {
        var expected = Interlocked.Read(ref _expected);
        return new ProgressSnapshot(_clock.Elapsed, Interlocked.Read(ref _completed), Interlocked.Read(ref _failed),
            Interlocked.Read(ref _skipped), Interlocked.Read(ref _abandoned), Interlocked.Read(ref _invalidLines),
            Interlocked.Read(ref _nodes), Interlocked.Read(ref _correct), expected < 0 ? null : expected);
    }
}

/// <summary>
/// Progress at one moment. Rates count this run's trees over this run's time; <see cref="CorrectPathShare"/> is the
/// share of completed trees with a root-to-terminal path that reaches the right answer.
/// </summary>
public sealed record ProgressSnapshot(TimeSpan Elapsed, long Completed, long Failed, long Skipped, long Abandoned, long InvalidLines,
    long Nodes, long CorrectPaths, long? Expected)
{
    public long Searched => Completed + Failed;

    public double TreesPerMinute => Elapsed > TimeSpan.Zero ? Searched / Elapsed.TotalMinutes : 0;

    public double NodesPerSecond => Elapsed > TimeSpan.Zero ? Nodes / Elapsed.TotalSeconds : 0;

    public double? CorrectPathShare => Completed > 0 ? (double)CorrectPaths / Completed : null;

    /// <summary>Problems still to search, when known.</summary>
    public long? Remaining => Expected is { } e ? Math.Max(0, e - Searched - Skipped) : null;

    /// <summary>Time left at this run's rate so far; null until a tree is stored or when the total is unknown.</summary>
    public TimeSpan? Eta => Remaining is { } left && Searched > 0 ? Elapsed / Searched * left : null;
}
