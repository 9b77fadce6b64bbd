using Microsoft.Extensions.Logging;
using Reasoner.Core.Datasets;
using Reasoner.Core.Problems;
using Reasoner.Core.Tasks;

namespace Reasoner.Generation;

/// <summary>
/// A problem on its way through the pipeline. <see cref="Settled"/> hears once that the problem needs nothing more in
/// this run: true when its completed tree is stored and flushed (or it was stored before, or belongs to another shard),
/// false when its search failed. A problem abandoned by a stop is never settled. A source that redelivers failed
/// problems itself (a work queue) passes <see cref="Failed"/>: it hears the failed search's error, and the pipeline then
/// forgets that it took the problem, so that a redelivery is searched again rather than skipped as a repeat.
/// </summary>
public sealed record ProblemItem(Problem Problem, Action<bool>? Settled = null, Action<string>? Failed = null);

/// <summary>Where problems come from: a list, a built-in generator, a data-set file, a watched folder.</summary>
public interface IProblemSource
{
    /// <summary>Names the source in logs and /status.</summary>
    string Name { get; }

    /// <summary>The source's problems; an endless source ends only when <paramref name="cancel"/> fires.</summary>
    IAsyncEnumerable<ProblemItem> ReadAsync(CancellationToken cancel);
}

/// <summary>Problems known up front, e.g. the first N of a generator or a loaded file.</summary>
public sealed class ProblemListSource(string name, IReadOnlyList<Problem> problems) : IProblemSource
{
    public string Name { get; } = name;

    public IReadOnlyList<Problem> Problems { get; } = problems;

    public IAsyncEnumerable<ProblemItem> ReadAsync(CancellationToken cancel) =>
        Problems.Select(p => new ProblemItem(p)).ToAsyncEnumerable();
}

/// <summary>A built-in task's endless train stream, in the order its seed fixes (so a restart meets the same problems first).</summary>
public sealed class BuiltinStreamSource(string task, int seed, int difficulty) : IProblemSource
{
    public string Name => $"{task} (train stream, seed {seed})";

    public IAsyncEnumerable<ProblemItem> ReadAsync(CancellationToken cancel) =>
        BuiltinTasks.Generate(task, Split.Train, seed, difficulty).Select(p => new ProblemItem(p)).ToAsyncEnumerable();
}

/// <summary>A data-set file, read when the source starts; malformed lines are logged and skipped, an unreadable file is logged and skipped.</summary>
public sealed class DatasetFileSource(string path, string format, ILogger logger, GenerationProgress progress) : IProblemSource
{
    public string Name => $"file:{path}";

    public IAsyncEnumerable<ProblemItem> ReadAsync(CancellationToken cancel) =>
        Problems().Select(p => new ProblemItem(p)).ToAsyncEnumerable();

    // Loads on the first read, so that a service starts before its files are read.
    private IEnumerable<Problem> Problems()
    {
        DatasetLoadResult loaded;
        try
        {
            loaded = DatasetFiles.Load(path, format, logger);
        }
        catch (Exception e) when (DatasetFiles.IsFileError(e))
        {
            logger.LogError("skipped problem file {File}: {Reason}", path, e.Message);
            yield break;
        }
        progress.AddInvalidLines(loaded.Skipped.Count);
        foreach (var problem in loaded.Problems) yield return problem;
    }
}

public static class DatasetFiles
{
    /// <summary>Loads a data-set file skipping malformed lines, each logged with its file, line and field.</summary>
    public static DatasetLoadResult Load(string path, string format, ILogger logger)
    {
        var loaded = DatasetLoader.Load(path, format, skipInvalid: true);
        foreach (var skipped in loaded.Skipped) logger.LogWarning("skipped malformed problem: {Line}", skipped.Message);
        return loaded;
    }

    /// <summary>Errors that make a whole file unusable (missing, unreadable, no records, unknown format).</summary>
    public static bool IsFileError(Exception e) =>
        e is IOException or UnauthorizedAccessException or DatasetFormatException or ArgumentException;
}
