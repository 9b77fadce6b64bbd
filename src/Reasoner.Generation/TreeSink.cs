using Microsoft.Extensions.Logging;
using Reasoner.Core.Storage;
using Reasoner.Core.Trees;

namespace Reasoner.Generation;

/// <summary>Where the pipeline's one writer puts finished trees. Called from one task at a time.</summary>
public interface ITreeSink : IDisposable
{
    /// <summary>Problems whose completed trees are already stored: a resumed run skips them.</summary>
    IReadOnlySet<string> StoredProblemIds();

    void Append(PreferenceTree tree);

    /// <summary>Trees the writer found queued together; a store gives them one flush (group commit).</summary>
    void Append(IReadOnlyList<PreferenceTree> trees)
    {
        foreach (var tree in trees) Append(tree);
    }

    /// <summary>Pushes appended trees out of the process, and to the disk where the store's settings ask for fsync.</summary>
    void Flush();
}

/// <summary>A run's <see cref="TreeStore"/>, appending through this process's own segment writer.</summary>
public sealed class TreeStoreSink(TreeStore store, bool fsync, ILogger logger) : ITreeSink
{
    public static TreeStoreSink Open(string runDirectory, TreeStoreWriterOptions options, ILogger logger) =>
        new(TreeStore.Open(runDirectory, options), options.Flush.ToDisk, logger);

    public IReadOnlySet<string> StoredProblemIds() =>
        store.StoredProblemIds(d => logger.LogWarning("skipped damaged record: {File} at offset {Offset}: {Reason}", d.File, d.Offset, d.Reason));

    public void Append(PreferenceTree tree) => store.Append(tree);

    public void Append(IReadOnlyList<PreferenceTree> trees) => store.Append(trees);

    public void Flush() => store.Flush(fsync);

    public void Dispose() => store.Dispose();
}

public static class StoreErrors
{
    private const int Enospc = 28;                          // Linux and macOS errno, which .NET reports as the HResult
    private const int ErrorDiskFull = unchecked((int)0x80070070);
    private const int ErrorHandleDiskFull = unchecked((int)0x80070027);

    public static bool IsDiskFull(Exception e) => e is IOException { HResult: Enospc or ErrorDiskFull or ErrorHandleDiskFull };
}
